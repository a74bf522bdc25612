// The Logs page in real Chromium, with no request interception: the request
// log filtered in the page as the API filters it, and a request that fell
// back opened with its failed attempt, timings and stored bodies.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { launchChromium } from '../support/browser.js';
import { startFakeUpstream } from '../support/fake_upstream.js';
import { ADMIN_KEY, startGateway } from '../support/gateway.js';

const SHOTS = new URL('../../build/screenshots/', import.meta.url).pathname;

let upstream;
let gw;
let page;
let browser;
let fellBack;

const chat = async (body, headers = {}) => {
  const res = await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
  await res.arrayBuffer();
  return res;
};

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  upstream = await startFakeUpstream();
  gw = await startGateway({
    OPENAI_API_KEY: 'sk-logs', ANTHROPIC_API_KEY: 'sk-ant-logs', OPENAI_BASE_URL: upstream.url, ANTHROPIC_BASE_URL: upstream.url,
    AI_GATEWAY_MAX_RETRIES: '0',
  });
  // The tenant keeps its bodies (R2), so a request opens with them.
  assert.equal((await gw.admin('PUT', '/api/v1/ai/admin/tenants/acme', { storeBodies: true })).status, 200);
  for (let i = 0; i < 100 && !(await (await gw.kv()).get('ledger:acme'))?.includes('"store_bodies":true'); i++)
    await new Promise((r) => setTimeout(r, 50));
  for (let i = 0; i < 3; i++) await chat({ model: 'gpt-4o-mini' }, { 'x-aigw-metadata': JSON.stringify({ team: 'support' }) });
  await upstream.script([{ status: 500, body: { error: { message: 'upstream exploded' } } }]);
  const res = await chat({ model: 'gpt-4o-mini', models: ['claude-haiku-4-5'] });
  assert.equal(res.status, 200);
  fellBack = res.headers.get('x-request-id');
  await upstream.script([{ status: 400, body: { error: { message: 'bad request upstream', type: 'invalid_request_error' } } }]);
  assert.equal((await chat({ model: 'gpt-4o-mini' })).status, 400);
  // Rows reach D1 through the queue within about a second.
  for (let i = 0; i < 100 && (await gw.sql('SELECT COUNT(*) AS n FROM gateway_usage_logs'))[0].n < 5; i++)
    await new Promise((r) => setTimeout(r, 100));
  browser = await launchChromium({ viewport: { width: 1400, height: 1000 } });
  ({ page } = browser);
});

after(async () => {
  await browser?.close();
  await gw?.close();
  await upstream?.close();
});

test('the log filters as the API does, and a request that fell back shows its failed attempt', async () => {
  await page.goto(gw.url + '/dashboard/#/logs');
  await page.fill('[data-input="key"]', ADMIN_KEY);
  await page.click('[data-action="sign-in"]');
  await page.waitForSelector('[data-table="logs"]');
  assert.equal(await page.locator('[data-log]').count(), 5);
  assert.equal(await page.locator('[data-log]').first().getAttribute('data-status'), '400'); // newest first

  await page.selectOption('[data-filter="status"]', '2xx');
  await page.click('[data-action="apply-filters"]');
  await page.waitForFunction(() => document.querySelectorAll('[data-log]').length === 4);
  await page.fill('[data-filter="meta-key"]', 'team');
  await page.fill('[data-filter="meta-value"]', 'support');
  await page.click('[data-action="apply-filters"]');
  await page.waitForFunction(() => document.querySelectorAll('[data-log]').length === 3);
  const api = await (await gw.admin('GET', '/api/v1/ai/logs?status=2xx&metadata.team=support')).json();
  assert.deepEqual(
    await page.locator('[data-log]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-log'))),
    api.data.map((r) => r.id),
  );

  await page.fill('[data-filter="meta-key"]', '');
  await page.fill('[data-filter="meta-value"]', '');
  await page.fill('[data-filter="provider"]', 'anthropic');
  await page.click('[data-action="apply-filters"]');
  await page.waitForFunction(() => document.querySelectorAll('[data-log]').length === 1);
  await page.click(`[data-log="${fellBack}"] [data-action="open-request"]`);
  await page.waitForSelector(`[data-request="${fellBack}"]`);
  assert.equal(await page.locator('[data-field="provider"]').innerText(), 'anthropic');
  assert.match(await page.locator('[data-field="route"]').innerText(), /openai\/gpt-4o-mini>anthropic/);
  const attempt = page.locator('[data-table="attempts"] [data-attempt="openai/gpt-4o-mini"]');
  assert.equal(await attempt.locator('td[data-value]').getAttribute('data-value'), '500');
  assert.match(await attempt.innerText(), /upstream exploded/);
  // Its bodies, from R2: what the client sent and what it was answered.
  await page.click('[data-action="show-bodies"]');
  await page.waitForSelector('[data-body="response"]');
  assert.deepEqual(JSON.parse(await page.locator('[data-body="request"]').innerText()).models, ['claude-haiku-4-5']);
  assert.equal(JSON.parse(await page.locator('[data-body="response"]').innerText()).object, 'chat.completion');
  await page.screenshot({ path: SHOTS + 'logs-request.png', fullPage: true });
  await page.click('[data-action="close-request"]');
  await page.waitForSelector('[data-table="logs"]');
});
