// End to end: the response cache through miniflare (real workerd, KV and D1)
// with the official openai SDK against the fake upstream: MISS then HIT with
// one upstream call, stream replay, expiry, invalidation, tenant scoping,
// bad entries, and single flight across concurrent requests.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { ADMIN_KEY } from '../support/gateway.js';
import { startStack, stopStack } from '../support/stack.js';

let upstream;
let gw;
let client;

// AI_CACHE_MEMORY_MS=0: every lookup reads KV, which these tests change
// behind the gateway's back (the in-memory copy is covered natively).
before(async () => {
  ({ upstream, gw, client } = await startStack((url) => ({
    OPENAI_API_KEY: 'sk-openai-e2e',
    OPENAI_BASE_URL: url,
    AI_CACHE_ENABLED: 'true',
    AI_CACHE_MEMORY_MS: '0',
  })));
});
after(() => stopStack({ upstream, gw }));

let counter = 0;
// A question no other test asked (entries outlive tests).
const fresh = () => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `question ${++counter} at ${Date.now()}` }] });
const upstreamCalls = async () => (await upstream.requests()).filter((r) => r.path.endsWith('/chat/completions')).length;
const cacheAdmin = (method, path = '') =>
  fetch(`${gw.url}/api/ai-gateway/cache${path}${path.includes('?') ? '&' : '?'}tenantId=acme`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });

async function streamed(request, headers = {}) {
  const { data: stream, response } = await client.chat.completions.create({ ...request, stream: true }, { headers }).withResponse();
  let text = '';
  let chunks = 0;
  let finish = null;
  for await (const chunk of stream) {
    chunks++;
    text += chunk.choices[0]?.delta?.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  return { text, chunks, finish, cache: response.headers.get('x-aigw-cache') };
}

test('a repeated request is a HIT: the upstream saw one request and the answer is the same', async () => {
  await upstream.reset();
  const request = fresh();
  const first = await client.chat.completions.create(request).withResponse();
  assert.equal(first.response.headers.get('x-aigw-cache'), 'MISS');
  const second = await client.chat.completions.create({ messages: request.messages, model: request.model }).withResponse();
  assert.equal(second.response.headers.get('x-aigw-cache'), 'HIT');
  assert.equal(second.data.choices[0].message.content, first.data.choices[0].message.content);
  for (const field of ['prompt_tokens', 'completion_tokens', 'total_tokens'])
    assert.equal(second.data.usage[field], first.data.usage[field]);
  assert.equal(second.response.headers.get('x-aigw-cost-usd'), '0');
  assert.equal(await upstreamCalls(), 1);
});

test('a streamed answer is stored and replayed as SSE equal to the original stream', async () => {
  await upstream.reset();
  const request = fresh();
  const original = await streamed(request);
  assert.equal(original.cache, 'MISS');
  const replay = await streamed(request);
  assert.equal(replay.cache, 'HIT');
  assert.equal(replay.text, original.text);
  assert.equal(replay.finish, original.finish);
  assert.ok(replay.chunks > 2, 'replayed in several chunks');
  // The non-streamed form of the same request is the same entry.
  const plain = await client.chat.completions.create(request).withResponse();
  assert.equal(plain.response.headers.get('x-aigw-cache'), 'HIT');
  assert.equal(plain.data.choices[0].message.content, original.text);
  assert.equal(await upstreamCalls(), 1);
});

test('entries carry a KV expiry; an expired or corrupted entry is a MISS and is replaced', async () => {
  await upstream.reset();
  const request = fresh();
  await client.chat.completions.create(request, { headers: { 'x-aigw-cache-ttl': '120' } });
  const kv = await gw.kv();
  const mine = [];
  for (const k of (await kv.list({ prefix: 'cache:acme:' })).keys)
    if ((await kv.get(k.name)).includes(request.messages[0].content)) mine.push(k);
  assert.equal(mine.length, 1);
  assert.ok(Math.abs(mine[0].expiration - (Date.now() / 1000 + 120)) < 10, 'expires after the requested TTL');

  const stored = JSON.parse(await kv.get(mine[0].name));
  await kv.put(mine[0].name, JSON.stringify({ ...stored, expires_ms: Date.now() - 1 }));
  const expired = await client.chat.completions.create(request).withResponse();
  assert.equal(expired.response.headers.get('x-aigw-cache'), 'MISS');
  await kv.put(mine[0].name, '{"v":1,"key":"not this one"');
  const corrupted = await client.chat.completions.create(request).withResponse();
  assert.equal(corrupted.response.headers.get('x-aigw-cache'), 'MISS');
  assert.equal(corrupted.response.status, 200);
  assert.equal(JSON.parse(await kv.get(mine[0].name)).key, mine[0].name.split(':').at(-1), 'replaced with a good entry');
  const hit = await client.chat.completions.create(request).withResponse();
  assert.equal(hit.response.headers.get('x-aigw-cache'), 'HIT');
  assert.equal(await upstreamCalls(), 3);
});

test('invalidation: one entry, then all of the tenant\'s', async () => {
  await upstream.reset();
  const a = fresh();
  const b = fresh();
  await client.chat.completions.create(a);
  await client.chat.completions.create(b);
  await client.chat.completions.create(a);
  // Hits are written at most once a second, by the instance's next request.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await client.chat.completions.create(b);
  const listed = await (await cacheAdmin('GET', `?q=${encodeURIComponent(a.messages[0].content)}`)).json();
  assert.equal(listed.data.length, 1);
  assert.equal(listed.data[0].hits, 1);
  assert.equal(listed.data[0].prompt_preview, a.messages[0].content);
  assert.ok(listed.data[0].ttl_seconds > 3500);
  assert.equal((await cacheAdmin('DELETE', `/${listed.data[0].key}`)).status, 200);
  assert.equal((await client.chat.completions.create(a).withResponse()).response.headers.get('x-aigw-cache'), 'MISS');
  assert.equal((await client.chat.completions.create(b).withResponse()).response.headers.get('x-aigw-cache'), 'HIT');
  const cleared = await (await cacheAdmin('DELETE')).json();
  assert.ok(cleared.deleted >= 2);
  assert.equal((await client.chat.completions.create(b).withResponse()).response.headers.get('x-aigw-cache'), 'MISS');
});

test('another tenant never gets this tenant\'s answer', async () => {
  await upstream.reset();
  const request = fresh();
  await client.chat.completions.create(request);
  assert.equal((await gw.admin('PUT', '/api/v1/ai/admin/tenants/globex', { name: 'Globex' })).status, 200);
  const created = await (await gw.admin('POST', '/api/v1/ai/admin/keys', { tenantId: 'globex', userId: 'gina' })).json();
  const other = new OpenAI({ apiKey: created.key, baseURL: gw.url + '/v1', maxRetries: 0 });
  const theirs = await other.chat.completions.create(request).withResponse();
  assert.equal(theirs.response.headers.get('x-aigw-cache'), 'MISS');
  assert.equal(await upstreamCalls(), 2);
});

test('10 identical concurrent requests make one upstream call; all get the answer', async () => {
  await upstream.reset();
  await upstream.script([{ delay_ms: 400 }]);
  const request = fresh();
  const answers = await Promise.all(
    Array.from({ length: 10 }, () => client.chat.completions.create(request).withResponse()),
  );
  assert.equal(await upstreamCalls(), 1);
  const statuses = answers.map((a) => a.response.headers.get('x-aigw-cache')).sort();
  assert.deepEqual(statuses, ['HIT', 'HIT', 'HIT', 'HIT', 'HIT', 'HIT', 'HIT', 'HIT', 'HIT', 'MISS']);
  for (const a of answers) assert.equal(a.data.choices[0].message.content, answers[0].data.choices[0].message.content);
});
