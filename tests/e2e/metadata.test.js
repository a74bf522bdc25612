// End to end: an app labels its requests with x-aigw-metadata through the
// official SDK's default headers; the labels reach D1 with the usage rows
// (through the queue) and filter and group the analytics and costs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startFakeUpstream } from '../support/fake_upstream.js';
import { startGateway } from '../support/gateway.js';

let upstream;
let gw;

before(async () => {
  upstream = await startFakeUpstream();
  gw = await startGateway({ OPENAI_API_KEY: 'sk-e2e', OPENAI_BASE_URL: upstream.url });
});

after(async () => {
  await gw?.close();
  await upstream?.close();
});

const client = (metadata) =>
  new OpenAI({ apiKey: gw.key, baseURL: gw.url + '/v1', maxRetries: 0, defaultHeaders: { 'x-aigw-metadata': JSON.stringify(metadata) } });
const ask = (c) => c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

test('labels ride with the usage rows and filter and group what the API reads', async () => {
  const support = client({ phone: '+5511999990000', team: 'support', conversation_id: 'c-1' });
  const sales = client({ phone: '+5521888880000', team: 'sales' });
  for (let i = 0; i < 3; i++) await ask(support);
  await ask(sales);
  for (let i = 0; i < 100 && (await gw.sql('SELECT COUNT(*) AS n FROM gateway_usage_logs'))[0].n < 4; i++)
    await new Promise((r) => setTimeout(r, 100));
  const rows = await gw.sql('SELECT metadata, conversation_id FROM gateway_usage_logs ORDER BY created_at');
  assert.equal(rows.length, 4);
  assert.deepEqual(JSON.parse(rows[0].metadata), { conversation_id: 'c-1', phone: '+5511999990000', team: 'support' });
  assert.equal(rows[0].conversation_id, 'c-1');

  const read = async (path) => (await fetch(gw.url + path, { headers: { authorization: `Bearer ${gw.key}` } })).json();
  assert.equal((await read('/api/v1/ai/metrics?metadata.team=support')).totals.requests, 3);
  assert.equal((await read(`/api/v1/ai/metrics?metadata.phone=${encodeURIComponent('+5521888880000')}`)).totals.requests, 1);
  const costs = await (await gw.admin('GET', '/api/v1/ai/admin/costs?tenantId=acme&groupBy=metadata.team')).json();
  assert.deepEqual(costs.by_metadata.data.map((g) => [g.value, g.requests]).sort(), [['sales', 1], ['support', 3]]);

  // A label the gateway cannot take is the client's 400, named, and nothing is called.
  const before = (await upstream.requests()).length;
  await assert.rejects(ask(new OpenAI({ apiKey: gw.key, baseURL: gw.url + '/v1', maxRetries: 0, defaultHeaders: { 'x-aigw-metadata': '{"nested":{"a":1}}' } })), (err) => {
    assert.equal(err.status, 400);
    assert.equal(err.param, 'x-aigw-metadata');
    return true;
  });
  assert.equal((await upstream.requests()).length, before);
});
