// The Setup page in real Chromium, with no request interception. Provider
// keys: an operator enters a key and sees it masked, a request uses it, the
// key is replaced and the next request uses the new one; a tenant's admin
// enters its own tenant's key with the fall-back switch; the page never shows
// a key after it was saved. Settings: the cache, its TTL, the routing policy
// and the default fallback chain edited in the page, a bad value refused by
// the API and shown by its field, the next request following the change.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { launchChromium } from '../support/browser.js';
import { startFakeUpstream } from '../support/fake_upstream.js';
import { ADMIN_KEY, startGateway } from '../support/gateway.js';

const SHOTS = new URL('../../build/screenshots/', import.meta.url).pathname;
const FIRST = 'sk-BROWSER-first-key-0123456789LMNO';
const SECOND = 'sk-BROWSER-second-key-9876543210PQRS';
const ACME = 'sk-BROWSER-acme-own-key-1122334455TUVW';

let upstream;
let gw;
let page;
let browser;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  upstream = await startFakeUpstream();
  gw = await startGateway({ GATEWAY_ENCRYPTION_KEY: `k1:${Buffer.alloc(32, 5).toString('base64')}`, OPENAI_BASE_URL: upstream.url });
  browser = await launchChromium({ viewport: { width: 1280, height: 1000 } });
  ({ page } = browser);
});

after(async () => {
  await browser?.close();
  await gw?.close();
  await upstream?.close();
});

async function signIn(key) {
  await page.goto(gw.url + '/dashboard/#/setup');
  await page.evaluate(() => sessionStorage.clear());
  await page.reload();
  await page.fill('[data-input="key"]', key);
  await page.click('[data-action="sign-in"]');
  await page.waitForSelector('[data-action="save-credential"]');
}

async function saveKey(provider, key) {
  await page.selectOption('[data-input="credential-provider"]', provider);
  await page.fill('[data-input="credential-key"]', key);
  await page.click('[data-action="save-credential"]');
}

async function chat(key) {
  const res = await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(res.status, 200);
  return res.headers.get('x-aigw-provider');
}

const lastAuthorization = async () =>
  (await upstream.requests()).filter((r) => r.path === '/v1/chat/completions').at(-1)?.headers.authorization;

test('an operator enters a key, sees it masked, and the next request uses it; a replaced key takes over', async () => {
  await chat(gw.key);
  assert.equal(await lastAuthorization(), undefined); // no key anywhere yet (a base URL of its own makes it optional)
  await signIn(ADMIN_KEY);
  assert.equal(await page.locator('[data-scope]').getAttribute('data-scope'), 'gateway');
  await saveKey('openai', FIRST);
  await page.waitForSelector('[data-credential="openai"] [data-hint="…LMNO"]');
  assert.equal(await page.inputValue('[data-input="credential-key"]'), '', 'the field is cleared once saved');
  assert.ok(!(await page.content()).includes(FIRST), 'the key is on the page');
  await chat(gw.key);
  assert.equal(await lastAuthorization(), `Bearer ${FIRST}`);

  await saveKey('openai', SECOND);
  await page.waitForSelector('[data-credential="openai"] [data-hint="…PQRS"]');
  await chat(gw.key);
  assert.equal(await lastAuthorization(), `Bearer ${SECOND}`);
  // The master key rewrap: nothing to do while every key is under the current one.
  await page.click('[data-action="rotate-credentials"]');
  await page.waitForSelector('[data-rotation="0"]');
  // The providers table now counts OpenAI as configured.
  await page.reload();
  await page.waitForSelector('[data-table="setup"] [data-row="openai"][data-configured="true"]');
  await page.screenshot({ path: SHOTS + 'setup-keys.png', fullPage: true });

  // A bad key is refused by the API and the page says why.
  await saveKey('openai', 'has spaces');
  await page.waitForSelector('[role="alert"]');
  assert.match(await page.locator('[role="alert"]').innerText(), /printable characters without spaces/);
});

test("a tenant's admin enters its own key; its requests use it, the operator's keys stay hidden", async () => {
  const created = await gw.admin('POST', '/api/v1/ai/admin/keys', { tenantId: 'acme', role: 'admin' });
  const acmeAdmin = (await created.json()).key;
  await signIn(acmeAdmin);
  assert.equal(await page.locator('[data-scope]').getAttribute('data-scope'), 'tenant');
  await page.check('[data-input="credential-fallback"]');
  await saveKey('openai', ACME);
  await page.waitForSelector('[data-credential="openai"] [data-hint="…TUVW"]');
  assert.match(await page.locator('[data-credential="openai"]').innerText(), /yes/);
  const text = await page.locator('main').innerText();
  assert.ok(!text.includes('…PQRS'), "the gateway's key hint is shown to a tenant");
  assert.equal(await page.locator('[data-action="rotate-credentials"]').count(), 0);
  await chat(gw.key); // acme's user
  assert.equal(await lastAuthorization(), `Bearer ${ACME}`);
  // Deleted from the page, acme is back on the gateway's key.
  await page.click('[data-credential="openai"] [data-action="delete-credential"]');
  await page.waitForSelector('[data-credential="openai"]', { state: 'detached' });
  await chat(gw.key);
  assert.equal(await lastAuthorization(), `Bearer ${SECOND}`);
});

test('settings: edited in the page, validated by the API next to the field, followed by the next request', async () => {
  await signIn(ADMIN_KEY);
  await page.waitForSelector('[data-form="settings"]');
  // A TTL the API refuses (below 60 s) is shown by its field, and nothing is stored.
  await page.fill('[data-input="cache-ttl"]', '5');
  await page.click('[data-action="save-settings"]');
  await page.waitForSelector('[data-error-for="cache_ttl_seconds"]');
  assert.match(await page.locator('[data-error-for="cache_ttl_seconds"]').innerText(), /cache_ttl_seconds/);
  assert.equal((await (await gw.admin('GET', '/api/ai-gateway/config')).json()).override.cache_ttl_seconds, undefined);

  // The cache on with a TTL of 10 minutes, latency routing, and a chain built from the registry.
  await page.check('[data-input="cache-enabled"]');
  await page.fill('[data-input="cache-ttl"]', '600');
  await page.selectOption('[data-input="routing-policy"]', 'latency');
  for (const model of ['gpt-4o', 'claude-haiku-4-5']) {
    await page.selectOption('[data-input="fallback-model"]', model);
    await page.click('[data-action="fallback-add"]');
  }
  await page.click('[data-fallback="claude-haiku-4-5"] [data-action="fallback-up"]');
  await page.click('[data-action="save-settings"]');
  await page.waitForSelector('[data-state="saved"]');
  const { settings } = await (await gw.admin('GET', '/api/ai-gateway/config')).json();
  assert.equal(settings.cache_enabled, true);
  assert.equal(settings.cache_ttl_seconds, 600);
  assert.equal(settings.routing_policy, 'latency');
  assert.deepEqual(settings.default_fallbacks, ['claude-haiku-4-5', 'gpt-4o']);
  await page.screenshot({ path: SHOTS + 'setup-settings.png', fullPage: true });

  // The next requests follow it: the second identical one is a cache hit.
  const ask = () =>
    fetch(gw.url + '/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'cache me' }], temperature: 0 }),
    });
  assert.equal((await ask()).headers.get('x-aigw-cache'), 'MISS');
  assert.equal((await ask()).headers.get('x-aigw-cache'), 'HIT');
});

test("an operator switches a tenant's body storage on in the page, and its next request is kept", async () => {
  await signIn(ADMIN_KEY);
  await page.fill('[data-input="tenant"]', 'acme');
  await page.click('[data-action="set-tenant"]');
  await page.waitForSelector('[data-switch="store-bodies"][data-value="false"]');
  await page.click('[data-input="store-bodies"]');
  await page.waitForSelector('[data-switch="store-bodies"][data-value="true"]');
  assert.equal((await (await gw.admin('GET', '/api/v1/ai/admin/tenants/acme')).json()).storeBodies, true);
  // The tenant's snapshot carries the switch to the request path.
  for (let i = 0; i < 100 && !(await (await gw.kv()).get('ledger:acme'))?.includes('"store_bodies":true'); i++)
    await new Promise((r) => setTimeout(r, 50));
  const res = await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'keep me' }] }),
  });
  assert.equal(res.status, 200);
  const id = res.headers.get('x-request-id');
  const bucket = await gw.bodies();
  let stored = null;
  for (let i = 0; i < 100 && !stored; i++) {
    stored = (await bucket.list()).objects.find((o) => o.key.includes(id));
    if (!stored) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(stored, 'the body was stored');
  assert.match(await (await bucket.get(stored.key)).text(), /keep me/);
  await page.click('[data-input="store-bodies"]');
  await page.waitForSelector('[data-switch="store-bodies"][data-value="false"]');
});
