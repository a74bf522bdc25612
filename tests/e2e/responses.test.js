// End to end: the official openai client's Responses API (responses.create,
// responses.stream, a tool loop) through miniflare to OpenAI, Anthropic and
// Gemini models on the fake upstream; each answer must say what the chat
// completions API says for the same request.
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

  test('structured output and reasoning effort reach the provider in chat terms', async () => {
    await upstream.reset();
    await openai.responses.create({
      model: 'o4-mini',
      input: 'Give a city.',
      reasoning: { effort: 'low' },
      max_output_tokens: 200,
      text: { format: { type: 'json_schema', name: 'city', schema: { type: 'object', properties: { name: { type: 'string' } } }, strict: true } },
    });
    const sent = (await upstream.requests()).at(-1).body;
    assert.equal(sent.reasoning_effort, 'low');
    assert.equal(sent.max_completion_tokens, 200);
    assert.equal(sent.response_format.type, 'json_schema');
    assert.equal(sent.response_format.json_schema.name, 'city');
  });

  test('bad input is a 400 naming the field, as the SDK reads it', async () => {
    const cases = [
      [{ model: 'gpt-4o-mini', input: [{ type: 'function_call_output', call_id: 'call_x', output: 'x' }] }, 'input[0].call_id'],
      [{ model: 'gpt-4o-mini', input: 'Hi', tools: [{ type: 'web_search' }] }, 'tools[0].type'],
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
