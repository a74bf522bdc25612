// End to end: the official openai SDK → miniflare (real workerd, real KV)
// running the deploy bundle → a scriptable fake upstream on loopback.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { startGateway } from '../support/gateway.js';
import { startStack, stopStack } from '../support/stack.js';

const BAD = JSON.parse(readFileSync(new URL('../fixtures/bad_requests.json', import.meta.url), 'utf8'));
const STREAM_TEXT = 'Hello from the fake upstream éè 😀.';

let upstream;
let gw;
let client;

before(async () => {
  ({ upstream, gw, client } = await startStack((url) => ({
    OPENAI_API_KEY: 'sk-test-e2e',
    OPENAI_BASE_URL: url,
    AI_GATEWAY_RETRY_BASE_MS: '20',
    AI_GATEWAY_REQUEST_TIMEOUT: '1500',
    AI_GATEWAY_CONFIG_REFRESH_MS: '0',
  })));
});
after(() => stopStack({ upstream, gw }));

describe('chat completions through the gateway', () => {
  test('non-stream: the SDK gets the upstream answer; the key is injected by the shim', async () => {
    await upstream.reset();
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    assert.equal(data.choices[0].message.content, 'echo: hi');
    assert.equal(data.usage.total_tokens, 17);
    assert.match(response.headers.get('x-request-id'), /^aigw_[0-9a-f]{24}$/);
    assert.equal(response.headers.get('x-aigw-provider'), 'openai');
    const [seen] = await upstream.requests();
    assert.equal(seen.headers.authorization, 'Bearer sk-test-e2e');
    assert.equal(seen.body.model, 'gpt-4o-mini');
    assert.equal(seen.body.max_tokens, 2000);
  });

  test('stream: chunks arrive in order, usage is requested upstream but not forced on the client', async () => {
    await upstream.reset();
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'stream please' }],
      stream: true,
    });
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      assert.ok(chunk.choices.length > 0, 'no usage-only chunk the client did not ask for');
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    assert.equal(text, STREAM_TEXT);
    assert.equal(chunks, 5);
    const [seen] = await upstream.requests();
    assert.equal(seen.body.stream, true);
    assert.deepEqual(seen.body.stream_options, { include_usage: true });
  });

  test('stream with include_usage: the final chunk carries usage', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage = null;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    assert.equal(usage.prompt_tokens, 12);
    assert.equal(usage.completion_tokens, 7);
  });

  test('stream is delivered as it arrives, not buffered whole', async () => {
    // The upstream sends two events, then holds the rest until released:
    // a gateway that buffered would deliver nothing before the release.
    await upstream.script([{ hold_after_events: 2 }]);
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], stream: true });
    const chunks = stream[Symbol.asyncIterator]();
    const first = await Promise.race([chunks.next(), new Promise((r) => setTimeout(() => r('held'), 10000))]);
    assert.notEqual(first, 'held', 'nothing arrived while the upstream held the rest of its stream');
    await upstream.release();
    let n = 1;
    while (!(await chunks.next()).done) n++;
    assert.equal(n, 5);
  });

  test("a refused provider key is a 502 naming the provider; a 400 keeps its status, param and code", async () => {
    await upstream.script([
      { status: 401, body: { error: { message: 'Incorrect API key provided: sk-te***', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } } },
      { status: 400, body: { error: { message: "This model's maximum context length is 128000 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } } },
    ]);
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }), (err) => {
      // The client's key to the gateway is fine; the gateway's key to OpenAI is not.
      assert.ok(err instanceof OpenAI.InternalServerError);
      assert.equal(err.status, 502);
      assert.match(err.message, /Provider 'openai' rejected the gateway's credentials: Incorrect API key/);
      assert.equal(err.type, 'authentication_error');
      assert.equal(err.code, 'upstream_auth_failed');
      return true;
    });
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }), (err) => {
      assert.ok(err instanceof OpenAI.BadRequestError);
      assert.equal(err.param, 'messages');
      assert.equal(err.code, 'context_length_exceeded');
      return true;
    });
  });

  test('a 500 is retried and the retry answers', async () => {
    await upstream.reset();
    await upstream.script([{ status: 500 }]);
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'again' }] })
      .withResponse();
    assert.equal(data.choices[0].message.content, 'echo: again');
    assert.equal(response.headers.get('x-aigw-attempts'), '2');
    assert.equal((await upstream.requests()).length, 2);
  });

  test('a reset connection is retried; when every attempt fails the client gets a 502', async () => {
    await upstream.script([{ reset: true }, { reset: true }, { reset: true }]);
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }), (err) => {
      assert.equal(err.status, 502);
      assert.equal(err.code, 'upstream_unreachable');
      return true;
    });
  });

  test('an upstream that hangs past AI_GATEWAY_REQUEST_TIMEOUT is a 504', async () => {
    await upstream.script([{ hang: true }, { hang: true }, { hang: true }]);
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }), (err) => {
      assert.equal(err.status, 504);
      assert.equal(err.code, 'upstream_timeout');
      return true;
    });
    await upstream.reset();
  });

  test('a stream cut mid-way ends with an error event the SDK raises, and is not retried', async () => {
    await upstream.reset();
    // The delay lets the first events reach the client before the cut.
    await upstream.script([{ stream_chunks_then_cut: 2, chunk_delay_ms: 100 }]);
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], stream: true });
    let text = '';
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      })(),
      /upstream/i,
    );
    assert.equal(text, 'Hello');
    assert.equal((await upstream.requests()).length, 1);
  });

  test('every bad request in the shared table is a 400 naming the param; the upstream never sees it', async () => {
    await upstream.reset();
    for (const row of BAD) {
      const body = row.latin1 ? Buffer.from(row.body, 'latin1') : row.body;
      const res = await fetch(gw.url + '/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.key}` }, body });
      assert.equal(res.status, row.status, row.name);
      assert.match(res.headers.get('x-request-id'), /^aigw_/);
      const { error } = await res.json();
      assert.equal(error.param, row.param, row.name);
      assert.equal(error.code, row.code, row.name);
    }
    assert.equal((await upstream.requests()).length, 0);
  });

  test('a body over 1 MiB is a 413', async () => {
    const big = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'a'.repeat(1100000) }] });
    const res = await fetch(gw.url + '/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${gw.key}` }, body: big });
    assert.equal(res.status, 413);
    assert.equal((await res.json()).error.code, 'request_too_large');
  });

  test('models, health and unknown paths', async () => {
    const models = await client.models.list();
    assert.ok(models.data.some((m) => m.id === 'gpt-4o-mini' && m.owned_by === 'openai'));
    const health = await (await fetch(gw.url + '/api/v1/ai/health')).json();
    assert.equal(health.status, 'ok');
    const openai = health.providers.find((p) => p.id === 'openai');
    assert.equal(openai.configured, true);
    assert.ok(openai.requests > 0);
    const missing = await fetch(gw.url + '/v1/nothing-here');
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, 'unknown_url');
  });

  test('a config override in KV adds a model without a redeploy', async () => {
    await upstream.reset();
    await (await gw.kv()).put('config:override', JSON.stringify({ models: [{ id: 'house-model', provider: 'openai', upstream: 'gpt-4o-mini' }] }));
    const res = await client.chat.completions.create({ model: 'house-model', messages: [{ role: 'user', content: 'kv' }] });
    assert.equal(res.choices[0].message.content, 'echo: kv');
    const [seen] = await upstream.requests();
    assert.equal(seen.body.model, 'gpt-4o-mini');
    await (await gw.kv()).delete('config:override');
  });
});

describe('with no provider key', () => {
  let demo;
  before(async () => {
    demo = await startGateway({});
  });
  after(async () => demo?.close());

  test('the built-in demo upstream answers the SDK, streamed and not', async () => {
    const c = new OpenAI({ apiKey: demo.key, baseURL: demo.url + '/v1', maxRetries: 0 });
    const res = await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'ping' }] });
    assert.match(res.choices[0].message.content, /demo upstream.*ping/);
    const stream = await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'ping' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    assert.equal(text, res.choices[0].message.content);
  });
});

describe('upstream unreachable', () => {
  let down;
  before(async () => {
    down = await startGateway({ OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', AI_GATEWAY_MAX_RETRIES: '0' });
  });
  after(async () => down?.close());

  test('is a 502 OpenAI-shaped error', async () => {
    const c = new OpenAI({ apiKey: down.key, baseURL: down.url + '/v1', maxRetries: 0 });
    await assert.rejects(c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }), (err) => {
      assert.equal(err.status, 502);
      assert.equal(err.type, 'upstream_error');
      return true;
    });
  });
});
