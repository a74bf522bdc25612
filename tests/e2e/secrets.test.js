// End to end: provider keys never leak. With recognisable key values, drive
// successes, streams, errors (including an upstream that echoes the key),
// cache entries and admin reads, then scan every response, log line, D1 row,
// KV value and stored body (R2) for them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeUpstream } from '../support/fake_upstream.js';
import { ADMIN_KEY, startGateway } from '../support/gateway.js';

const SECRETS = {
  OPENAI_API_KEY: 'sk-SECRETSCAN-openai-0123456789abcdef',
  ANTHROPIC_API_KEY: 'sk-ant-SECRETSCAN-anthropic-0123456789',
  GROQ_API_KEY: 'gsk_SECRETSCAN_groq_0123456789',
};

let upstream;
let gw;
const logs = [];
const seen = [];

before(async () => {
  upstream = await startFakeUpstream();
  gw = await startGateway(
    {
      ...SECRETS,
      OPENAI_BASE_URL: upstream.url,
      ANTHROPIC_BASE_URL: upstream.url,
      GROQ_BASE_URL: upstream.url,
      AI_CACHE_ENABLED: 'true',
      AI_GATEWAY_MAX_RETRIES: '0',
    },
    { logs },
  );
  // The tenant keeps its bodies, so they are scanned too.
  assert.equal((await gw.admin('PUT', '/api/v1/ai/admin/tenants/acme', { storeBodies: true })).status, 200);
  for (let i = 0; i < 100 && !(await (await gw.kv()).get('ledger:acme'))?.includes('"store_bodies":true'); i++)
    await new Promise((r) => setTimeout(r, 50));
});

after(async () => {
  await gw?.close();
  await upstream?.close();
});

async function call(method, path, body, key = gw.key) {
  const res = await fetch(gw.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  seen.push(JSON.stringify([...res.headers]) + (await res.text()));
  return res.status;
}

test('no response, log line, D1 row, KV value or stored body contains a provider key', async () => {
  const ask = (model, extra = {}) => call('POST', '/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }], ...extra });
  assert.equal(await ask('gpt-4o-mini'), 200);
  assert.equal(await ask('gpt-4o-mini'), 200); // a cache hit
  assert.equal(await ask('claude-haiku-4-5'), 200);
  assert.equal(await ask('gpt-4o-mini', { stream: true, messages: [{ role: 'user', content: 'stream' }] }), 200);
  // Upstreams that echo the key back in their errors.
  await upstream.script([
    { status: 401, body: { error: { message: `Incorrect API key provided: ${SECRETS.OPENAI_API_KEY}`, type: 'invalid_request_error' } } },
    { status: 500, body: `internal error for ${SECRETS.GROQ_API_KEY}` },
  ]);
  assert.equal(await ask('gpt-4o-mini', { messages: [{ role: 'user', content: 'refused' }] }), 502);
  assert.equal(await ask('llama-3.1-8b-instant', { messages: [{ role: 'user', content: 'broken' }] }), 502);
  await call('POST', '/v1/messages', { model: 'claude-haiku-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] });
  // Echoed outside an error body: in a 200 stream's error event (the key
  // split across two writes), in a 200 body, and in a response header.
  const key = SECRETS.ANTHROPIC_API_KEY;
  const cut = 9;
  await upstream.script([
    {
      headers: { 'request-id': `req_${key}` },
      stream_body: [
        'event: message_start\ndata: {"type":"message_start","message":{"id":"m","usage":{"input_tokens":3,"output_tokens":0}}}\n\n',
        `event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"overloaded for key ${key.slice(0, cut)}`,
        `${key.slice(cut)}"}}\n\n`,
      ],
    },
    { headers: { 'x-request-id': `req_${SECRETS.OPENAI_API_KEY}` } },
  ]);
  assert.equal(await ask('claude-haiku-4-5', { stream: true, messages: [{ role: 'user', content: 'echo in stream' }] }), 200);
  assert.ok(seen.at(-1).includes('overloaded for key [redacted]'), seen.at(-1));
  assert.equal(await ask('gpt-4o-mini', { messages: [{ role: 'user', content: 'echo in header' }] }), 200);
  assert.ok(seen.at(-1).includes('req_[redacted]'), seen.at(-1));
  // The public health view carries no provider error text at all; the admin view does, redacted.
  const health = await (await fetch(gw.url + '/api/v1/ai/health?history=true')).json();
  for (const p of health.providers) {
    assert.equal('last_error' in p, false, `public health shows ${p.id}'s last error`);
    for (const probe of p.history ?? []) assert.equal('error' in probe, false);
  }
  const providers = await (await fetch(gw.url + '/api/v1/ai/admin/providers', { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).json();
  const anthropic = providers.data.find((p) => p.id === 'anthropic');
  assert.match(anthropic.last_error, /overloaded for key \[redacted\]/);
  for (const path of ['/api/v1/ai/health?history=true', '/api/v1/ai/admin/providers', '/api/v1/ai/models', '/metrics',
    '/api/v1/ai/metrics?tenantId=acme', '/api/ai-gateway/cache?tenantId=acme', '/api/v1/ai/admin/tenants/acme'])
    await call('GET', path, undefined, ADMIN_KEY);
  // Rows and stores are written after the responses (usage rows through the queue, batched each second).
  for (let i = 0; i < 100 && (await gw.sql('SELECT COUNT(*) AS n FROM gateway_usage_logs'))[0].n < 7; i++)
    await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 500));

  const kv = await gw.kv();
  const stored = [];
  for (const { name } of (await kv.list()).keys) stored.push(name + (await kv.get(name)));
  const bucket = await gw.bodies();
  const bodies = (await bucket.list()).objects;
  assert.ok(bodies.length >= 5, 'the bodies were stored');
  for (const { key } of bodies) stored.push(key + (await (await bucket.get(key)).text()));
  for (const table of ['gateway_usage_logs', 'cache_entries', 'user_preferences', 'd1_migrations'])
    stored.push(JSON.stringify(await gw.sql(`SELECT * FROM ${table}`)));
  assert.ok((await gw.sql('SELECT COUNT(*) AS n FROM gateway_usage_logs'))[0].n >= 7, 'the usage rows were written');
  assert.ok(logs.join('').length > 0, 'log lines were captured');
  // The echoed errors did reach the client (with the key redacted): the scan looks where a leak would be.
  assert.ok(seen.some((t) => t.includes('Incorrect API key provided: [redacted]')));
  assert.ok(logs.some((l) => l.includes('"event":"chat_completion"')));
  for (const [name, value] of Object.entries(SECRETS)) {
    for (const [where, texts] of [['responses', seen], ['logs', logs], ['stores', stored]]) {
      const leak = texts.find((t) => t.includes(value));
      assert.equal(leak, undefined, `${name} leaked into ${where}: ${leak?.slice(0, 200)}`);
    }
  }
});
