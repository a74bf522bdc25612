// End to end: saved model preferences in D1 (miniflare's, with the
// repository's migrations applied) and the `preference` routing policy,
// driven with the official openai SDK against a fake upstream.
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
  }), { clientOptions: { defaultHeaders: { 'x-aigw-routing': 'preference' } } }));
});
after(() => stopStack({ upstream, gw }));

const preferences = (method, path = '', body) =>
  fetch(gw.url + '/api/v1/ai/preferences' + path, {
    method,
    headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

const ask = () => client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).withResponse();

test('a saved preference routes the user\'s requests, is counted, and deleting it restores the requested model', async () => {
  await upstream.reset();
  const saved = await preferences('PUT', '', { provider: 'groq', model: 'llama-3.3-70b-versatile' });
  assert.equal(saved.status, 200);
  assert.equal((await saved.json()).usage_count, 0);

  const { response } = await ask();
  assert.equal(response.headers.get('x-aigw-provider'), 'groq');
  assert.match(response.headers.get('x-aigw-route'), /^preference; groq\/llama-3\.3-70b-versatile>openai\/gpt-4o-mini$/);
  assert.equal((await upstream.requests()).at(-1).body.model, 'llama-3.3-70b-versatile');

  // The use is counted after the response; the row is D1's.
  let row;
  for (let i = 0; i < 50; i++) {
    row = (await (await preferences('GET')).json()).data[0];
    if (row.usage_count === 1) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(row.usage_count, 1);
  assert.equal(typeof row.last_used_at, 'number');
  const stored = await gw.sql('SELECT provider, model, usage_count FROM user_preferences');
  assert.deepEqual(stored, [{ provider: 'groq', model: 'llama-3.3-70b-versatile', usage_count: 1 }]);

  const deleted = await preferences('DELETE', '/default');
  assert.deepEqual(await deleted.json(), { object: 'preference.deleted', context: 'default', deleted: 1 });
  const { response: after } = await ask();
  assert.equal(after.headers.get('x-aigw-provider'), 'openai');
});

test('a preference for a model the gateway cannot serve is refused and nothing is stored', async () => {
  const refused = await preferences('PUT', '', { provider: 'anthropic', model: 'claude-haiku-4-5' });
  assert.equal(refused.status, 400);
  const { error } = await refused.json();
  assert.equal(error.param, 'provider');
  assert.equal(error.code, 'provider_not_configured');
  const unknown = await preferences('PUT', '', { provider: 'openai', model: 'gpt-9' });
  assert.equal(unknown.status, 404);
  assert.equal((await unknown.json()).error.param, 'model');
  assert.deepEqual((await (await preferences('GET')).json()).data, []);
});
