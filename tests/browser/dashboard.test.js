// The dashboard in a real browser: Debian's headless Chromium driven by
// playwright-core against the worker under miniflare, with seeded usage.
// Every page must show the API's own numbers; actions taken in the page
// (create and revoke a key, invalidate a cache entry, disable a model) must
// show in the API afterwards; a user key sees its tenant only. Screenshots
// of every page are kept in build/screenshots/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { launchChromium } from '../support/browser.js';
import { startFakeUpstream } from '../support/fake_upstream.js';
import { ADMIN_KEY, startGateway } from '../support/gateway.js';

const SHOTS = new URL('../../build/screenshots/', import.meta.url).pathname;
const DAY = 86400000;

let upstream;
let gw;
let context;
let page;
let browser;
const blocked = [];

// Known usage: acme 30 requests (3 failed) over four days, globex 12.
async function seedUsage() {
  const now = Date.now();
  const rows = [];
  for (let i = 0; i < 42; i++) {
    const acme = i < 30;
    rows.push({
      sql:
        'INSERT INTO gateway_usage_logs (request_id, created_at, tenant_id, user_id, api_type, provider, model, ' +
        'input_tokens, output_tokens, cost_usd_pico, latency_ms, status, cache_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      params: [
        `seed-${i}`, now - (i % 4) * DAY - 60000 - i * 1000, acme ? 'acme' : 'globex', acme ? (i % 2 ? 'alice' : 'bob') : 'gina',
        'chat_completion', i % 3 ? 'openai' : 'anthropic', i % 3 ? 'gpt-4o-mini' : 'claude-haiku-4-5', 100, 20,
        2500000 * (i + 1), 100 + i * 10, acme && i % 10 === 0 ? 500 : 200, i % 5 === 0 ? 'HIT' : 'MISS',
      ],
    });
  }
  await gw.sql('SELECT 1');
  for (const r of rows) await gw.sql(r.sql, r.params);
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  upstream = await startFakeUpstream();
  gw = await startGateway({ OPENAI_API_KEY: 'sk-openai-e2e', OPENAI_BASE_URL: upstream.url, AI_CACHE_ENABLED: 'true' });
  assert.equal((await gw.admin('PUT', '/api/v1/ai/admin/tenants/globex', { name: 'Globex' })).status, 200);
  await seedUsage();
  // A budget for acme, then one cached answer that uses most of it (17 of 20 tokens).
  const budget = await gw.admin('POST', '/api/budget/config', {
    tenantId: 'acme', type: 'tokens', limit: 20, period: 'monthly', alertThresholds: [80, 90, 100], pauseAtLimit: false,
  });
  assert.equal(budget.status, 201);
  const chat = await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What is a dashboard?' }] }),
  });
  assert.equal(chat.status, 200);

  browser = await launchChromium({ viewport: { width: 1280, height: 900 } });
  ({ context, page } = browser);
  page.on('dialog', (d) => d.accept());
  // Offline: the page may reach the gateway and nothing else.
  await context.route('**/*', (route) => {
    if (route.request().url().startsWith(gw.url)) return route.continue();
    blocked.push(route.request().url());
    return route.abort('blockedbyclient');
  });
});

after(async () => {
  await browser?.close();
  await gw?.close();
  await upstream?.close();
});

const api = async (path, key = ADMIN_KEY) =>
  (await fetch(gw.url + path, { headers: { authorization: `Bearer ${key}` } })).json();
const value = async (selector) => page.locator(selector).first().getAttribute('data-value');
const shot = (name) => page.screenshot({ path: SHOTS + `${name}.png`, fullPage: true });

// Forget any session, then reload: a goto that changes only the hash stays
// in the same document, where the app keeps whoever was signed in.
async function signIn(key) {
  await page.goto(gw.url + '/dashboard/#/analytics');
  await page.evaluate(() => sessionStorage.clear());
  await page.reload();
  await page.waitForSelector('[data-input="key"]');
  await page.fill('[data-input="key"]', key);
  await page.click('[data-action="sign-in"]');
  await page.waitForSelector('header');
}

async function setTenant(tenant) {
  await page.fill('[data-input="tenant"]', tenant);
  await page.click('[data-action="set-tenant"]');
}

async function open(name) {
  await page.click(`[data-nav="${name}"]`);
  await page.waitForSelector('main [data-state="loading"]', { state: 'detached' });
}

test('analytics shows the API\'s numbers for every tenant, then for one', async () => {
  await signIn(ADMIN_KEY);
  await page.waitForSelector('[data-kpi="requests"]');
  const all = await api('/api/v1/ai/metrics?period=7d');
  assert.equal(Number(await value('[data-kpi="requests"]')), all.totals.requests);
  assert.equal(all.totals.requests, 43); // 42 seeded + the cached request
  assert.equal(Number(await value('[data-kpi="cost"]')), all.totals.cost_usd);
  assert.equal(Number(await value('[data-kpi="p95"]')), all.totals.latency_ms.p95);
  assert.equal(Number(await value('[data-kpi="error-rate"]')), all.totals.error_rate);
  assert.equal(Number(await value('[data-kpi="cache-hit-rate"]')), all.totals.cache_hit_rate);
  for (const p of all.by_provider) {
    assert.equal(Number(await value(`[data-table="providers"] [data-row="${p.provider}"] td[data-value]`)), p.requests);
    // The provider chart's bars are the API's shares.
    const share = await page.locator(`[data-chart="providers"] [data-share="${p.provider}"]`).getAttribute('data-requests');
    assert.equal(share, ((100 * p.requests) / all.totals.requests).toFixed(1));
  }
  await page.waitForSelector('[data-chart="latency"] canvas');
  // Before any scheduled run the chart is drawn from the live daily series.
  const series = (days) => days.map((d) => `${d.day}:${d.latency_ms.p95}`).join(',');
  assert.equal(await page.locator('[data-source]').getAttribute('data-source'), 'live');
  assert.equal(await page.locator('[data-series="p95"]').textContent(), series(all.daily));
  const clients = await api('/api/ai-gateway/metrics?period=7d');
  await page.waitForSelector('[data-table="clients"]');
  for (const c of clients.top_clients)
    assert.equal(Number(await value(`[data-table="clients"] [data-row="${c.client}"] td[data-value]`)), c.requests);
  await shot('analytics-all-tenants');

  await setTenant('acme');
  await page.waitForFunction(() => document.querySelector('[data-kpi="requests"]')?.getAttribute('data-value') === '31');
  const acme = await api('/api/v1/ai/metrics?period=7d&tenantId=acme');
  assert.equal(acme.totals.requests, 31);
  assert.equal(Number(await value('[data-kpi="error-rate"]')), acme.totals.error_rate);

  // After a scheduled run it reads the daily rollups, which give the same days.
  await (await gw.mf.getWorker('gateway')).scheduled({ cron: '*/5 * * * *' });
  let rolled;
  for (let i = 0; i < 100 && !(rolled = await api('/api/v1/ai/metrics/daily?period=7d&tenantId=acme')).rolled_up_at; i++)
    await new Promise((r) => setTimeout(r, 50));
  await page.click('[data-period="30d"]');
  await page.click('[data-period="7d"]');
  await page.waitForSelector('[data-source="rollups"]');
  assert.equal(await page.locator('[data-series="p95"]').textContent(), series(rolled.daily));
  assert.equal(series(rolled.daily), series(acme.daily));

  // The period selector asks the API for that period.
  await page.click('[data-period="30d"]');
  await page.waitForSelector('[data-period="30d"].active');
  assert.equal(Number(await value('[data-kpi="requests"]')), (await api('/api/v1/ai/metrics?period=30d&tenantId=acme')).totals.requests);
  await shot('analytics');

  // Export CSV downloads what the API gives.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-action="export-csv"]')]);
  const csv = await (await import('node:fs/promises')).readFile(await download.path(), 'utf8');
  const fromApi = await (await fetch(gw.url + '/api/v1/ai/admin/costs?format=csv&period=30d&tenantId=acme', {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  })).text();
  assert.equal(csv, fromApi);
});

test('cache: entries with their savings, and invalidating one reaches the API', async () => {
  await open('cache');
  await page.waitForSelector('[data-table="cache"]');
  const listed = await api('/api/ai-gateway/cache?tenantId=acme');
  assert.equal(listed.data.length, 1);
  const key = listed.data[0].key;
  assert.equal(Number(await value('[data-kpi="entries"]')), listed.totals.live_entries);
  assert.ok(await page.locator(`[data-row="${key}"]`).isVisible());
  await shot('cache');
  // Search goes to the API's q=.
  await page.fill('[data-input="cache-search"]', 'no such prompt');
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-state="empty"]');
  await page.fill('[data-input="cache-search"]', 'dashboard');
  await page.keyboard.press('Enter');
  await page.waitForSelector(`[data-row="${key}"]`);
  await page.click(`[data-row="${key}"] [data-action="invalidate"]`);
  await page.waitForSelector('[data-state="empty"]');
  assert.equal((await api('/api/ai-gateway/cache?tenantId=acme')).data.length, 0);
});

test('models: the registry by provider; disabling a model reaches the API', async () => {
  await open('models');
  await page.waitForSelector('[data-table="models"][data-provider="openai"]');
  const row = page.locator('[data-provider="openai"] [data-row="gpt-4.1-nano"]');
  const registry = await api('/api/ai-gateway/models/gpt-4.1-nano');
  assert.equal(await row.locator('[data-value]').first().getAttribute('data-value'), `${registry.price.input}/${registry.price.output}`);
  await shot('models');
  await row.locator('[data-action="disable"]').click();
  await page.waitForSelector('[data-row="gpt-4.1-nano"][data-enabled="false"]');
  assert.equal((await api('/api/ai-gateway/models/gpt-4.1-nano')).enabled, false);
  await page.click('[data-row="gpt-4.1-nano"] [data-action="enable"]');
  await page.waitForSelector('[data-row="gpt-4.1-nano"][data-enabled="true"]');
  assert.equal((await api('/api/ai-gateway/models/gpt-4.1-nano')).enabled, true);

  // Add a model, then change its price.
  await page.click('[data-action="show-add-model"]');
  await page.fill('[data-input="model-id"]', 'house-model');
  await page.fill('[data-input="model-upstream"]', 'gpt-4o-mini');
  await page.fill('[data-input="model-input"]', '1.5');
  await page.fill('[data-input="model-output"]', '3');
  await page.click('[data-action="add-model"]');
  await page.waitForSelector('[data-row="house-model"]');
  assert.deepEqual((await api('/api/ai-gateway/models/house-model')).price, { input: 1.5, output: 3, cached_input: 1.5 });
  await page.click('[data-row="house-model"] [data-action="edit"]');
  await page.fill('[data-row="house-model"] [data-input="price-input"]', '2');
  await page.click('[data-row="house-model"] [data-action="save-price"]');
  await page.waitForSelector('[data-row="house-model"] [data-value="2/3"]');
  assert.equal((await api('/api/ai-gateway/models/house-model')).price.input, 2);
});

test('keys and budgets: a key is created (shown once) and revoked; budget bars follow the API', async () => {
  await open('keys');
  await page.waitForSelector('[data-table="keys"]');
  await page.fill('[data-input="key-user"]', 'carol');
  await page.fill('[data-input="key-name"]', 'from the dashboard');
  await page.click('[data-action="create-key"]');
  const created = await page.locator('[data-created-key]').getAttribute('data-created-key');
  assert.match(created, /^aigw_sk_/);
  const keys = (await api('/api/v1/ai/admin/keys?tenantId=acme')).data;
  const carol = keys.find((k) => k.userId === 'carol');
  assert.ok(carol && !carol.revoked);
  // The new key works, and is refused once revoked.
  const models = () => fetch(gw.url + '/v1/models', { headers: { authorization: `Bearer ${created}` } });
  assert.equal((await models()).status, 200);

  const usage = await api('/api/budget/current-usage?tenantId=acme');
  const budget = usage.budgets[0];
  assert.equal(Number(await value(`[data-progress="${budget.id}"]`)), budget.percentage);
  // 17 of 20 tokens: 85 %, yellow.
  assert.equal(await page.locator(`[data-progress="${budget.id}"]`).getAttribute('data-level'), 'yellow');
  await shot('keys');

  // A new budget appears with its bar.
  await page.fill('[data-input="budget-limit"]', '5');
  await page.selectOption('[data-input="budget-period"]', 'daily');
  await page.click('[data-action="save-budget"]');
  await page.waitForSelector('[data-progress="usd-daily"]');
  assert.ok((await api('/api/budget/config?tenantId=acme')).data.some((b) => b.id === 'usd-daily' && b.limit === 5));

  await page.click(`[data-row="${carol.id}"] [data-action="revoke"]`);
  await page.waitForSelector(`[data-row="${carol.id}"][data-revoked="true"]`);
  assert.equal((await api('/api/v1/ai/admin/keys?tenantId=acme')).data.find((k) => k.id === carol.id).revoked, true);
  assert.equal((await models()).status, 401);
});

test('providers and setup: breakers and latency from the API; the secrets still missing, by name', async () => {
  await open('providers');
  await page.waitForSelector('[data-table="providers"] [data-row="openai"]');
  const providers = (await api('/api/v1/ai/admin/providers')).data;
  const openai = providers.find((p) => p.id === 'openai');
  assert.equal(Number(await value('[data-table="providers"] [data-row="openai"] td[data-value]')), openai.requests);
  assert.ok(await page.locator('[data-breaker="openai/gpt-4o-mini"]').isVisible());
  await shot('providers');

  await open('setup');
  await page.waitForSelector('[data-table="setup"]');
  assert.equal(await page.locator('[data-row="openai"]').getAttribute('data-configured'), 'true');
  assert.equal(await page.locator('[data-row="anthropic"] [data-needs]').getAttribute('data-needs'), 'ANTHROPIC_API_KEY');
  const text = await page.locator('main').innerText();
  assert.ok(!text.includes('sk-openai-e2e'), 'a secret value reached the page');
  await shot('setup');
});

test('a user key sees only its own tenant', async () => {
  await signIn(gw.key);
  await page.waitForSelector('[data-kpi="requests"]');
  assert.equal(await page.locator('[data-who]').getAttribute('data-who'), 'acme');
  const mine = await api('/api/v1/ai/metrics?period=7d', gw.key);
  assert.equal(mine.tenantId, 'acme');
  assert.equal(Number(await value('[data-kpi="requests"]')), mine.totals.requests);
  assert.notEqual(mine.totals.requests, (await api('/api/v1/ai/metrics?period=7d')).totals.requests);
  assert.equal(await page.locator('[data-input="tenant"]').count(), 0);
  // Naming another tenant is refused by the API, and the page says so.
  await page.evaluate(() => sessionStorage.setItem('aigw_dashboard_tenant', 'globex'));
  await page.reload();
  await page.waitForSelector('[data-state="error"]');
  assert.match(await page.locator('[data-state="error"]').first().innerText(), /403/);
  await page.evaluate(() => sessionStorage.removeItem('aigw_dashboard_tenant'));
  await page.reload();
  await page.waitForSelector('[data-kpi="requests"]');
  await shot('analytics-user-key');
  // Admin pages answer plainly.
  await open('models');
  await page.waitForSelector('[data-state="error"]');
  await shot('models-user-key');
  assert.deepEqual(blocked, [], 'the dashboard fetched something from outside the gateway');
});
