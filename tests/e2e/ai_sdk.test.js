// End to end: the Vercel AI SDK (`ai` + `@ai-sdk/openai`), pointed at the
// gateway by base URL only. Its default `openai(model)` speaks the Responses
// API; each call must work against OpenAI, Anthropic and Gemini models.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateObject, generateText, stepCountIs, streamText, tool } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { z } from 'zod';
import { providerBindings, startFakeUpstream } from '../support/fake_upstream.js';
import { startGateway } from '../support/gateway.js';

const MODELS = ['gpt-4o-mini', 'claude-sonnet-4-5', 'gemini-2.5-flash'];

let upstream;
let gw;
let openai;

before(async () => {
  upstream = await startFakeUpstream();
  gw = await startGateway(providerBindings(upstream));
  openai = createOpenAI({ baseURL: gw.url + '/v1', apiKey: gw.key });
});

after(async () => {
  await gw?.close();
  await upstream?.close();
});

describe('the AI SDK default OpenAI provider (Responses API) on every provider', () => {
  test('generateText', async () => {
    for (const model of MODELS) {
      const result = await generateText({ model: openai(model), prompt: 'Hi' });
      assert.ok(result.text.length > 0, model);
      assert.equal(result.finishReason, 'stop', model);
      assert.ok(result.usage.inputTokens > 0, model);
      assert.equal((await upstream.requests()).at(-1).body.stream ?? false, false, model);
    }
  });

  test('streamText', async () => {
    for (const model of MODELS) {
      const result = streamText({ model: openai(model), prompt: 'Hi' });
      let text = '';
      for await (const delta of result.textStream) text += delta;
      assert.ok(text.length > 0, model);
      assert.equal(await result.text, text, model);
      assert.equal(await result.finishReason, 'stop', model);
      assert.ok((await result.usage).outputTokens > 0, model);
    }
  });

  test('a tool loop: the SDK runs the tool and the model answers with its result', async () => {
    // o4-mini too: a reasoning model's call goes back with its reasoning, by item reference.
    for (const model of [...MODELS, 'o4-mini']) {
      let ran = 0;
      const result = await generateText({
        model: openai(model),
        prompt: 'Weather in SF?',
        tools: {
          get_weather: tool({
            description: 'Current weather',
            inputSchema: z.object({ location: z.string() }),
            execute: async ({ location }) => {
              ran++;
              return { location, temp_c: 18 };
            },
          }),
        },
        stopWhen: stepCountIs(3),
      });
      assert.equal(ran, 1, model);
      assert.equal(result.steps.length, 2, model);
      assert.equal(result.steps[0].toolCalls[0].toolName, 'get_weather', model);
      assert.ok(result.text.length > 0, model);
      const last = (await upstream.requests()).at(-1);
      assert.ok(JSON.stringify(last.body).includes('temp_c'), model);
      if (model.startsWith('claude') || model.startsWith('gemini')) continue;
      assert.equal(last.path, '/v1/responses', model);
      // The reasoning went back by item reference, which the gateway found in the tenant's store first.
      if (model === 'o4-mini') assert.ok(last.body.input.some((item) => item.type === 'item_reference'), model);
    }
  });

  test('generateObject: the schema reaches the provider and the answer parses', async () => {
    const schema = z.object({ city: z.string(), population: z.number() });
    for (const model of MODELS) {
      await upstream.script([{ text: '{"city":"Paris","population":2100000}' }]);
      const { object } = await generateObject({ model: openai(model), schema, prompt: 'A city.' });
      assert.deepEqual(object, { city: 'Paris', population: 2100000 }, model);
      const body = (await upstream.requests()).at(-1).body;
      assert.ok(JSON.stringify(body).includes('population'), `${model}: the schema was sent`);
      // Claude constrains the answer itself (structured outputs), Gemini by its JSON schema.
      if (model.startsWith('claude')) assert.equal(body.output_config.format.type, 'json_schema');
      if (model.startsWith('gemini')) assert.ok(body.generationConfig.responseJsonSchema);
    }
  });
});
