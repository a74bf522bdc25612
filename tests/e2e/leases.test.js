// End to end: credit leases (on by default), here 5 s long
// (AI_GATEWAY_CREDIT_LEASE_MS). Requests at a pace are admitted in the
// isolate against a lease from the tenant's ledger Durable Object; limits
// still hold exactly under concurrency, a revocation arrives within a
// lease's life, and an idle lease's leftover returns through the worker's
// scheduled report job.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { providerBindings } from '../support/fake_upstream.js';
import { startStack, stopStack } from '../support/stack.js';

let upstream;
let gw;

before(async () => {
  ({ upstream, gw } = await startStack((url, up) => ({ ...providerBindings(up), AI_GATEWAY_CREDIT_LEASE_MS: '5000' })));
});
after(() => stopStack({ upstream, gw }));

test('200 concurrent requests against a quota with room for exactly 10: at most 10 served', async () => {
  const created = await gw.admin('POST', '/api/v1/ai/admin/keys', { tenantId: 'acme', userId: 'bob' });
  const { key } = await created.json();
  const set = await gw.admin('PUT', '/api/v1/ai/admin/quotas/bob', { tenantId: 'acme', limits: { dailyRequests: 10 } });
  assert.equal(set.status, 200);
  const openai = new OpenAI({ apiKey: key, baseURL: gw.url + '/v1', maxRetries: 0 });
  // A few first, in turn, so the isolate holds a lease when the burst comes.
  let served = 0;
  for (let i = 0; i < 3; i++) {
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    served++;
  }
  const burst = await Promise.allSettled(
    Array.from({ length: 200 }, () => openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })),
  );
  served += burst.filter((r) => r.status === 'fulfilled').length;
  const refused = burst.filter((r) => r.status === 'rejected');
  assert.ok(served <= 10, `served ${served}`);
  assert.ok(served >= 3);
  for (const r of refused) assert.equal(r.reason.status, 429);
  const upstreamCalls = (await upstream.requests()).filter((r) => r.path === '/v1/chat/completions').length;
  assert.ok(upstreamCalls <= 10, `the provider was called ${upstreamCalls} times`);
});

test('after the first request the isolate admits against its lease: no ledger wait on the way', async () => {
  const openai = new OpenAI({ apiKey: gw.key, baseURL: gw.url + '/v1', maxRetries: 0 });
  const timings = [];
  for (let i = 0; i < 8; i++) {
    const { response } = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    timings.push(response.headers.get('server-timing'));
  }
  for (const t of timings) assert.match(t, /^auth;dur=\d+, ledger;dur=\d+$/);
  // The isolate's own counters say how each was admitted.
  const metrics = await (await gw.admin('GET', '/metrics')).text();
  const count = (via) => Number(metrics.match(new RegExp(`^aigw_admissions_total\\{via="${via}"\\} (\\d+)$`, 'm'))?.[1]);
  assert.ok(count('lease') >= 5, metrics);
  assert.ok(count('ledger') >= 2);
  assert.match(metrics, /^aigw_credit_leases_total\{result="granted"\} [1-9]/m);
});

test('a revoked key is refused within a lease lifetime (here 5 s), as the README promises', async () => {
  const created = await gw.admin('POST', '/api/v1/ai/admin/keys', { tenantId: 'acme', userId: 'carol' });
  const { key, id } = await created.json();
  const openai = new OpenAI({ apiKey: key, baseURL: gw.url + '/v1', maxRetries: 0 });
  const ask = () => openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
  for (let i = 0; i < 3; i++) await ask(); // the isolate now holds a lease for this key
  assert.equal((await gw.admin('DELETE', `/api/v1/ai/admin/keys/${id}`)).status, 200);
  const revokedAt = Date.now();
  let refusedAfter = null;
  while (Date.now() - revokedAt < 15000) {
    try {
      await ask();
    } catch (err) {
      assert.equal(err.status, 401);
      refusedAfter = Date.now() - revokedAt;
      break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(refusedAfter !== null && refusedAfter <= 6000, `refused after ${refusedAfter} ms`);
});

test('an idle lease returns what it did not use when it stops admitting: the budget holds exactly what was served', async () => {
  const created = await gw.admin('POST', '/api/v1/ai/admin/keys', { tenantId: 'acme', userId: 'dora' });
  const { key } = await created.json();
  const budget = { tenantId: 'acme', userId: 'dora', type: 'USD', limit: 5, period: 'daily', pauseAtLimit: true };
  assert.equal((await gw.admin('POST', '/api/budget/config', budget)).status, 201);
  const openai = new OpenAI({ apiKey: key, baseURL: gw.url + '/v1', maxRetries: 0 });
  let spent = 0;
  for (let i = 0; i < 6; i++) {
    const { response } = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    spent += Number(response.headers.get('x-aigw-cost-usd'));
  }
  const usage = async () => (await fetch(gw.url + '/api/budget/current-usage', { headers: { authorization: `Bearer ${key}` } })).json();
  const during = await usage();
  assert.ok(during.inFlightRequests >= 1, 'the isolate holds a lease after the burst');
  // No request after it: the worker's timer runs the report job when the lease stops admitting.
  let after = during;
  for (let waited = 0; waited < 12000 && after.inFlightRequests > 0; waited += 500) {
    await new Promise((r) => setTimeout(r, 500));
    after = await usage();
  }
  assert.equal(after.inFlightRequests, 0, 'the lease was reported');
  const used = after.budgets.find((b) => b.userId === 'dora').used;
  assert.ok(Math.abs(used - spent) < 1e-12, `the budget holds ${used}, what was served cost ${spent}`);
  assert.equal(after.user.dailyRequests, 6);
});
