// End to end: credit leases on (AI_GATEWAY_CREDIT_LEASES). Requests after the
// first are admitted in the isolate against a lease from the tenant's
// ledger Durable Object; limits still hold exactly under concurrency.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { providerBindings } from '../support/fake_upstream.js';
import { startStack, stopStack } from '../support/stack.js';

let upstream;
let gw;

before(async () => {
  ({ upstream, gw } = await startStack((url, up) => ({ ...providerBindings(up), AI_GATEWAY_CREDIT_LEASES: 'true' })));
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
  assert.match(timings[0], /ledger;dur=/, 'the first waits for the ledger');
  assert.ok(timings.slice(1).some((t) => !/ledger;dur=/.test(t)), `later ones are admitted in the isolate: ${timings.join(' | ')}`);
});

test('a revoked key is refused within a lease lifetime (30 s), as the README promises', async () => {
  const created = await gw.admin('POST', '/api/v1/ai/admin/keys', { tenantId: 'acme', userId: 'carol' });
  const { key, id } = await created.json();
  const openai = new OpenAI({ apiKey: key, baseURL: gw.url + '/v1', maxRetries: 0 });
  const ask = () => openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
  for (let i = 0; i < 3; i++) await ask(); // the isolate now holds a lease for this key
  assert.equal((await gw.admin('DELETE', `/api/v1/ai/admin/keys/${id}`)).status, 200);
  const revokedAt = Date.now();
  let refusedAfter = null;
  while (Date.now() - revokedAt < 40000) {
    try {
      await ask();
    } catch (err) {
      assert.equal(err.status, 401);
      refusedAfter = Date.now() - revokedAt;
      break;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.ok(refusedAfter !== null && refusedAfter <= 32000, `refused after ${refusedAfter} ms`);
});
