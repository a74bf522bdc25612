// The user's own page (My AI) in real Chromium, with no request
// interception: a tenant user signed in with their key picks a model for a
// context from the registry grouped by provider, the next request in that
// context goes to it, and their own usage shows as the API counts it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { launchChromium } from '../support/browser.js';
import { startFakeUpstream } from '../support/fake_upstream.js';
import { startGateway } from '../support/gateway.js';

const SHOTS = new URL('../../build/screenshots/', import.meta.url).pathname;

let upstream;
let gw;
let page;
let browser;

const chat = async (key, headers = {}) => {
  const res = await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.arrayBuffer();
  return res;
};
const asUser = async (path) => (await fetch(gw.url + path, { headers: { authorization: `Bearer ${gw.key}` } })).json();

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  upstream = await startFakeUpstream();
  gw = await startGateway({
    OPENAI_API_KEY: 'sk-me', GROQ_API_KEY: 'gsk-me', OPENAI_BASE_URL: upstream.url, GROQ_BASE_URL: upstream.url,
  });
  // Bob's request is his own: alice's page must not count it.
  const bob = (await (await gw.admin('POST', '/api/v1/ai/admin/keys', { tenantId: 'acme', userId: 'bob' })).json()).key;
  assert.equal((await chat(bob)).status, 200);
  assert.equal((await chat(gw.key)).status, 200);
  browser = await launchChromium({ viewport: { width: 1400, height: 1100 } });
  ({ page } = browser);
});

after(async () => {
  await browser?.close();
  await gw?.close();
  await upstream?.close();
});

test('a user picks a model for a context, the next request follows it, and their usage shows', async () => {
  await page.goto(gw.url + '/dashboard/#/me');
  await page.fill('[data-input="key"]', gw.key);
  await page.click('[data-action="sign-in"]');
  await page.waitForSelector('[data-picker="default"]');

  // The picker is the registry's chat models grouped by provider, with the API's prices and marks.
  const models = (await asUser('/api/v1/ai/models?type=chat')).data;
  const providers = [...new Set(models.map((m) => m.provider))];
  assert.deepEqual(
    await page.locator('[data-group]').evaluateAll((groups) => groups.map((g) => g.getAttribute('data-group'))),
    providers,
  );
  assert.equal(await page.locator('[data-group="openai"] [data-model]').count(), models.filter((m) => m.provider === 'openai').length);
  assert.equal(await page.locator('[data-recommended]').count(), models.filter((m) => m.recommended).length);
  const mini = models.find((m) => m.id === 'gpt-4o-mini');
  assert.match(await page.locator('[data-group="openai"] [data-model="gpt-4o-mini"]').innerText(),
    new RegExp(`\\$${mini.pricing.input} · \\$${mini.pricing.output}`));
  // Health as a colour, as /health says: a provider that has answered is ok (green); one
  // without a key is not, and its models cannot be chosen.
  const health = Object.fromEntries((await asUser('/api/v1/ai/health')).providers.map((p) => [p.id, p.status]));
  assert.equal(health.openai, 'ok');
  for (const p of ['openai', 'groq', 'anthropic'])
    assert.equal(await page.locator(`[data-group="${p}"] [data-health]`).getAttribute('data-health'), health[p]);
  assert.match(await page.locator('[data-group="openai"] .dot').getAttribute('class'), /green/);
  assert.doesNotMatch(await page.locator('[data-group="anthropic"] .dot').getAttribute('class'), /green/);
  const claude = models.find((m) => m.provider === 'anthropic');
  assert.equal(claude.available, false);
  assert.equal(await page.locator(`[data-group="anthropic"] [data-model="${claude.id}"] [data-action="choose"]`).isDisabled(), true);

  // Choose a Groq model for "writing".
  await page.click('[data-context="writing"]');
  await page.waitForSelector('[data-picker="writing"]');
  await page.click('[data-picker="writing"] [data-model="llama-3.3-70b-versatile"] [data-action="choose"]');
  await page.waitForSelector('[data-current="groq/llama-3.3-70b-versatile"]');
  assert.equal(await page.locator('[data-model="llama-3.3-70b-versatile"]').getAttribute('data-selected'), 'true');
  const saved = (await asUser('/api/v1/ai/preferences')).data;
  assert.deepEqual(saved.map((p) => [p.context, p.provider, p.model]), [['writing', 'groq', 'llama-3.3-70b-versatile']]);

  // The next request in that context goes to it; one in another context does not.
  const routed = await chat(gw.key, { 'x-aigw-routing': 'preference', 'x-aigw-context': 'writing' });
  assert.equal(routed.status, 200);
  assert.equal(routed.headers.get('x-aigw-provider'), 'groq');
  assert.equal((await upstream.requests()).at(-1).body.model, 'llama-3.3-70b-versatile');
  const other = await chat(gw.key, { 'x-aigw-routing': 'preference', 'x-aigw-context': 'dictionary' });
  assert.equal(other.headers.get('x-aigw-provider'), 'openai');

  // Alice's usage: her three requests (rows reach D1 through the queue), not Bob's.
  for (let i = 0; i < 100 && (await gw.sql("SELECT COUNT(*) AS n FROM gateway_usage_logs WHERE user_id = 'alice'"))[0].n < 3; i++)
    await new Promise((r) => setTimeout(r, 100));
  await page.click('[data-action="usage-range"]');
  await page.waitForSelector('[data-kpi="my-requests"][data-value="3"]');
  const today = new Date().toISOString().slice(0, 10);
  const api = await asUser(`/api/analytics/gateway?from=${today}&to=${today}`);
  assert.equal(api.totals.requests, 3);
  assert.equal(await page.locator('[data-kpi="my-cost"]').getAttribute('data-value'), String(api.totals.cost_usd));
  assert.deepEqual(
    (await page.locator('[data-table="my-providers"] [data-provider]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-provider')))).sort(),
    ['groq', 'openai'],
  );
  await page.screenshot({ path: SHOTS + 'me.png', fullPage: true });

  // A day range with nothing in it.
  await page.fill('[data-input="usage-from"]', '2020-01-01');
  await page.fill('[data-input="usage-to"]', '2020-01-02');
  await page.click('[data-action="usage-range"]');
  await page.waitForSelector('[data-kpi="my-requests"][data-value="0"]');

  // Clearing the choice: the next request uses the model it names.
  await page.click('[data-context="writing"]');
  await page.click('[data-action="clear"]');
  await page.waitForSelector('[data-current=""]');
  const back = await chat(gw.key, { 'x-aigw-routing': 'preference', 'x-aigw-context': 'writing' });
  assert.equal(back.headers.get('x-aigw-provider'), 'openai');
});
