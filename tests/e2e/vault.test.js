// End to end: provider keys entered through the admin API (as the Setup
// page does) and kept sealed in KV by the real worker's WebCrypto; the
// official SDK as the client, the fake upstream seeing which key each
// tenant's call carries; a refused tenant key; the master key rotated across
// restarts of the same stores; no key anywhere but sealed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import OpenAI from 'openai';
import { startFakeUpstream } from '../support/fake_upstream.js';
import { ADMIN_KEY, startGateway } from '../support/gateway.js';

const master = (fill) => `${Buffer.alloc(32, fill).toString('base64')}`;
const K1 = `k1:${master(7)}`;
const K2 = `k2:${master(9)}`;
const GATEWAY_KEY = 'sk-VAULTSCAN-gateway-0123456789abcdef';
const ACME_KEY = 'sk-VAULTSCAN-acme-own-9876543210ABCD';

let upstream;
let gw;
let dir;
const logs = [];
const seen = [];

const start = (encryptionKey) =>
  startGateway(
    { GATEWAY_ENCRYPTION_KEY: encryptionKey, OPENAI_BASE_URL: upstream.url, AI_GATEWAY_MAX_RETRIES: '0', AI_KEY_CACHE_MS: '0' },
    { persist: dir, logs, key: !gw },
  );

before(async () => {
  upstream = await startFakeUpstream();
  dir = await mkdtemp(tmpdir() + '/aigw-vault-');
  gw = await start(K1);
});

after(async () => {
  await gw?.close();
  await upstream?.close();
  await rm(dir, { recursive: true, force: true });
});

async function call(method, path, body, key = ADMIN_KEY) {
  const res = await fetch(gw.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  seen.push(JSON.stringify([...res.headers]) + text);
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const client = (key) => new OpenAI({ apiKey: key, baseURL: gw.url + '/v1', maxRetries: 0 });
const ask = (key, content = 'hi') => client(key).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] });
async function lastAuthorization() {
  const received = await upstream.requests();
  return received.filter((r) => r.path === '/v1/chat/completions').at(-1)?.headers.authorization;
}

let acmeAdmin;
let globexUser;

test('a gateway key entered through the admin API answers real calls, masked everywhere after', async () => {
  // No OPENAI_API_KEY (a base URL of its own makes the key optional): until a key is entered, calls carry none.
  await ask(gw.key);
  assert.equal(await lastAuthorization(), undefined);

  const put = await call('PUT', '/api/v1/ai/admin/credentials/openai', { key: GATEWAY_KEY });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.hint, '…cdef');
  assert.equal(put.body.key_id, 'k1');
  const answer = await ask(gw.key);
  assert.equal(answer.object, 'chat.completion');
  assert.equal(await lastAuthorization(), `Bearer ${GATEWAY_KEY}`);

  const list = await call('GET', '/api/v1/ai/admin/credentials');
  assert.deepEqual(list.body.data.map((k) => [k.provider, k.hint]), [['openai', '…cdef']]);
  const sealed = await (await gw.kv()).get('vault:gateway');
  assert.ok(sealed && !sealed.includes(GATEWAY_KEY), 'stored sealed');
});

test("a tenant's own key serves that tenant; others keep the gateway's; another tenant's are out of reach", async () => {
  assert.equal((await call('PUT', '/api/v1/ai/admin/tenants/globex', { name: 'Globex' })).status, 200);
  acmeAdmin = (await call('POST', '/api/v1/ai/admin/keys', { tenantId: 'acme', role: 'admin' })).body.key;
  globexUser = (await call('POST', '/api/v1/ai/admin/keys', { tenantId: 'globex', userId: 'hank' })).body.key;

  const put = await call('PUT', '/api/v1/ai/admin/credentials/openai', { key: ACME_KEY }, acmeAdmin);
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.scope, 'tenant');
  await ask(gw.key);
  assert.equal(await lastAuthorization(), `Bearer ${ACME_KEY}`);
  await ask(globexUser);
  assert.equal(await lastAuthorization(), `Bearer ${GATEWAY_KEY}`);

  // Another tenant's keys: neither readable nor settable by acme's admin.
  assert.equal((await call('GET', '/api/v1/ai/admin/credentials?tenantId=globex', undefined, acmeAdmin)).status, 403);
  assert.equal((await call('PUT', '/api/v1/ai/admin/credentials/openai', { key: ACME_KEY, tenantId: 'globex' }, acmeAdmin)).status, 403);
  const bad = await call('PUT', '/api/v1/ai/admin/credentials/openai', { key: 'has spaces in it' }, acmeAdmin);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.param, 'key');
});

test('a tenant key the provider refuses reaches the SDK as a 403 naming it', async () => {
  await upstream.script([{ status: 401, body: { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error' } } }]);
  await assert.rejects(ask(gw.key, 'refused'), (err) => {
    assert.equal(err.status, 403);
    assert.equal(err.code, 'provider_key_rejected');
    assert.match(err.message, /…ABCD/);
    return true;
  });
});

// Usage rows reach D1 through the queue about a second after their request;
// a restart drops what the local queue still holds.
async function rowsWritten(n) {
  for (let i = 0; i < 100 && (await gw.sql('SELECT COUNT(*) AS n FROM gateway_usage_logs'))[0].n < n; i++)
    await new Promise((r) => setTimeout(r, 100));
}

test('the master key rotates across deployments and every key keeps working', async () => {
  await rowsWritten(5);
  await gw.close();
  gw = await start(`${K2},${K1}`);
  const rotated = await call('POST', '/api/v1/ai/admin/credentials/rotate');
  assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
  assert.equal(rotated.body.key_id, 'k2');
  assert.equal(rotated.body.rewrapped, 2);
  await gw.close();
  gw = await start(K2); // k1 is gone
  await ask(globexUser);
  assert.equal(await lastAuthorization(), `Bearer ${GATEWAY_KEY}`);
  const list = await call('GET', '/api/v1/ai/admin/credentials?tenantId=acme');
  assert.deepEqual(list.body.data.map((k) => k.key_id), ['k2']);
});

test('no response, log line, D1 row or KV value holds a stored key', async () => {
  await rowsWritten(6);
  const rows = await gw.sql('SELECT key_source FROM gateway_usage_logs WHERE key_source IS NOT NULL');
  assert.ok(rows.some((r) => r.key_source === 'tenant') && rows.some((r) => r.key_source === 'gateway'), JSON.stringify(rows));
  const kv = await gw.kv();
  const stored = [];
  for (const { name } of (await kv.list()).keys) stored.push(name + (await kv.get(name)));
  stored.push(JSON.stringify(await gw.sql('SELECT * FROM gateway_usage_logs')));
  for (const value of [GATEWAY_KEY, ACME_KEY])
    for (const [where, texts] of [['responses', seen], ['logs', logs], ['stores', stored]]) {
      const leak = texts.find((t) => t.includes(value));
      assert.equal(leak, undefined, `a stored key leaked into ${where}: ${leak?.slice(0, 200)}`);
    }
});
