// End to end: the scheduled run in miniflare (the worker's `scheduled`
// handler) keeps the daily rollups, syncs prices from PRICING_URL and posts
// the health alert to GATEWAY_ALERT_WEBHOOK_URL, a secret URL the core
// never sees. A local server plays the pricing source and the webhook.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import OpenAI from 'openai';
import { startFakeUpstream } from '../support/fake_upstream.js';
import { startGateway } from '../support/gateway.js';

const HOOK_TOKEN = 'hook-secret-token-5f1e9c';

let upstream;
let gw;
let client;
let side;
const hooks = [];
const logs = [];
let prices = { models: [{ id: 'gpt-4o-mini', price: { input: 3, output: 6 } }] };

before(async () => {
  side = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/prices.json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(prices));
      }
      if (req.method === 'POST' && req.url === `/hooks/${HOOK_TOKEN}`) {
        hooks.push(JSON.parse(body));
        res.writeHead(204);
        return res.end();
      }
      res.writeHead(404);
      res.end();
    });
  });
  await new Promise((r) => side.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${side.address().port}`;
  upstream = await startFakeUpstream();
  gw = await startGateway(
    {
      OPENAI_API_KEY: 'sk-openai-e2e',
      OPENAI_BASE_URL: upstream.url,
      AI_GATEWAY_MAX_RETRIES: '0',
      PRICING_URL: `${base}/prices.json`,
      GATEWAY_ALERT_WEBHOOK_URL: `${base}/hooks/${HOOK_TOKEN}`,
    },
    { logs },
  );
  client = new OpenAI({ apiKey: gw.key, baseURL: gw.url + '/v1', maxRetries: 0 });
});

after(async () => {
  await gw?.close();
  await upstream?.close();
  await new Promise((r) => side?.close(r));
});

// Runs the cron trigger and waits for the job it leaves running.
async function runCron() {
  const worker = await gw.mf.getWorker('gateway');
  await worker.scheduled({ cron: '*/5 * * * *' });
}

async function until(check, what) {
  for (let i = 0; i < 100; i++) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('a scheduled run rolls up usage, syncs prices and posts the error-rate alert', async () => {
  // Alert on this small sample: 5 requests at least, more than 10% failed.
  const put = await gw.admin('PUT', '/api/ai-gateway/config', { alert_min_requests: 5 });
  assert.equal(put.status, 200);
  for (let i = 0; i < 6; i++) await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `ok ${i}` }] });
  await upstream.script([{ status: 500, body: { error: { message: 'down' } } }, { status: 500, body: { error: { message: 'down' } } }]);
  for (let i = 0; i < 2; i++)
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `fail ${i}` }] }));
  await until(async () => (await gw.sql('SELECT COUNT(*) AS n FROM gateway_usage_logs'))[0].n === 8, 'usage rows');

  await runCron();
  const hook = await until(() => hooks[0], 'the alert webhook');
  assert.equal(hook.event, 'gateway.alert');
  assert.equal(hook.alerts[0].alert, 'error_rate');
  assert.equal(hook.alerts[0].state, 'firing');
  assert.equal(hook.window.requests, 8);
  assert.equal(hook.window.errors, 2);

  // Today's rollup matches the live metrics.
  const daily = await until(async () => {
    const d = await (await gw.admin('GET', '/api/v1/ai/metrics/daily')).json();
    return d.daily.length > 0 ? d : null;
  }, 'the rollup');
  const live = await (await gw.admin('GET', '/api/v1/ai/metrics')).json();
  assert.equal(daily.daily.at(-1).requests, 8);
  assert.deepEqual(daily.daily.at(-1).latency_ms, live.daily.at(-1).latency_ms);

  // The synced price applies to the next request: 12 prompt and 5 completion tokens at 3 and 6 USD per 1M.
  const settings = await until(async () => {
    const s = await (await gw.admin('GET', '/api/ai-gateway/config')).json();
    return s.pricing_sync ? s : null;
  }, 'the pricing sync');
  assert.equal(settings.pricing_sync.status, 'ok');
  assert.equal(settings.pricing_sync.updated, 1);
  const { response } = await client.chat.completions
    .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'priced' }] })
    .withResponse();
  assert.equal(response.headers.get('x-aigw-cost-usd'), '0.000066');

  // The webhook's URL (with its token) stays out of the core: not in any log line, D1 row or KV value.
  const kv = await gw.kv();
  const values = [];
  for (const { name } of (await kv.list()).keys) values.push(await kv.get(name));
  const rows = JSON.stringify(await gw.sql('SELECT * FROM gateway_usage_logs'));
  for (const text of [logs.join(''), rows, values.join('\n')]) assert.ok(!text.includes(HOOK_TOKEN));
});
