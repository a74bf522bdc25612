// End to end: the agent frameworks on the Responses API, pointed at the
// gateway by base URL only: LangChain's ChatOpenAI with useResponsesApi
// (invoke, stream, a tool loop) and the OpenAI Agents SDK (an agent running
// a tool), each against OpenAI, Anthropic and Gemini models.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatOpenAI } from '@langchain/openai';
import { tool as langchainTool } from '@langchain/core/tools';
import { HumanMessage, ToolMessage } from '@langchain/core/messages';
import { Agent, run, setDefaultOpenAIClient, setTracingDisabled, tool as agentTool } from '@openai/agents';
import OpenAI from 'openai';
import { z } from 'zod';
import { providerBindings } from '../support/fake_upstream.js';
import { startStack, stopStack } from '../support/stack.js';

const MODELS = ['gpt-4o-mini', 'claude-sonnet-4-5', 'gemini-2.5-flash'];
const WEATHER = { name: 'get_weather', description: 'Current weather', schema: z.object({ location: z.string() }) };

let upstream;
let gw;

before(async () => {
  ({ upstream, gw } = await startStack((url, up) => providerBindings(up)));
});
after(() => stopStack({ upstream, gw }));

const chatModel = (model) =>
  new ChatOpenAI({ model, apiKey: gw.key, configuration: { baseURL: gw.url + '/v1' }, useResponsesApi: true, maxRetries: 0 });

describe('LangChain ChatOpenAI with useResponsesApi on every provider', () => {
  test('invoke and stream', async () => {
    for (const model of MODELS) {
      await upstream.reset();
      const answer = await chatModel(model).invoke('Hi');
      assert.ok(answer.text.length > 0, model);
      assert.ok(answer.usage_metadata.input_tokens > 0, model);
      let streamed = '';
      for await (const chunk of await chatModel(model).stream('Hi')) streamed += chunk.text;
      assert.ok(streamed.length > 0, model);
      // It spoke the Responses API: OpenAI got it there, the others in their own formats.
      const paths = (await upstream.requests()).map((r) => r.path);
      if (model.startsWith('gpt')) assert.deepEqual(paths, ['/v1/responses', '/v1/responses'], model);
      else assert.ok(!paths.includes('/v1/responses'), model);
    }
  });

  test('a tool loop: the call, its result as a ToolMessage, then the answer', async () => {
    const weather = langchainTool(async ({ location }) => JSON.stringify({ location, temp_c: 18 }), WEATHER);
    for (const model of MODELS) {
      const llm = chatModel(model).bindTools([weather]);
      const question = new HumanMessage('Weather in SF?');
      const first = await llm.invoke([question]);
      assert.equal(first.tool_calls[0].name, 'get_weather', model);
      const result = await weather.invoke(first.tool_calls[0].args);
      const second = await llm.invoke([question, first, new ToolMessage({ content: result, tool_call_id: first.tool_calls[0].id })]);
      assert.ok(second.text.length > 0, model);
      assert.ok(JSON.stringify((await upstream.requests()).at(-1).body).includes('temp_c'), model);
    }
  });
});

describe('the OpenAI Agents SDK on every provider', () => {
  test('an agent runs its tool and answers', async () => {
    setTracingDisabled(true);
    setDefaultOpenAIClient(new OpenAI({ apiKey: gw.key, baseURL: gw.url + '/v1', maxRetries: 0 }));
    for (const model of MODELS) {
      let ran = 0;
      const getWeather = agentTool({
        name: WEATHER.name,
        description: WEATHER.description,
        parameters: WEATHER.schema,
        execute: async ({ location }) => {
          ran++;
          return JSON.stringify({ location, temp_c: 18 });
        },
      });
      const agent = new Agent({ name: 'Weather', instructions: 'Be brief.', model, tools: [getWeather] });
      const result = await run(agent, 'Weather in SF?');
      assert.equal(ran, 1, model);
      assert.ok(typeof result.finalOutput === 'string' && result.finalOutput.length > 0, model);
      const last = (await upstream.requests()).at(-1);
      assert.ok(JSON.stringify(last.body).includes('temp_c'), model);
      if (model.startsWith('gpt')) assert.equal(last.path, '/v1/responses', model);
    }
  });
});
