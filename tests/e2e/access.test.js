// End to end: keys, limits and budgets through miniflare with the real ledger
// Durable Object and KV, the openai SDK as the client.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import OpenAI from 'openai';
import { startFakeUpstream } from '../support/fake_upstream.js';
import { startGateway } from '../support/gateway.js';

let upstream;
let gw;

const ASK = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 };

// Decimal USD -> 10^-12 units as a BigInt, exactly.
function pico(decimal) {
  const [whole, frac = ''] = String(decimal).split('.');
  return BigInt(whole) * 10n ** 12n + BigInt((frac + '0'.repeat(12)).slice(0, 12));
}

async function newKey(spec) {
  const res = await gw.admin('POST', '/api/v1/ai/admin/keys', spec);
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()).key;
}

function chat(key, body = ASK, headers = {}) {
  return fetch(gw.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify(body),
  });
}

before(async () => {
  upstream = await startFakeUpstream();
  gw = await startGateway({ OPENAI_API_KEY: 'sk-test-e2e', OPENAI_BASE_URL: upstream.url });
});

after(async () => {
  await gw?.close();
  await upstream?.close();
});

describe('keys', () => {
  test('lifecycle: create, use with the SDK, list without the secret, revoke, expire', async () => {
    const key = await newKey({ tenantId: 'acme', userId: 'bob', name: 'laptop' });
    assert.match(key, /^aigw_sk_[0-9a-f]{40}$/);
    const client = new OpenAI({ apiKey: key, baseURL: gw.url + '/v1', maxRetries: 0 });
    const answer = await client.chat.completions.create(ASK);
    assert.equal(answer.choices[0].message.content, 'echo: hi');

    const listing = await (await gw.admin('GET', '/api/v1/ai/admin/keys?tenantId=acme')).text();
    assert.ok(!listing.includes(key), 'the key is never listed');
    const mine = JSON.parse(listing).data.find((k) => k.userId === 'bob');
    assert.equal(mine.prefix, key.slice(0, 12));
    const kv = await gw.kv();
    for (const { name } of (await kv.list()).keys) assert.ok(!(await kv.get(name)).includes(key), `${name} holds only a digest`);

    const revoked = await gw.admin('DELETE', `/api/v1/ai/admin/keys/${mine.id}`);
    assert.equal(revoked.status, 200);
    await assert.rejects(client.chat.completions.create(ASK), (err) => err.status === 401 && err.code === 'invalid_api_key');

    const brief = await newKey({ tenantId: 'acme', userId: 'eve', expiresAt: Date.now() + 1500 });
    assert.equal((await chat(brief)).status, 200);
    await new Promise((r) => setTimeout(r, 1600));
    const expired = await chat(brief);
    assert.equal(expired.status, 401);
    const unknown = await chat('aigw_sk_' + '0'.repeat(40));
    assert.deepEqual((await expired.json()).error.message, (await unknown.json()).error.message);
  });

  test('tenant A cannot read, spend or list anything of tenant B; user keys cannot reach admin routes', async () => {
    assert.equal((await gw.admin('PUT', '/api/v1/ai/admin/tenants/globex', { name: 'Globex' })).status, 200);
    const acmeAdmin = await newKey({ tenantId: 'acme', role: 'admin' });
    const globexUser = await newKey({ tenantId: 'globex', userId: 'hank' });
    const as = (key, method, path, body) =>
      fetch(gw.url + path, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
    assert.equal((await as(acmeAdmin, 'GET', '/api/v1/ai/admin/keys?tenantId=globex')).status, 403);
    assert.equal((await as(acmeAdmin, 'POST', '/api/v1/ai/admin/keys', { tenantId: 'globex' })).status, 403);
    assert.equal((await as(acmeAdmin, 'GET', '/api/budget/current-usage?tenantId=globex')).status, 403);
    assert.equal((await as(acmeAdmin, 'POST', '/api/budget/config', { tenantId: 'globex', type: 'USD', limit: 1 })).status, 403);
    const acmeKeys = await (await as(acmeAdmin, 'GET', '/api/v1/ai/admin/keys')).json();
    assert.ok(acmeKeys.data.every((k) => k.tenantId === 'acme'));
    const userOnAdmin = await as(globexUser, 'GET', '/api/v1/ai/admin/keys');
    assert.equal(userOnAdmin.status, 403);
    assert.equal((await userOnAdmin.json()).error.code, 'admin_required');
    // globex's spend lands in globex's ledger.
    assert.equal((await chat(globexUser)).status, 200);
    const globex = await (await gw.admin('GET', '/api/budget/current-usage?tenantId=globex')).json();
    assert.equal(globex.tenant.totalRequests, 1);
  });
});

describe('limits', () => {
  test('headers count down across a burst, then a 429 with Retry-After', async () => {
    const key = await newKey({ tenantId: 'acme', userId: 'burst', limits: { rpm: 5, tpm: 100000 } });
    const remaining = [];
    for (let i = 0; i < 5; i++) {
      const res = await chat(key);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-ratelimit-limit-requests'), '5');
      assert.equal(res.headers.get('x-ratelimit-limit-tokens'), '100000');
      assert.match(res.headers.get('x-ratelimit-reset-requests'), /^\d+(ms|s|m\d+s)$/);
      assert.match(res.headers.get('server-timing'), /^auth;dur=\d+, ledger;dur=\d+$/);
      remaining.push(Number(res.headers.get('x-ratelimit-remaining-requests')));
    }
    assert.deepEqual(remaining, [4, 3, 2, 1, 0]);
    const client = new OpenAI({ apiKey: key, baseURL: gw.url + '/v1', maxRetries: 0 });
    await assert.rejects(client.chat.completions.create(ASK), (err) => {
      assert.equal(err.status, 429);
      assert.equal(err.code, 'rate_limit_exceeded');
      const header = (name) => err.headers?.get?.(name) ?? err.headers?.[name];
      assert.ok(Number(header('retry-after')) >= 1);
      assert.equal(header('x-ratelimit-remaining-requests'), '0');
      return true;
    });
  });

  test('50 concurrent requests against a budget with room for 10: at most 10 served, spend is exact', async () => {
    assert.equal((await gw.admin('PUT', '/api/v1/ai/admin/tenants/budgeted', {})).status, 200);
    const key = await newKey({ tenantId: 'budgeted', userId: 'spender' });
    // One call elsewhere tells the price of this request.
    const probe = await chat(gw.key);
    const unit = pico(probe.headers.get('x-aigw-cost-usd'));
    assert.ok(unit > 0n);
    const limit = unit * 10n;
    const limitText = `${limit / 10n ** 12n}.${(limit % 10n ** 12n).toString().padStart(12, '0')}`;
    const set = await gw.admin('POST', '/api/budget/config', { tenantId: 'budgeted', type: 'USD', limit: limitText, period: 'monthly', pauseAtLimit: true });
    assert.equal(set.status, 201, await set.clone().text());

    const results = await Promise.all(Array.from({ length: 50 }, () => chat(key)));
    const served = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    assert.equal(served.length + refused.length, 50);
    assert.ok(served.length >= 1 && served.length <= 10, `served ${served.length}`);
    for (const r of refused) assert.equal((await r.json()).error.code, 'insufficient_quota');
    const charged = served.reduce((sum, r) => sum + pico(r.headers.get('x-aigw-cost-usd')), 0n);

    // Settles run just after each response; wait until none is in flight.
    let usage;
    for (let i = 0; i < 50; i++) {
      usage = await (await gw.admin('GET', '/api/budget/current-usage?tenantId=budgeted')).text();
      if (JSON.parse(usage).inFlightRequests === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const used = usage.match(/"used":([0-9.]+)/)[1];
    assert.equal(pico(used), charged, `ledger ${used} vs served ${charged}`);
    assert.ok(pico(used) <= limit);
  });

  test('bad input gets a 4xx naming the field and changes no counter', async () => {
    const before = await (await gw.admin('GET', '/api/budget/current-usage?tenantId=acme')).text();
    const cases = [
      ['POST', '/api/v1/ai/admin/keys', { tenantId: 'acme', limits: { rpm: -5 } }, 'limits.rpm'],
      ['POST', '/api/v1/ai/admin/keys', { tenantId: 'acme', limits: { tpm: 1e30 } }, 'limits.tpm'],
      ['POST', '/api/v1/ai/admin/keys', { tenantId: 'nobody' }, 'tenantId'],
      ['POST', '/api/budget/config', { tenantId: 'acme', type: 'USD', limit: 5, period: 'fortnightly' }, 'period'],
      ['POST', '/api/budget/config', { tenantId: 'acme', type: 'USD', limit: 'lots' }, 'limit'],
      ['PUT', '/api/v1/ai/admin/quotas/alice', { tenantId: 'acme', limits: { dailyRequests: -1 } }, 'limits.dailyRequests'],
    ];
    for (const [method, path, body, param] of cases) {
      const res = await gw.admin(method, path, body);
      const err = (await res.json()).error;
      assert.ok(res.status >= 400 && res.status < 500, `${path} ${JSON.stringify(body)} -> ${res.status}`);
      assert.equal(err.param, param);
    }
    for (const headers of [{ authorization: 'Basic abc' }, { authorization: 'Bearer' }, { 'x-api-key': 'k'.repeat(8000) }]) {
      const res = await fetch(gw.url + '/v1/chat/completions', { method: 'POST', headers, body: JSON.stringify(ASK) });
      assert.equal(res.status, 401);
      assert.equal((await res.json()).error.code, 'invalid_api_key');
    }
    const after = await (await gw.admin('GET', '/api/budget/current-usage?tenantId=acme')).text();
    assert.equal(JSON.parse(after).tenant.totalRequests, JSON.parse(before).tenant.totalRequests);
  });
});

describe('persistence', () => {
  test('the ledger survives a restart of the runtime', async () => {
    const dir = mkdtempSync(tmpdir() + '/aigw-ledger-');
    try {
      let first = await startGateway({ OPENAI_API_KEY: 'sk-test-e2e', OPENAI_BASE_URL: upstream.url }, { persist: dir });
      const key = first.key;
      await first.admin('POST', '/api/budget/config', { tenantId: 'acme', type: 'tokens', limit: 100000, period: 'daily' });
      const client = new OpenAI({ apiKey: key, baseURL: first.url + '/v1', maxRetries: 0 });
      for (let i = 0; i < 3; i++) await client.chat.completions.create(ASK);
      await new Promise((r) => setTimeout(r, 200));
      const before = await (await first.admin('GET', '/api/budget/current-usage?tenantId=acme')).json();
      assert.equal(before.tenant.totalRequests, 3);
      await first.close();

      const second = await startGateway({ OPENAI_API_KEY: 'sk-test-e2e', OPENAI_BASE_URL: upstream.url }, { persist: dir, key: false });
      try {
        const afterRestart = await (await second.admin('GET', '/api/budget/current-usage?tenantId=acme')).json();
        assert.equal(afterRestart.tenant.totalRequests, 3);
        assert.deepEqual(afterRestart.budgets[0].used, before.budgets[0].used);
        const again = new OpenAI({ apiKey: key, baseURL: second.url + '/v1', maxRetries: 0 });
        await again.chat.completions.create(ASK);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
