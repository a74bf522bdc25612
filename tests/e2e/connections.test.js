// End to end, at the connection, on the worker's own socket: a 413 leaves
// the client's keep-alive connection healthy for its next request (declared
// or chunked uploads), and a client that goes away mid-stream is noticed
// (Request.signal) and recorded as 499, charged with what was sent.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startStack, stopStack } from '../support/stack.js';

let upstream;
let gw;

before(async () => {
  ({ upstream, gw } = await startStack((url) => ({
    OPENAI_API_KEY: 'sk-test-e2e',
    OPENAI_BASE_URL: url,
    AI_GATEWAY_MAX_BODY_BYTES: '2048',
  }), { direct: true }));
});
after(() => stopStack({ upstream, gw }));

// One request on `agent` (a single keep-alive socket); answers status, body
// and whether the socket was reused. `chunked` sends the body without a length.
function send(agent, body, { chunked = false } = {}) {
  const url = new URL(gw.url + '/v1/chat/completions');
  return new Promise((resolve, reject) => {
    const headers = { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json' };
    if (!chunked) headers['content-length'] = Buffer.byteLength(body);
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, text, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('no answer within 10 s')));
    if (chunked) {
      // Several writes, as a streaming upload would make them.
      for (let i = 0; i < body.length; i += 1000) req.write(body.slice(i, i + 1000));
    } else {
      req.write(body);
    }
    req.end();
  });
}

const SMALL = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
const BIG = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(20000) }] });

for (const chunked of [false, true]) {
  test(`after a 413 (${chunked ? 'chunked' : 'declared length'}) the same connection serves the next request`, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal((await send(agent, SMALL)).status, 200);
      const big = await send(agent, BIG, { chunked });
      assert.equal(big.status, 413);
      assert.equal(JSON.parse(big.text).error.code, 'request_too_large');
      for (let i = 0; i < 3; i++) {
        const next = await send(agent, SMALL);
        assert.equal(next.status, 200, next.text);
        assert.match(next.text, /echo: hi/);
      }
    } finally {
      agent.destroy();
    }
  });
}

test('clients that leave fast streams are recorded as 499, charged with what was sent', async () => {
  await upstream.reset();
  const n = 20;
  // Five events 60 ms apart; the client leaves after the first words. workerd
  // (here) signals a departed client on the next write to it, not before: a
  // stream whose last bytes were written before then was delivered as far as
  // the gateway can tell, and is recorded complete.
  await upstream.script(Array.from({ length: n }, () => ({ chunk_delay_ms: 60 })));
  const conversation = `conv-abort-${Date.now()}`;
  const ids = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const ac = new AbortController();
      const res = await fetch(gw.url + '/v1/chat/completions', {
        method: 'POST',
        headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json', 'x-aigw-conversation-id': conversation },
        body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: `abort ${i}` }] }),
        signal: ac.signal,
      });
      const id = res.headers.get('x-request-id');
      const reader = res.body.getReader();
      let text = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
          if (text.includes('"content":"Hello')) {
            ac.abort();
            break;
          }
        }
      } catch {}
      return id;
    }),
  );
  let rows = [];
  for (let i = 0; i < 100 && rows.length < n; i++) {
    rows = await gw.sql('SELECT request_id, status, error_class, output_tokens, usage_estimated FROM gateway_usage_logs WHERE conversation_id = ?', [conversation]);
    if (rows.length < n) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(rows.length, n);
  const complete = rows.filter((r) => r.status === 200);
  assert.deepEqual(complete.map((r) => r.request_id), [], 'aborted streams recorded as complete');
  for (const r of rows) {
    assert.ok(ids.includes(r.request_id));
    assert.equal(r.status, 499);
    assert.equal(r.error_class, 'client_cancelled');
    assert.equal(r.usage_estimated, 1);
  }
});
