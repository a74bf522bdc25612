// End to end: the registry admin (/api/ai-gateway/models) and the settings
// admin (/api/ai-gateway/config), driven with the official openai SDK
// against a fake upstream. A change applies to the very next request.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, stopStack } from '../support/stack.js';

let upstream;
let gw;
let client;

before(async () => {
  ({ upstream, gw, client } = await startStack((url) => ({
    OPENAI_API_KEY: 'sk-openai-e2e',
    OPENAI_BASE_URL: url,
    GROQ_API_KEY: 'gsk-e2e',
    GROQ_BASE_URL: url,
    AI_GATEWAY_MAX_RETRIES: '0',
  })));
});
after(() => stopStack({ upstream, gw }));

const ask = (model, content = 'hi') =>
  client.chat.completions.create({ model, messages: [{ role: 'user', content }] }).withResponse();

test('a model added through the admin API serves at once, priced as registered; delete disables it', async () => {
  const added = await gw.admin('POST', '/api/ai-gateway/models', {
    id: 'house-model',
    provider: 'openai',
    upstream: 'gpt-4o-mini',
    price: { input: 1, output: 2 },
    capabilities: ['tools', 'streaming'],
  });
  assert.equal(added.status, 201);
  assert.equal((await added.json()).enabled, true);

  const { data, response } = await ask('house-model');
  assert.match(data.choices[0].message.content, /echo/);
  assert.equal((await upstream.requests()).at(-1).body.model, 'gpt-4o-mini');
  // 12 prompt and 5 completion tokens at 1 and 2 USD per 1M.
  assert.equal(response.headers.get('x-aigw-cost-usd'), '0.000022');

  const tools = await (await gw.admin('GET', '/api/ai-gateway/models?capability=tools')).json();
  assert.ok(tools.data.some((m) => m.id === 'house-model'));
  const vision = await (await gw.admin('GET', '/api/ai-gateway/models?capability=vision')).json();
  assert.ok(!vision.data.some((m) => m.id === 'house-model'));
  assert.ok(vision.data.every((m) => m.capabilities.includes('vision')));

  const edited = await gw.admin('PUT', '/api/ai-gateway/models/house-model', { price: { input: 2, output: 4 } });
  assert.equal(edited.status, 200);
  const { response: dearer } = await ask('house-model', 'again');
  assert.equal(dearer.headers.get('x-aigw-cost-usd'), '0.000044');

  assert.equal((await gw.admin('DELETE', '/api/ai-gateway/models/house-model')).status, 200);
  await assert.rejects(ask('house-model'), (err) => err.status === 404);
  const row = await (await gw.admin('GET', '/api/ai-gateway/models/house-model')).json();
  assert.equal(row.enabled, false);

  // Stored in KV, where every instance reads it.
  const stored = JSON.parse(await (await gw.kv()).get('config:override'));
  assert.ok(stored.models.some((m) => m.id === 'house-model' && m.enabled === false));

  const bad = await gw.admin('POST', '/api/ai-gateway/models', { id: 'x', provider: 'openai', price: { input: 'free' } });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.param, 'price.input');
  const userKey = await fetch(gw.url + '/api/ai-gateway/models/gpt-4o', {
    method: 'DELETE',
    headers: { authorization: `Bearer ${gw.key}` },
  });
  assert.equal(userKey.status, 403);
});

test('settings: the default fallback chain and the cache, changed through the API, apply to the next request', async () => {
  await upstream.reset();
  await upstream.script([{ status: 500, body: { error: { message: 'down' } } }]);
  await assert.rejects(ask('gpt-4o-mini', 'no chain'), (err) => err.status === 502);

  const put = await gw.admin('PUT', '/api/ai-gateway/config', {
    default_fallbacks: ['llama-3.3-70b-versatile'],
    cache_enabled: true,
    cache_ttl_seconds: 120,
  });
  assert.equal(put.status, 200);
  const settings = (await put.json()).settings;
  assert.deepEqual(settings.default_fallbacks, ['llama-3.3-70b-versatile']);
  assert.equal(settings.cache_enabled, true);

  await upstream.script([{ status: 500, body: { error: { message: 'down' } } }]);
  const { response } = await ask('gpt-4o-mini', 'with chain');
  assert.equal(response.headers.get('x-aigw-provider'), 'groq');
  assert.equal(response.headers.get('x-aigw-cache'), 'MISS');
  const { response: again } = await ask('gpt-4o-mini', 'with chain');
  assert.equal(again.headers.get('x-aigw-cache'), 'HIT');

  const bad = await gw.admin('PUT', '/api/ai-gateway/config', { cache_ttl_seconds: 1 });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.param, 'cache_ttl_seconds');
  const got = await (await gw.admin('GET', '/api/ai-gateway/config')).json();
  assert.equal(got.settings.cache_ttl_seconds, 120);

  const reset = await gw.admin('PUT', '/api/ai-gateway/config', { default_fallbacks: null, cache_enabled: null });
  assert.deepEqual((await reset.json()).settings.default_fallbacks, []);
});
