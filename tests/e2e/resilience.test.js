// End to end: fallback chains and circuit breakers through miniflare (real
// workerd and KV) with the official openai SDK, against a scriptable fake
// upstream that fails on cue (500s, 429 with Retry-After, hangs, resets,
// streams cut short).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startFakeUpstream } from '../support/fake_upstream.js';
import { startGateway } from '../support/gateway.js';

let upstream;
let gw; // breakers effectively off: these tests are about chains
let client;
let tripping; // default breaker threshold (5), 1 s open time
let trippingClient;

const CHAIN = { model: 'gpt-4o-mini', models: ['claude-haiku-4-5'], messages: [{ role: 'user', content: 'hi' }] };

before(async () => {
  upstream = await startFakeUpstream();
  const env = {
    OPENAI_API_KEY: 'sk-openai-e2e',
    OPENAI_BASE_URL: upstream.url,
    ANTHROPIC_API_KEY: 'sk-ant-e2e',
    ANTHROPIC_BASE_URL: upstream.url,
    AI_GATEWAY_MAX_RETRIES: '1',
    AI_GATEWAY_RETRY_BASE_MS: '20',
    AI_GATEWAY_REQUEST_TIMEOUT: '1500',
    AI_GATEWAY_CONFIG_REFRESH_MS: '0',
    AI_GATEWAY_BREAKER_FAILURES: '1000',
    AI_GATEWAY_FIRST_BYTE_TIMEOUT: '300',
    AI_GATEWAY_STREAM_IDLE_TIMEOUT: '300',
  };
  gw = await startGateway(env);
  client = new OpenAI({ apiKey: gw.key, baseURL: gw.url + '/v1', maxRetries: 0 });
  tripping = await startGateway({ ...env, AI_GATEWAY_BREAKER_FAILURES: '5', AI_GATEWAY_BREAKER_OPEN_MS: '1000' });
  trippingClient = new OpenAI({ apiKey: tripping.key, baseURL: tripping.url + '/v1', maxRetries: 0 });
});

after(async () => {
  await gw?.close();
  await tripping?.close();
  await upstream?.close();
});

const paths = async () => (await upstream.requests()).map((r) => r.path);

describe('fallback chains', () => {
  for (const [name, step] of [
    ['a 500', { status: 500, body: { error: { message: 'boom', type: 'server_error' } } }],
    ['a reset connection', { reset: true }],
    ['a hang past the timeout', { hang: true }],
  ]) {
    test(`${name} on the primary is answered by the fallback`, async () => {
      await upstream.reset();
      await upstream.script([step]);
      const { data, response } = await client.chat.completions.create(CHAIN).withResponse();
      assert.equal(response.headers.get('x-aigw-provider'), 'anthropic');
      assert.equal(response.headers.get('x-aigw-attempts'), '2');
      assert.match(response.headers.get('x-aigw-route'), /^ordered; openai\/gpt-4o-mini>anthropic\//);
      assert.ok(data.choices[0].message.content.length > 0);
      const seen = await upstream.requests();
      assert.deepEqual(seen.map((r) => r.path), ['/v1/chat/completions', '/v1/messages']);
      assert.equal(seen[0].body.models, undefined); // the gateway's own field stays home
    });
  }

  test('a 429 on the primary is answered by the fallback, and the primary is let rest for its Retry-After', async () => {
    await upstream.reset();
    await upstream.script([{ status: 429, headers: { 'retry-after': '2' }, body: { error: { message: 'slow down', type: 'rate_limit_error' } } }]);
    const first = await client.chat.completions.create(CHAIN).withResponse();
    assert.equal(first.response.headers.get('x-aigw-provider'), 'anthropic');
    assert.equal(first.response.headers.get('x-aigw-attempts'), '2');
    // Within the provider's Retry-After the primary goes last and is not called.
    const second = await client.chat.completions.create(CHAIN).withResponse();
    assert.equal(second.response.headers.get('x-aigw-provider'), 'anthropic');
    assert.equal(second.response.headers.get('x-aigw-attempts'), '1');
    assert.match(second.response.headers.get('x-aigw-route'), /^ordered; anthropic\/.*>openai\/gpt-4o-mini$/);
    assert.deepEqual(await paths(), ['/v1/chat/completions', '/v1/messages', '/v1/messages']);
    await new Promise((r) => setTimeout(r, 2100)); // rested: the next tests find it first again
  });

  test('a primary slower than the first-byte timeout is answered by the fallback, early', async () => {
    await upstream.reset();
    await upstream.script([{ delay_ms: 1200 }]);
    // The primary would answer within the request timeout (1500 ms): only
    // the first-byte timeout (300 ms) hands the request to the fallback.
    const { response } = await client.chat.completions.create(CHAIN).withResponse();
    assert.equal(response.headers.get('x-aigw-provider'), 'anthropic');
    assert.equal(response.headers.get('x-aigw-attempts'), '2');
  });

  test('a stream that stalls mid-way ends with an error event, not a hang', async () => {
    await upstream.reset();
    await upstream.script([{ chunk_delay_ms: 2000 }]);
    const stream = await client.chat.completions.create({ ...CHAIN, stream: true });
    let text = '';
    await assert.rejects(async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    }, /stalled/);
    assert.equal(text, ''); // only the role chunk came before the silence
    assert.deepEqual(await paths(), ['/v1/chat/completions']);
  });

  test('when every target fails the SDK sees a 502 listing the attempts', async () => {
    await upstream.reset();
    const fail = { status: 503, body: { error: { message: 'down', type: 'server_error' } } };
    await upstream.script([fail, fail, fail]);
    await assert.rejects(client.chat.completions.create(CHAIN), (err) => {
      assert.equal(err.status, 502);
      assert.equal(err.code, 'all_targets_failed');
      assert.equal(err.error.attempts[0].target, 'openai/gpt-4o-mini');
      assert.equal(err.error.attempts.length, 3); // primary, fallback, one retry of the fallback
      return true;
    });
  });

  test('a stream cut after it started is not retried or re-routed', async () => {
    await upstream.reset();
    // The delay lets the head reach the gateway first: the client has bytes.
    await upstream.script([{ stream_chunks_then_cut: 2, chunk_delay_ms: 100 }]);
    const stream = await client.chat.completions.create({ ...CHAIN, stream: true });
    await assert.rejects(async () => {
      for await (const _chunk of stream);
    });
    assert.deepEqual(await paths(), ['/v1/chat/completions']);
  });
});

describe('circuit breakers', () => {
  test('open after five failures, skip the target, and recover through a half-open probe', async () => {
    await upstream.reset();
    const fail = { status: 500, body: { error: { message: 'boom', type: 'server_error' } } };
    // Five failed primaries (each answered by the fallback) trip the breaker.
    for (let i = 0; i < 5; i++) {
      await upstream.script([fail]);
      const { response } = await trippingClient.chat.completions.create(CHAIN).withResponse();
      assert.equal(response.headers.get('x-aigw-provider'), 'anthropic');
    }
    await upstream.reset();
    const { response } = await trippingClient.chat.completions.create(CHAIN).withResponse();
    assert.equal(response.headers.get('x-aigw-attempts'), '1');
    assert.match(response.headers.get('x-aigw-route'), /^ordered; anthropic\/[^>]+>openai\/gpt-4o-mini$/);
    assert.deepEqual(await paths(), ['/v1/messages']);
    // Alone, the open target fails fast without a call.
    await assert.rejects(trippingClient.chat.completions.create({ model: 'gpt-4o-mini', messages: CHAIN.messages }), (err) => {
      assert.equal(err.status, 503);
      assert.equal(err.code, 'circuit_open');
      return true;
    });
    // The trip is shared through KV for other isolates.
    const shared = JSON.parse(await (await tripping.kv()).get('breaker:openai/gpt-4o-mini'));
    assert.ok(shared.open_until > Date.now());
    // The health endpoint reports it.
    const health = await (await fetch(tripping.url + '/api/v1/ai/health')).json();
    const openai = health.providers.find((p) => p.id === 'openai');
    assert.equal(openai.breakers.find((b) => b.target === 'openai/gpt-4o-mini').state, 'open');
    // After the open time one probe goes through; its success closes the breaker.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await upstream.reset();
    const probe = await trippingClient.chat.completions.create(CHAIN).withResponse();
    assert.equal(probe.response.headers.get('x-aigw-provider'), 'openai');
    const after = await trippingClient.chat.completions.create(CHAIN).withResponse();
    assert.equal(after.response.headers.get('x-aigw-provider'), 'openai');
    assert.match(after.response.headers.get('x-aigw-route'), /^ordered; openai\/gpt-4o-mini>/);
    assert.equal(JSON.parse(await (await tripping.kv()).get('breaker:openai/gpt-4o-mini')).open_until, 0);
  });
});
