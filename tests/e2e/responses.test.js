// End to end: the official openai client's Responses API (responses.create,
// responses.stream, a tool loop) through miniflare to OpenAI, Anthropic and
// Gemini models on the fake upstream; each answer must say what the chat
// completions API says for the same request. OpenAI models are served by
// the fake's own Responses API (as sent, stored there too); the others in
// translation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { providerBindings, startFakeUpstream } from '../support/fake_upstream.js';
import { startGateway } from '../support/gateway.js';

const MODELS = ['gpt-4o-mini', 'claude-sonnet-4-5', 'gemini-2.5-flash'];
const WEATHER = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather',
  parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  strict: false,
};

let upstream;
let gw;
let openai;

before(async () => {
  upstream = await startFakeUpstream();
  gw = await startGateway(providerBindings(upstream));
  openai = new OpenAI({ apiKey: gw.key, baseURL: gw.url + '/v1', maxRetries: 0 });
});

after(async () => {
  await gw?.close();
  await upstream?.close();
});

describe('the openai client on /v1/responses', () => {
  test('responses.create answers as chat does, on every provider', async () => {
    for (const model of MODELS) {
      const chat = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }] });
      const { data: res, response } = await openai.responses.create({ model, input: 'Hi', instructions: 'Be brief.' }).withResponse();
      assert.equal(res.object, 'response', model);
      assert.match(res.id, /^resp_/, model);
      assert.equal(res.status, 'completed', model);
      assert.equal(res.output_text, chat.choices[0].message.content, model);
      assert.equal(res.output[0].type, 'message', model);
      assert.equal(res.instructions, 'Be brief.', model);
      assert.equal(res.usage.input_tokens, chat.usage.prompt_tokens, model);
      assert.equal(res.usage.output_tokens, chat.usage.completion_tokens, model);
      // Gemini's thinking tokens are output tokens, reported apart as OpenAI reports them.
      assert.equal(res.usage.output_tokens_details.reasoning_tokens, chat.usage.completion_tokens_details?.reasoning_tokens ?? 0, model);
      assert.ok(response.headers.get('x-aigw-cost-usd'), model);
    }
  });

  test('responses.stream gives the event sequence and the final response, on every provider', async () => {
    for (const model of MODELS) {
      const stream = openai.responses.stream({ model, input: 'Hi' });
      const types = [];
      let text = '';
      let last = -1;
      for await (const event of stream) {
        types.push(event.type);
        assert.equal(event.sequence_number, last + 1, model);
        last = event.sequence_number;
        if (event.type === 'response.output_text.delta') text += event.delta;
      }
      const final = await stream.finalResponse();
      assert.deepEqual(types.slice(0, 4), ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added'], model);
      assert.equal(types.at(-1), 'response.completed', model);
      assert.ok(types.includes('response.output_text.done'), model);
      assert.ok(text.length > 0, model);
      assert.equal(final.output.find((item) => item.type === 'message').content[0].text, text, model);
      assert.ok(final.usage.input_tokens > 0, model);
    }
  });

  test('a tool loop: a function call, its output sent back, then the answer, on every provider', async () => {
    for (const model of MODELS) {
      await upstream.reset();
      const input = [{ role: 'user', content: 'Weather in SF?' }];
      const first = await openai.responses.create({ model, input, tools: [WEATHER] });
      const call = first.output.find((item) => item.type === 'function_call');
      assert.ok(call, model);
      assert.equal(call.name, 'get_weather', model);
      assert.equal(typeof JSON.parse(call.arguments), 'object', model);
      const second = await openai.responses.create({
        model,
        tools: [WEATHER],
        input: [...input, ...first.output, { type: 'function_call_output', call_id: call.call_id, output: '{"temp_c":18}' }],
      });
      assert.equal(second.status, 'completed', model);
      assert.ok(second.output_text.length > 0, model);
      // What the provider received: the call and its result, in its own shapes.
      const sent = (await upstream.requests()).at(-1).body;
      const text = JSON.stringify(sent);
      assert.ok(text.includes(call.call_id) || model.startsWith('gemini'), model);
      assert.ok(text.includes('temp_c'), model);
    }
  });

  test('stored responses: a tool loop by previous_response_id across providers, then retrieve, input items, delete', async () => {
    const first = await openai.responses.create({ model: 'claude-sonnet-4-5', input: 'Weather in SF?', tools: [WEATHER] });
    const call = first.output.find((item) => item.type === 'function_call');
    assert.ok(call);
    const second = await openai.responses.create({
      model: 'gemini-2.5-flash',
      previous_response_id: first.id,
      tools: [WEATHER],
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"temp_c":18}' }],
    });
    assert.equal(second.previous_response_id, first.id);
    assert.ok(second.output_text.length > 0);
    const sent = (await upstream.requests()).at(-1).body;
    assert.equal(sent.contents.length, 3, 'Gemini received the question, the call and its result');
    const again = await openai.responses.retrieve(first.id);
    assert.deepEqual(again.output, first.output);
    const items = await openai.responses.inputItems.list(second.id);
    assert.equal(items.data[0].type, 'function_call_output');
    const deleted = await openai.responses.delete(first.id);
    assert.equal(deleted?.deleted ?? true, true);
    await assert.rejects(openai.responses.retrieve(first.id), (err) => err instanceof OpenAI.NotFoundError);
    await assert.rejects(
      openai.responses.create({ model: 'gpt-4o-mini', input: 'hi', previous_response_id: first.id }),
      (err) => err instanceof OpenAI.BadRequestError && err.param === 'previous_response_id',
    );
  });

  test('structured output and reasoning effort: as sent to OpenAI, in its own terms to Claude', async () => {
    const request = {
      input: 'Give a city.',
      reasoning: { effort: 'low', summary: 'auto' },
      include: ['reasoning.encrypted_content'],
      max_output_tokens: 4000,
      text: { format: { type: 'json_schema', name: 'city', schema: { type: 'object', properties: { name: { type: 'string' } } }, strict: true } },
    };
    await upstream.reset();
    const native = await openai.responses.create({ model: 'o4-mini', ...request });
    let sent = (await upstream.requests()).at(-1);
    assert.equal(sent.path, '/v1/responses');
    assert.deepEqual(sent.body, { model: 'o4-mini', ...request });
    // OpenAI's own reasoning item, with its summary and encrypted content, as it came.
    const reasoning = native.output.find((item) => item.type === 'reasoning');
    assert.equal(reasoning.summary[0].text, 'Thinking it through.');
    assert.match(reasoning.encrypted_content, /^enc_/);
    assert.equal(native.usage.output_tokens_details.reasoning_tokens, 16);

    await openai.responses.create({ model: 'claude-sonnet-4-5', ...request });
    sent = (await upstream.requests()).at(-1);
    assert.equal(sent.path, '/v1/messages');
    assert.equal(sent.body.max_tokens, 4000);
    assert.equal(sent.body.thinking.budget_tokens, 2048);
    assert.equal(sent.body.output_config.format.type, 'json_schema');
  });

  test('built-in tools run on OpenAI and are refused, naming the tool, elsewhere', async () => {
    await upstream.reset();
    const res = await openai.responses.create({ model: 'gpt-4o-mini', input: 'News today?', tools: [{ type: 'web_search' }] });
    assert.equal(res.status, 'completed');
    assert.deepEqual((await upstream.requests()).at(-1).body.tools, [{ type: 'web_search' }]);
    await assert.rejects(
      openai.responses.create({ model: 'claude-sonnet-4-5', input: 'News today?', tools: [{ type: 'web_search' }] }),
      (err) => err instanceof OpenAI.BadRequestError && err.param === 'tools[0].type' && err.code === 'unsupported_tool',
    );
  });

  test('a two-turn tool loop by previous_response_id on OpenAI, then continued on Claude', async () => {
    const first = await openai.responses.create({ model: 'o4-mini', input: 'Weather in SF?', tools: [WEATHER], reasoning: { effort: 'low' } });
    const call = first.output.find((item) => item.type === 'function_call');
    assert.ok(call);
    const output = { type: 'function_call_output', call_id: call.call_id, output: '{"temp_c":18}' };
    const second = await openai.responses.create({ model: 'o4-mini', previous_response_id: first.id, tools: [WEATHER], input: [output] });
    assert.equal(second.status, 'completed');
    assert.ok(second.output_text.length > 0);
    // OpenAI continued its own conversation (its reasoning included).
    let sent = (await upstream.requests()).at(-1);
    assert.equal(sent.path, '/v1/responses');
    assert.equal(sent.body.previous_response_id, first.id);
    // The gateway keeps it too: retrieve it, and go on with Claude from the first turn.
    assert.deepEqual((await openai.responses.retrieve(first.id)).output, first.output);
    const claude = await openai.responses.create({ model: 'claude-sonnet-4-5', previous_response_id: first.id, tools: [WEATHER], input: [output] });
    assert.ok(claude.output_text.length > 0);
    sent = (await upstream.requests()).at(-1);
    assert.equal(sent.path, '/v1/messages');
    assert.ok(JSON.stringify(sent.body).includes(call.call_id));
    assert.ok(JSON.stringify(sent.body).includes('temp_c'));
    // Deleting it deletes OpenAI's copy too.
    assert.equal((await openai.responses.delete(first.id))?.deleted ?? true, true);
    const deleted = (await upstream.requests()).at(-1);
    assert.equal(deleted.method, 'DELETE');
    assert.equal(deleted.path, `/v1/responses/${first.id}`);
    await assert.rejects(openai.responses.retrieve(first.id), (err) => err instanceof OpenAI.NotFoundError);
  });

  test('a Gemini 3 tool loop on the Responses API keeps the thought signature Gemini demands', async () => {
    await upstream.reset();
    const input = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await openai.responses.create({ model: 'gemini-3-pro-preview', input, tools: [WEATHER], reasoning: { effort: 'high' } });
    const call = first.output.find((item) => item.type === 'function_call');
    assert.equal(call.name, 'get_weather');
    const output = { type: 'function_call_output', call_id: call.call_id, output: '18C' };
    // The openai SDK's loop: the output items sent back, then by previous_response_id.
    const echoed = await openai.responses.create({ model: 'gemini-3-pro-preview', tools: [WEATHER], input: [...input, ...first.output, output] });
    assert.ok(echoed.output_text.length > 0);
    const continued = await openai.responses.create({ model: 'gemini-3-pro-preview', tools: [WEATHER], previous_response_id: first.id, input: [output] });
    assert.ok(continued.output_text.length > 0);
    for (const sent of (await upstream.requests()).slice(-2))
      assert.ok(sent.body.contents[1].parts.some((p) => p.functionCall && p.thoughtSignature), 'the call went back signed');
  });

  test('a Claude tool loop with thinking on the Responses API keeps the signed thinking', async () => {
    await upstream.reset();
    const ask = (fields) => openai.responses.create({ model: 'claude-sonnet-4-5', max_output_tokens: 4000, reasoning: { effort: 'low' }, tools: [WEATHER], ...fields });
    const first = await ask({ input: 'Weather in Paris?' });
    const reasoning = first.output.find((item) => item.type === 'reasoning');
    const call = first.output.find((item) => item.type === 'function_call');
    assert.ok(reasoning.encrypted_content);
    const output = { type: 'function_call_output', call_id: call.call_id, output: '18C' };
    const byId = await ask({ previous_response_id: first.id, input: [output] });
    assert.ok(byId.output_text.length > 0);
    const byItems = await ask({ input: [{ role: 'user', content: 'Weather in Paris?' }, ...first.output, output] });
    assert.ok(byItems.output_text.length > 0);
    for (const sent of (await upstream.requests()).slice(-2)) {
      assert.equal(sent.body.thinking.type, 'enabled');
      assert.deepEqual(sent.body.messages[1].content[0], { type: 'thinking', thinking: reasoning.summary[0].text, signature: reasoning.encrypted_content });
    }
  });

  test('bad input is a 400 naming the field, as the SDK reads it', async () => {
    const cases = [
      [{ model: 'gpt-4o-mini', input: [{ type: 'function_call_output', call_id: 'call_x', output: 'x' }] }, 'input[0].call_id'],
      [{ model: 'gemini-2.5-flash', input: 'Hi', tools: [{ type: 'web_search' }] }, 'tools[0].type'],
      [{ model: 'gpt-4o-mini', input: [{ type: 'mystery' }] }, 'input[0].type'],
    ];
    for (const [body, param] of cases) {
      await assert.rejects(openai.responses.create(body), (err) => {
        assert.ok(err instanceof OpenAI.BadRequestError, param);
        assert.equal(err.param, param);
        return true;
      });
    }
  });
});
