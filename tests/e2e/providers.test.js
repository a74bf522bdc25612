// End to end across providers: the official openai and @anthropic-ai/sdk
// clients → miniflare running the deploy bundle → a fake upstream speaking
// OpenAI, Anthropic and Gemini from the shared fixtures.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startFakeUpstream } from '../support/fake_upstream.js';
import { startGateway } from '../support/gateway.js';

const readJson = (path) => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'));
const REGISTRY = readJson('../../config/models.json').models;
const ANTHROPIC_SECRET = 'sk-ant-e2e-secret-value';

let upstream;
let gw;
let openai;
let anthropic;

// The registry's price for `id`, as exact integer micro-USD per 1M tokens.
function price(id) {
  const row = REGISTRY.find((m) => m.id === id);
  const micro = (v) => BigInt(Math.round((v ?? 0) * 1e6));
  return { input: micro(row.price.input), output: micro(row.price.output), cached: micro(row.price.cached_input ?? row.price.input), write: micro(row.price.cache_write ?? row.price.input) };
}
// Cost in 10^-12 USD, formatted like the gateway: exact, trailing zeros trimmed.
function cost(id, { fresh = 0, cached = 0, written = 0, output = 0 }) {
  const p = price(id);
  const pico = BigInt(fresh) * p.input + BigInt(cached) * p.cached + BigInt(written) * p.write + BigInt(output) * p.output;
  const whole = pico / 10n ** 12n;
  const frac = (pico % 10n ** 12n).toString().padStart(12, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : `${whole}`;
}

before(async () => {
  upstream = await startFakeUpstream();
  gw = await startGateway({
    OPENAI_API_KEY: 'sk-openai-e2e',
    OPENAI_BASE_URL: upstream.url,
    ANTHROPIC_API_KEY: ANTHROPIC_SECRET,
    ANTHROPIC_BASE_URL: upstream.url,
    GEMINI_API_KEY: 'gemini-e2e-key',
    GEMINI_BASE_URL: upstream.base + '/v1beta',
    GROQ_API_KEY: 'gsk-e2e',
    GROQ_BASE_URL: upstream.url,
    AI_GATEWAY_MAX_RETRIES: '0',
    AI_GATEWAY_CONFIG_REFRESH_MS: '0',
  });
  openai = new OpenAI({ apiKey: gw.key, baseURL: gw.url + '/v1', maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: gw.key, baseURL: gw.url, maxRetries: 0 });
});

after(async () => {
  await gw?.close();
  await upstream?.close();
});

const WEATHER_TOOL = {
  type: 'function',
  function: { name: 'get_weather', description: 'Current weather', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } },
};

async function streamToolCall(model) {
  const stream = await openai.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'Weather in SF?' }],
    tools: [WEATHER_TOOL],
    stream: true,
    stream_options: { include_usage: true },
  });
  const calls = [];
  let finish = null;
  let usage = null;
  let firstDeltaRole = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      firstDeltaRole ??= choice.delta.role ?? null;
      for (const tc of choice.delta.tool_calls ?? []) {
        calls[tc.index] ??= { id: '', name: '', arguments: '' };
        if (tc.id) calls[tc.index].id = tc.id;
        if (tc.function?.name) calls[tc.index].name = tc.function.name;
        calls[tc.index].arguments += tc.function?.arguments ?? '';
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  return { calls, finish, usage, firstDeltaRole };
}

describe('one OpenAI client reaches every provider', () => {
  test('a streamed tool call arrives as the same chunks from OpenAI, Anthropic and Gemini', async () => {
    const results = {};
    for (const model of ['gpt-4o-mini', 'claude-sonnet-4-5', 'gemini-2.5-flash']) results[model] = await streamToolCall(model);
    for (const [model, r] of Object.entries(results)) {
      assert.equal(r.firstDeltaRole, 'assistant', model);
      assert.equal(r.finish, 'tool_calls', model);
      assert.equal(r.calls.length, 1, model);
      assert.equal(r.calls[0].name, 'get_weather', model);
      assert.ok(r.calls[0].id, model);
      assert.deepEqual(JSON.parse(r.calls[0].arguments), { location: 'San Francisco, CA' }, model);
      assert.ok(r.usage.total_tokens > 0, model);
    }
    const seen = await upstream.requests();
    const anthropicCall = seen.find((r) => r.path === '/v1/messages');
    assert.equal(anthropicCall.headers['x-api-key'], ANTHROPIC_SECRET);
    assert.equal(anthropicCall.headers['anthropic-version'], '2023-06-01');
    assert.equal(anthropicCall.body.tools[0].input_schema.required[0], 'location');
    const geminiCall = seen.find((r) => r.path.startsWith('/v1beta/'));
    assert.equal(geminiCall.path, '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    assert.equal(geminiCall.headers['x-goog-api-key'], 'gemini-e2e-key');
    assert.equal(geminiCall.body.tools[0].functionDeclarations[0].name, 'get_weather');
  });

  test('costs in headers match the registry to the last digit', async () => {
    await upstream.reset();
    const ask = (model) =>
      openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    let { data, response } = await ask('claude-sonnet-4-5');
    const u = readJson('../fixtures/anthropic/message.json').usage;
    assert.equal(data.usage.prompt_tokens, u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens);
    assert.equal(response.headers.get('x-aigw-cost-usd'),
      cost('claude-sonnet-4-5', { fresh: u.input_tokens, cached: u.cache_read_input_tokens, written: u.cache_creation_input_tokens, output: u.output_tokens }));
    assert.equal(response.headers.get('x-aigw-provider'), 'anthropic');
    assert.equal(response.headers.get('x-aigw-model'), 'claude-sonnet-4-5-20250929');

    ({ data, response } = await ask('gemini-2.5-flash'));
    const g = readJson('../fixtures/gemini/generate.json').usageMetadata;
    assert.equal(data.choices[0].message.content, 'Hello from Gemini éè 😀!');
    assert.equal(response.headers.get('x-aigw-cost-usd'),
      cost('gemini-2.5-flash', { fresh: g.promptTokenCount - g.cachedContentTokenCount, cached: g.cachedContentTokenCount, output: g.candidatesTokenCount + g.thoughtsTokenCount }));

    ({ data, response } = await ask('llama-3.3-70b-versatile'));
    assert.equal(response.headers.get('x-aigw-provider'), 'groq');
    assert.equal(response.headers.get('x-aigw-cost-usd'), cost('llama-3.3-70b-versatile', { fresh: 12, output: 5 }));
    const brl = response.headers.get('x-aigw-cost-brl');
    assert.match(brl, /^0\.\d+$/);
  });

  test('unknown models get a 404 with close matches; a missing capability a 400', async () => {
    await assert.rejects(openai.chat.completions.create({ model: 'claude-sonet-4-5', messages: [{ role: 'user', content: 'x' }] }), (err) => {
      assert.equal(err.status, 404);
      assert.equal(err.code, 'model_not_found');
      assert.match(err.message, /Did you mean 'claude-sonnet-4-5'/);
      return true;
    });
    await assert.rejects(
      openai.chat.completions.create({ model: 'deepseek-reasoner', messages: [{ role: 'user', content: 'x' }], tools: [WEATHER_TOOL] }),
      (err) => err.status === 400 && err.param === 'tools',
    );
  });

  test('embeddings through OpenAI and Gemini, in the shape the SDK decodes', async () => {
    const a = await openai.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    assert.equal(a.data.length, 2);
    assert.deepEqual(a.data[0].embedding, [0.25, -0.5]);
    const g = await openai.embeddings.create({ model: 'gemini-embedding-001', input: 'hello' }).withResponse();
    assert.deepEqual(g.data.data[0].embedding, [0.25, -0.5, 1]); // base64 float32, decoded by the SDK
    assert.equal(g.response.headers.get('x-aigw-usage-estimated'), 'true');
  });

  test('provider errors are OpenAI-shaped, name the provider, and never echo the key', async () => {
    await upstream.reset();
    await upstream.script([
      { status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: `Overloaded (key ${ANTHROPIC_SECRET})` } } },
    ]);
    const res = await fetch(gw.url + '/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.key}` },
      body: JSON.stringify({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'x' }] }),
    });
    const text = await res.text();
    assert.equal(res.status, 503);
    const err = JSON.parse(text).error;
    assert.equal(err.code, 'upstream_overloaded');
    assert.match(err.message, /anthropic/);
    assert.ok(!text.includes(ANTHROPIC_SECRET));
    assert.ok(!text.includes(upstream.base));
  });
});

describe('Anthropic clients on /v1/messages', () => {
  test('@anthropic-ai/sdk talks to Claude through the gateway', async () => {
    const msg = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 128, messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(msg.type, 'message');
    assert.equal(msg.content[0].text, 'Hi! My name is Claude.');
    assert.equal(msg.stop_reason, 'end_turn');
    assert.equal(msg.usage.cache_read_input_tokens, 1000);
    assert.equal(msg.usage.input_tokens, 2095);
  });

  test('@anthropic-ai/sdk streams from an OpenAI model, tool calls included', async () => {
    const stream = anthropic.messages.stream({ model: 'gpt-4o-mini', max_tokens: 128, messages: [{ role: 'user', content: 'Say hello' }] });
    let text = '';
    stream.on('text', (t) => (text += t));
    const final = await stream.finalMessage();
    assert.equal(text, 'Hello from the fake upstream éè 😀.');
    assert.equal(final.stop_reason, 'end_turn');
    assert.equal(final.usage.output_tokens, 7);

    const tools = await anthropic.messages
      .stream({
        model: 'gemini-2.5-flash',
        max_tokens: 128,
        messages: [{ role: 'user', content: 'Weather in SF?' }],
        tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { location: { type: 'string' } } } }],
      })
      .finalMessage();
    assert.equal(tools.stop_reason, 'tool_use');
    const use = tools.content.find((b) => b.type === 'tool_use');
    assert.equal(use.name, 'get_weather');
    assert.deepEqual(use.input, { location: 'San Francisco, CA' });
  });

  test('errors reach Anthropic clients in Anthropic shape', async () => {
    await assert.rejects(anthropic.messages.create({ model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }), (err) => {
      assert.ok(err instanceof Anthropic.NotFoundError);
      assert.equal(err.error.type, 'error');
      assert.equal(err.error.error.type, 'not_found_error');
      return true;
    });
  });
});

describe('/api/v1/ai/generate and /api/v1/ai/models', () => {
  test('generate answers a priced summary, streamed or not', async () => {
    const res = await fetch(gw.url + '/api/v1/ai/generate', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.key}` },
      body: JSON.stringify({ tenantId: 'acme', userId: 'alice', agentId: 'a1', model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }], temperature: 0.2, maxTokens: 50 }),
    });
    const body = await res.json();
    assert.equal(body.content, 'echo: hello');
    assert.deepEqual(body.usage, { promptTokens: 12, completionTokens: 5, totalTokens: 17 });
    assert.equal(String(body.cost), cost('gpt-4o-mini', { fresh: 12, output: 5 }));
    assert.equal(body.provider, 'openai');
    assert.equal(body.requestId, res.headers.get('x-request-id'));
    assert.ok(!Number.isNaN(Date.parse(body.timestamp)));

    const streamed = await fetch(gw.url + '/api/v1/ai/generate', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.key}` },
      body: JSON.stringify({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hello' }], stream: true }),
    });
    const events = (await streamed.text()).split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => JSON.parse(e.slice(6)));
    const done = events.at(-1);
    assert.equal(done.type, 'done');
    assert.equal(events.filter((e) => e.type === 'delta').map((e) => e.content).join(''), done.content);
    assert.equal(done.content, 'Hello from Claude éè 😀!');
    assert.equal(done.provider, 'anthropic');
  });

  test('the model catalog shows capabilities, pricing, availability and recommendations', async () => {
    const { data } = await (await fetch(gw.url + '/api/v1/ai/models', { headers: { authorization: `Bearer ${gw.key}` } })).json();
    const sonnet = data.find((m) => m.id === 'claude-sonnet-4-5');
    assert.equal(sonnet.available, true);
    assert.equal(sonnet.recommended, true);
    assert.deepEqual(sonnet.capabilities, ['vision', 'tools', 'json', 'streaming', 'reasoning', 'structured_outputs']);
    assert.equal(sonnet.pricing.input, 3);
    const together = data.find((m) => m.provider === 'together');
    assert.equal(together.available, false);
    const list = await openai.models.list();
    const ids = [];
    for await (const m of list) ids.push(m);
    assert.equal(ids.find((m) => m.id === 'gemini-2.5-pro').owned_by, 'gemini');
  });
});

describe('reasoning across providers through the chat API', () => {
  test('reasoning_effort: passed to OpenAI, a thinking budget to Claude (its thinking back as reasoning_content)', async () => {
    await upstream.reset();
    await openai.chat.completions.create({ model: 'o4-mini', reasoning_effort: 'low', messages: [{ role: 'user', content: 'x' }] });
    assert.equal((await upstream.requests()).at(-1).body.reasoning_effort, 'low');
    const claude = await anthropicThinking();
    assert.equal(claude.choices[0].message.content, '27 * 453 = 12,231.');
    assert.match(claude.choices[0].message.reasoning_content, /12231/);
    assert.equal(claude.usage.completion_tokens_details.reasoning_tokens, 90);
    const sent = (await upstream.requests()).at(-1).body;
    assert.deepEqual(sent.thinking, { type: 'enabled', budget_tokens: 8192 });
  });

  test('a Gemini 3 tool loop through the openai client keeps the thought signature Gemini demands', async () => {
    await upstream.reset();
    const tools = [WEATHER_TOOL];
    const messages = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await openai.chat.completions.create({ model: 'gemini-3-pro-preview', reasoning_effort: 'high', messages, tools });
    const call = first.choices[0].message.tool_calls[0];
    assert.equal(call.function.name, 'get_weather');
    assert.match(first.choices[0].message.reasoning_content, /get_weather/);
    // The client sends back only what it got: the ids and messages.
    const second = await openai.chat.completions.create({
      model: 'gemini-3-pro-preview',
      tools,
      messages: [...messages, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: '18C' }],
    });
    assert.ok(second.choices[0].message.content.length > 0);
    const sent = (await upstream.requests()).at(-1).body;
    assert.ok(sent.contents[1].parts.some((p) => p.functionCall && p.thoughtSignature), 'the call went back signed');
  });

  test('a Claude tool loop with thinking through the openai client: the message sent back as it came keeps the thinking', async () => {
    await upstream.reset();
    const tools = [WEATHER_TOOL];
    const messages = [{ role: 'user', content: 'Weather in Paris?' }];
    const ask = (list) => openai.chat.completions.create({ model: 'claude-sonnet-4-5', max_tokens: 4000, reasoning_effort: 'low', messages: list, tools });
    const first = await ask(messages);
    const message = first.choices[0].message;
    assert.equal(message.tool_calls[0].function.name, 'get_weather');
    assert.equal(message.thinking_blocks[0].type, 'thinking');
    assert.ok(message.thinking_blocks[0].signature);
    // The usual loop: the assistant message appended whole, then the tool's result.
    const second = await ask([...messages, message, { role: 'tool', tool_call_id: message.tool_calls[0].id, content: '18C' }]);
    assert.ok(second.choices[0].message.content.length > 0);
    const sent = (await upstream.requests()).at(-1).body;
    assert.equal(sent.thinking.type, 'enabled', 'thinking stayed on (the fake Anthropic refuses a tool turn without its thinking)');
    assert.deepEqual(sent.messages[1].content[0], message.thinking_blocks[0]);
  });
});

async function anthropicThinking() {
  return openai.chat.completions.create({ model: 'claude-sonnet-4-5', max_tokens: 12000, reasoning_effort: 'medium', messages: [{ role: 'user', content: '27 * 453?' }] });
}
