// The worker's effect driver (worker/driver.js) on the built module, in Node,
// with in-memory stand-ins for KV, the ledger Durable Object and D1 and the
// fake upstream on loopback: a client that goes away mid-stream is noticed
// through Request.signal at once, before any write to it could fail, and the
// request ends as a 499 row charged with what it was sent.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { serve } from '../../worker/driver.js';
import { startFakeUpstream } from '../support/fake_upstream.js';
import { TEST_KEY, loadCore } from '../support/modules.js';

let upstream;
before(async () => (upstream = await startFakeUpstream()));
after(() => upstream?.close());

function environment(core, statements) {
  const kv = core.testKv;
  const ledgers = new Map();
  return {
    OPENAI_API_KEY: 'sk-driver-test',
    GATEWAY_KV: {
      get: async (key) => (kv.has(key) ? new TextEncoder().encode(kv.get(key)).buffer : null),
      put: async (key, value) => void kv.set(key, typeof value === 'string' ? value : new TextDecoder().decode(value)),
      delete: async (key) => void kv.delete(key),
      list: async ({ prefix }) => ({ keys: [...kv.keys()].filter((k) => k.startsWith(prefix)).map((name) => ({ name })), list_complete: true }),
    },
    LEDGER: {
      idFromName: (name) => name,
      get: (tenant) => ({
        apply: async (_, op) => {
          if (!ledgers.has(tenant)) ledgers.set(tenant, core.ledgerOpen(new Map()));
          return core.ledgerApply(ledgers.get(tenant), op, Date.now()).result;
        },
      }),
    },
    DB: {
      prepare: (sql) => ({
        bind: (...params) => ({
          all: async () => {
            statements.push({ sql, params });
            return { results: [], meta: { changes: 0 } };
          },
        }),
      }),
    },
  };
}

test('a client that leaves mid-stream is cancelled at once through Request.signal: a 499 row', async () => {
  const { core } = loadCore('clang', { vars: { OPENAI_BASE_URL: upstream.url } });
  const host = { core, maxBodyBytes: 1 << 20, drivers: new Map() };
  const statements = [];
  const pending = [];
  const ctx = { waitUntil: (p) => pending.push(p) };
  // Thirty words, 100 ms apart: the stream would take three seconds.
  const words = Array.from({ length: 30 }, (_, i) =>
    `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: ` w${i}` }, finish_reason: null }] })}\n\n`);
  await upstream.script([{ chunk_delay_ms: 100, stream_body: [...words, 'data: [DONE]\n\n'] }]);
  const ac = new AbortController();
  const request = new Request('http://gateway.test/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    signal: ac.signal,
  });
  const response = await serve(host, request, environment(core, statements), ctx);
  assert.equal(response.status, 200);
  const reader = response.body.getReader();
  let text = '';
  while (!text.includes(' w1')) text += new TextDecoder().decode((await reader.read()).value);
  // The client goes: nothing is read or cancelled on the response, only the signal says so.
  ac.abort();
  await Promise.all(pending);
  const row = statements.find((s) => s.sql.includes('INTO gateway_usage_logs'));
  assert.ok(row, 'the request wrote its usage row');
  const STATUS = 19, ERROR_CLASS = 21, OUTPUT_TOKENS = 12;
  assert.equal(row.params[STATUS], 499);
  assert.equal(row.params[ERROR_CLASS], 'client_cancelled');
  assert.ok(row.params[OUTPUT_TOKENS] > 0 && row.params[OUTPUT_TOKENS] < 10, `charged ${row.params[OUTPUT_TOKENS]} tokens of 30 words`);
  assert.equal(core.liveSessions?.() ?? 0, 0);
});

test('a fault mid-stream ends the stream with the event the core handed over, in the client dialect', async () => {
  const { core } = loadCore('clang', { vars: { OPENAI_BASE_URL: upstream.url } });
  const host = { core, maxBodyBytes: 1 << 20, drivers: new Map() };
  const words = Array.from({ length: 5 }, (_, i) =>
    `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: ` w${i}` }, finish_reason: null }] })}\n\n`);
  await upstream.script([{ chunk_delay_ms: 50, stream_body: [...words, 'data: [DONE]\n\n'] }]);
  const request = new Request('http://gateway.test/v1/messages', {
    method: 'POST',
    headers: { 'x-api-key': TEST_KEY, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const response = await serve(host, request, environment(core, []), { waitUntil() {} });
  assert.equal(response.status, 200);
  const reader = response.body.getReader();
  let text = '';
  while (!text.includes('w0')) text += new TextDecoder().decode((await reader.read()).value);
  // The instance traps on its next input.
  core.feed = () => {
    throw new Error('unreachable executed');
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  const last = text.trimEnd().split('\n\n').at(-1);
  assert.match(last, /^event: error\ndata: /);
  const event = JSON.parse(last.slice(last.indexOf('data: ') + 6));
  assert.equal(event.type, 'error');
  assert.equal(event.error.type, 'api_error');
  assert.equal(event.error.code, 'gateway_fault');
});

test('usage rows of concurrent requests travel as one queue message; a refused send runs the consumer on it', async () => {
  for (const [refuse, packMs] of [[false, '20'], [true, '20'], [false, '0']]) {
    const { core } = loadCore('clang', { vars: { OPENAI_BASE_URL: upstream.url, AI_GATEWAY_USAGE_PACK_MS: packMs }, bindings: ['USAGE_QUEUE'] });
    const host = { core, maxBodyBytes: 1 << 20, drivers: new Map() };
    const statements = [];
    const sent = [];
    const env = environment(core, statements);
    env.USAGE_QUEUE = {
      send: async (body) => {
        if (refuse) throw new Error('queue unavailable');
        sent.push(body);
      },
    };
    const pending = [];
    const ctx = { waitUntil: (p) => pending.push(p) };
    const chat = () =>
      serve(host, new Request('http://gateway.test/v1/chat/completions', {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      }), env, ctx);
    const responses = await Promise.all([chat(), chat(), chat()]);
    assert.deepEqual(responses.map((r) => r.status), [200, 200, 200]);
    const ids = responses.map((r) => r.headers.get('x-request-id'));
    await Promise.all(pending);
    const rowStatements = statements.filter((s) => s.sql.includes('gateway_usage_logs'));
    if (packMs === '0') {
      // No window: each row its own message.
      assert.equal(sent.length, 3);
      assert.deepEqual(sent.map((m) => JSON.parse(m).length), [1, 1, 1]);
      assert.deepEqual(sent.map((m) => JSON.parse(m)[0][0]).sort(), [...ids].sort());
    } else if (!refuse) {
      // One pack: the three rows in one message, nothing written directly.
      assert.equal(sent.length, 1);
      assert.deepEqual(JSON.parse(sent[0]).map((row) => row[0]).sort(), [...ids].sort());
      assert.equal(rowStatements.length, 0);
    } else {
      // The consumer wrote the pack in one statement, every row of it.
      assert.equal(rowStatements.length, 1);
      assert.match(rowStatements[0].sql, /json_each/);
      assert.deepEqual(JSON.parse(rowStatements[0].params[0]).map((row) => row[0]).sort(), [...ids].sort());
    }
    assert.equal(core.liveSessions?.() ?? 0, 0);
  }
});
