// End to end: the request log's bodies in miniflare's R2 (GATEWAY_BODIES),
// for a tenant that stores them: a stream from the official openai SDK kept
// reassembled and read back through the log, a request that opts out, a key
// a client pasted into its prompt scrubbed, and the cron's retention.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_KEY } from '../support/gateway.js';
import { startStack, stopStack } from '../support/stack.js';

const OPENAI_KEY = 'sk-bodies-e2e-0123456789abcdef';

let upstream;
let gw;
let client;

const until = async (check, what) => {
  for (let i = 0; i < 100; i++) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
};
const objects = async () => {
  const bucket = await gw.bodies();
  const out = [];
  for (const { key } of (await bucket.list()).objects) out.push({ key, text: await (await bucket.get(key)).text() });
  return out;
};
const asUser = (path, key = gw.key) => fetch(gw.url + path, { headers: { authorization: `Bearer ${key}` } });

before(async () => {
  ({ upstream, gw, client } = await startStack((url) => ({
    OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: url, AI_GATEWAY_BODY_RETENTION_DAYS: '1',
  })));
  const on = await gw.admin('PUT', '/api/v1/ai/admin/tenants/acme', { storeBodies: true });
  assert.equal(on.status, 200);
  assert.equal((await on.json()).storeBodies, true);
  // The switch reaches requests through the tenant's snapshot in KV.
  await until(async () => (await (await gw.kv()).get('ledger:acme'))?.includes('"store_bodies":true'), 'the snapshot');
});
after(() => stopStack({ upstream, gw }));

test('a stream is kept reassembled and read back through the log; an opted-out request is not kept', async () => {
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'stream please' }],
  }).withResponse();
  let text = '';
  for await (const chunk of stream.data) text += chunk.choices[0]?.delta?.content ?? '';
  const id = stream.response.headers.get('x-request-id');
  const { response: skipped } = await client.chat.completions
    .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'not this one' }] }, { headers: { 'x-aigw-log-body': 'false' } })
    .withResponse();
  const skippedId = skipped.headers.get('x-request-id');

  const stored = await until(async () => {
    const all = await objects();
    return all.length >= 1 && (await gw.sql('SELECT COUNT(*) AS n FROM gateway_usage_logs'))[0].n >= 2 && all;
  }, 'the body and the rows');
  assert.equal(stored.length, 1);
  assert.match(stored[0].key, new RegExp(`^bodies/\\d{4}-\\d{2}-\\d{2}/acme/${id}\\.json$`));

  const log = await (await asUser(`/api/v1/ai/logs/${id}`)).json();
  assert.deepEqual(log.body, { stored: true, url: `/api/v1/ai/logs/${id}/body` });
  const res = await asUser(log.body.url);
  assert.equal(res.status, 200);
  const doc = await res.json();
  assert.equal(doc.response_format, 'reassembled');
  assert.equal(doc.request.messages[0].content, 'stream please');
  assert.equal(doc.response.object, 'chat.completion');
  assert.equal(doc.response.choices[0].message.content, text);

  assert.equal((await (await asUser(`/api/v1/ai/logs/${skippedId}`)).json()).body.stored, false);
  const none = await asUser(`/api/v1/ai/logs/${skippedId}/body`);
  assert.equal(none.status, 404);
  assert.equal((await none.json()).error.code, 'body_not_found');
  // Another user of the tenant cannot read it.
  const bob = (await (await gw.admin('POST', '/api/v1/ai/admin/keys', { tenantId: 'acme', userId: 'bob' })).json()).key;
  assert.equal((await asUser(log.body.url, bob)).status, 404);
});

test('a provider key a client pasted into its prompt is scrubbed from the stored body, as is the admin key', async () => {
  const { response } = await client.chat.completions
    .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `my keys: ${OPENAI_KEY} and ${ADMIN_KEY}` }] })
    .withResponse();
  const id = response.headers.get('x-request-id');
  const stored = await until(async () => (await objects()).find((o) => o.key.includes(id)), 'the body');
  assert.ok(stored.text.includes('my keys: [redacted] and [redacted]'), stored.text.slice(0, 300));
  for (const o of await objects()) {
    assert.equal(o.text.includes(OPENAI_KEY), false, `the provider key is in ${o.key}`);
    assert.equal(o.text.includes(ADMIN_KEY), false, `the admin key is in ${o.key}`);
  }
});

test('the scheduled run deletes bodies past their retention', async () => {
  const bucket = await gw.bodies();
  await bucket.put('bodies/2020-01-01/acme/aigw_old.json', '{}');
  const before = (await bucket.list()).objects.length;
  const worker = await gw.mf.getWorker('gateway');
  await worker.scheduled({ cron: '*/5 * * * *' });
  await until(async () => (await bucket.list()).objects.length === before - 1, 'the expired body to go');
  assert.equal(await bucket.get('bodies/2020-01-01/acme/aigw_old.json'), null);
});
