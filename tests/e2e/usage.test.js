// End to end: the usage ledger in D1 (miniflare's, migrations applied).
// Every client request leaves exactly one row, written after the response;
// a stream the client abandons is recorded with what it was sent.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, stopStack } from '../support/stack.js';

// What the fake upstream streams (tests/fixtures/openai/chat_stream.sse).
const WHOLE_ANSWER = 'Hello from the fake upstream éè 😀.';

let upstream;
let gw;

before(async () => {
  ({ upstream, gw } = await startStack((url) => ({
    OPENAI_API_KEY: 'sk-openai-e2e',
    OPENAI_BASE_URL: url,
    METRICS_TOKEN: 'e2e-metrics-token',
  })));
});
after(() => stopStack({ upstream, gw }));

async function rowsOnceSettled(where, expected) {
  let rows = [];
  for (let i = 0; i < 200; i++) {
    rows = await gw.sql(`SELECT * FROM gateway_usage_logs WHERE ${where}`);
    if (rows.length >= expected) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return rows;
}

test('100 concurrent streams, half abandoned by their clients: exactly 100 rows, tokens as delivered', async () => {
  await upstream.reset();
  // Slow enough that the gateway notices a client leaving before its stream
  // ends (about 1.5 s of margin, also when the machine is busy).
  await upstream.script(Array.from({ length: 100 }, () => ({ chunk_delay_ms: 300 })));
  const conversation = `conv-${Date.now()}`;
  const delivered = await Promise.all(
    Array.from({ length: 100 }, async (_, i) => {
      const ac = new AbortController();
      const res = await fetch(gw.url + '/v1/chat/completions', {
        method: 'POST',
        headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json', 'x-aigw-conversation-id': conversation },
        body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: `stream ${i}` }] }),
        signal: ac.signal,
      });
      const id = res.headers.get('x-request-id');
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let text = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          text += decoder.decode(value, { stream: true });
          // The odd ones leave once the first words have arrived.
          if (i % 2 === 1 && text.includes('"content":"Hello')) {
            ac.abort();
            break;
          }
        }
      } catch {}
      return { id, aborted: i % 2 === 1, done: text.includes('[DONE]') };
    }),
  );
  const rows = await rowsOnceSettled(`conversation_id = '${conversation}'`, 100);
  assert.equal(rows.length, 100);
  const byId = new Map(rows.map((r) => [r.request_id, r]));
  const complete = delivered.filter((d) => !d.aborted).map((d) => byId.get(d.id));
  const abandoned = delivered.filter((d) => d.aborted).map((d) => byId.get(d.id));
  assert.ok(complete.every((r) => r && r.status === 200 && r.stream === 1 && r.usage_estimated === 0));
  const full = complete[0].output_tokens;
  assert.ok(full > 0 && complete.every((r) => r.output_tokens === full), 'completed streams carry the provider usage');
  // An abandoned stream never got the provider's usage: its row counts what the gateway had sent
  // (estimated at 4 bytes a token), never more than the whole answer.
  const whole = Math.ceil(new TextEncoder().encode(WHOLE_ANSWER).length / 4);
  for (const r of abandoned) {
    assert.equal(r.status, 499);
    assert.equal(r.error_class, 'client_cancelled');
    assert.equal(r.usage_estimated, 1);
    assert.ok(r.output_tokens > 0 && r.output_tokens <= whole, `abandoned: ${r.output_tokens} of at most ${whole} tokens`);
  }
});

test('a refused request and a bad one are rows too, attributed to the key', async () => {
  const conversation = `conv-bad-${Date.now()}`;
  const res = await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json', 'x-aigw-conversation-id': conversation },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: 'nope' }),
  });
  assert.equal(res.status, 400);
  const [row] = await rowsOnceSettled(`conversation_id = '${conversation}'`, 1);
  assert.equal(row.status, 400);
  assert.equal(row.tenant_id, 'acme');
  assert.equal(row.user_id, 'alice');
  assert.equal(row.error_class, 'invalid_type');
});

test('metrics read the same ledger: totals, percentiles, per provider, for the key\'s own tenant', async () => {
  const res = await fetch(gw.url + '/api/v1/ai/metrics?period=7d', { headers: { authorization: `Bearer ${gw.key}` } });
  assert.equal(res.status, 200);
  const m = await res.json();
  assert.equal(m.tenantId, 'acme');
  assert.ok(m.totals.requests >= 101);
  assert.ok(m.totals.errors >= 51, 'abandoned streams and the bad request');
  assert.equal(typeof m.totals.latency_ms.p95, 'number');
  assert.ok(m.totals.latency_ms.p50 <= m.totals.latency_ms.p95 && m.totals.latency_ms.p95 <= m.totals.latency_ms.p99);
  assert.equal(m.by_provider[0].provider, 'openai');
  assert.ok(m.daily.length >= 1);
  const other = await fetch(gw.url + '/api/v1/ai/metrics?tenantId=globex', { headers: { authorization: `Bearer ${gw.key}` } });
  assert.equal(other.status, 403);
});

test('GET /metrics gives Prometheus text to METRICS_TOKEN, and nothing to a virtual key', async () => {
  const res = await fetch(gw.url + '/metrics', { headers: { authorization: 'Bearer e2e-metrics-token' } });
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.match(text, /^# HELP aigw_requests_total /m);
  assert.match(text, /^aigw_requests_total\{tenant="acme",provider="openai",model="gpt-4o-mini",status="2xx",cache="BYPASS"\} \d+$/m);
  assert.match(text, /^aigw_request_latency_ms\{quantile="0.95"\} \d+$/m);
  const refused = await fetch(gw.url + '/metrics', { headers: { authorization: `Bearer ${gw.key}` } });
  assert.equal(refused.status, 401);
});

test('usage, costs (JSON and CSV) and client metrics read the ledger in D1', async () => {
  const get = (path) => fetch(gw.url + path, { headers: { authorization: `Bearer ${gw.key}` } });
  const usage = await (await get('/api/v1/ai/admin/usage?groupBy=provider')).json();
  assert.equal(usage.data[0].provider, 'openai');
  assert.ok(usage.data[0].requests >= 100);
  const costs = await (await get('/api/v1/ai/admin/costs')).json();
  assert.ok(Number(costs.totals.cost_usd) > 0);
  assert.ok(Number(costs.projection.projected_month_usd) >= Number(costs.projection.month_to_date_usd));
  const csv = await get('/api/v1/ai/admin/costs?format=csv');
  assert.equal(csv.headers.get('content-type'), 'text/csv; charset=utf-8');
  const lines = (await csv.text()).trim().split('\r\n');
  assert.equal(lines[0], 'day,provider,user_id,requests,errors,cache_hits,input_tokens,output_tokens,cost_usd,cost_brl');
  assert.ok(lines.some((l) => /^\d{4}-\d\d-\d\d,openai,alice,\d+,/.test(l)), lines.join('\n'));
  const clients = await (await get('/api/ai-gateway/metrics')).json();
  assert.equal(clients.top_clients[0].client, 'alice');
  assert.equal(clients.active_clients.last_24h, 1);
});
