// End to end: Anthropic's own clients on /v1/messages get Anthropic's full
// API through the gateway — extended thinking with signatures, structured
// output, beta headers, count_tokens — with `@anthropic-ai/sdk` and the AI
// SDK's `@ai-sdk/anthropic`, and the same requests reach other providers
// translated.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { generateObject, generateText } from 'ai';
import { createAnthropic } from '@ai-sdk/anthropic';
import { z } from 'zod';
import { providerBindings, startFakeUpstream } from '../support/fake_upstream.js';
import { startGateway } from '../support/gateway.js';

let upstream;
let gw;
let anthropic;
let aiAnthropic;

before(async () => {
  upstream = await startFakeUpstream();
  gw = await startGateway(providerBindings(upstream));
  anthropic = new Anthropic({ apiKey: gw.key, baseURL: gw.url, maxRetries: 0 });
  aiAnthropic = createAnthropic({ baseURL: gw.url + '/v1', apiKey: gw.key });
});

after(async () => {
  await gw?.close();
  await upstream?.close();
});

const lastSent = async () => (await upstream.requests()).at(-1);

describe('Anthropic clients get the whole Messages API', () => {
  test('@anthropic-ai/sdk: a thinking stream with its signature, as Anthropic sent it', async () => {
    const stream = anthropic.messages.stream(
      { model: 'claude-sonnet-4-5', max_tokens: 4096, thinking: { type: 'enabled', budget_tokens: 2048 }, messages: [{ role: 'user', content: '27 * 453?' }] },
      { headers: { 'anthropic-beta': 'interleaved-thinking-2025-05-14' } },
    );
    let thinking = '';
    let signature = '';
    stream.on('thinking', (delta) => (thinking += delta));
    stream.on('signature', (s) => (signature = s));
    const final = await stream.finalMessage();
    assert.equal(final.content[0].type, 'thinking');
    assert.equal(final.content[0].thinking, thinking);
    assert.ok(signature.length > 20);
    assert.equal(final.content[0].signature, signature);
    assert.equal(final.content[1].text, '27 * 453 = 12,231.');
    const sent = await lastSent();
    assert.deepEqual(sent.body.thinking, { type: 'enabled', budget_tokens: 2048 });
    assert.equal(sent.headers['anthropic-beta'], 'interleaved-thinking-2025-05-14');
  });

  test('@anthropic-ai/sdk: a tool loop with thinking keeps the signed blocks going back', async () => {
    const tools = [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { location: { type: 'string' } } } }];
    const first = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 1024, tools, messages: [{ role: 'user', content: 'Weather in SF?' }] });
    const use = first.content.find((b) => b.type === 'tool_use');
    assert.ok(use);
    const history = [
      { role: 'user', content: 'Weather in SF?' },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'I should call the tool.', signature: 'sig-abc' }, ...first.content] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '18C' }] },
    ];
    const second = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 1024, tools, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: history });
    assert.equal(second.type, 'message');
    const sent = await lastSent();
    assert.deepEqual(sent.body.messages[1].content[0], { type: 'thinking', thinking: 'I should call the tool.', signature: 'sig-abc' });
  });

  test('@anthropic-ai/sdk: a tool loop with thinking on Gemini 3 and on OpenAI, the history sent back as the SDK keeps it', async () => {
    const tools = [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { location: { type: 'string' } } } }];
    for (const model of ['gemini-3-pro-preview', 'gpt-4o-mini']) {
      const ask = (messages) => anthropic.messages.create({ model, max_tokens: 4096, thinking: { type: 'enabled', budget_tokens: 2048 }, tools, messages });
      const question = { role: 'user', content: 'Weather in Paris?' };
      const first = await ask([question]);
      const use = first.content.find((b) => b.type === 'tool_use');
      assert.equal(use?.name, 'get_weather', model);
      if (model.startsWith('gemini')) assert.equal(first.content[0].type, 'thinking', `${model}: Gemini's thoughts as a thinking block`);
      // Gemini 3 refuses a call turn without its thought signature: it travels in the tool_use id.
      const second = await ask([question, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '18C' }] }]);
      assert.ok(second.content.some((b) => b.type === 'text' && b.text.length > 0), model);
      const sent = await lastSent();
      assert.ok(JSON.stringify(sent.body).includes('18C'), model);
      if (model.startsWith('gemini')) assert.ok(sent.body.contents[1].parts.some((p) => p.functionCall && p.thoughtSignature), model);
    }
  });

  test('@anthropic-ai/sdk: count tokens, Anthropic\'s count for Claude and an estimate for others', async () => {
    const counted = await anthropic.messages.countTokens({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hello' }] });
    assert.equal(counted.input_tokens, 42);
    assert.equal((await lastSent()).path, '/v1/messages/count_tokens');
    const estimated = await anthropic.messages.countTokens({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello there' }] });
    assert.ok(estimated.input_tokens > 0);
  });

  test('thinking and an output format sent to an OpenAI reasoning model arrive as reasoning effort and a JSON schema', async () => {
    await upstream.script([{ text: '{"city":"Paris"}' }]);
    const msg = await anthropic.messages.create({
      model: 'o4-mini',
      max_tokens: 512,
      thinking: { type: 'enabled', budget_tokens: 8000 },
      output_config: { format: { type: 'json_schema', schema: { type: 'object', properties: { city: { type: 'string' } } } } },
      messages: [{ role: 'user', content: 'A city, as JSON.' }],
    });
    assert.deepEqual(JSON.parse(msg.content[0].text), { city: 'Paris' });
    const sent = (await lastSent()).body;
    assert.equal(sent.reasoning_effort, 'medium');
    assert.equal(sent.response_format.type, 'json_schema');
  });
});

describe('@ai-sdk/anthropic through the gateway', () => {
  test('generateObject on Claude, OpenAI and Gemini: the schema reaches the provider and the object parses', async () => {
    for (const model of ['claude-sonnet-4-5', 'gpt-4o-mini', 'gemini-2.5-flash']) {
      await upstream.script([{ text: '{"city":"Rome","population":2800000}' }]);
      const { object } = await generateObject({
        model: aiAnthropic(model),
        schema: z.object({ city: z.string(), population: z.number() }),
        prompt: 'A city.',
      });
      assert.deepEqual(object, { city: 'Rome', population: 2800000 }, model);
      assert.ok(JSON.stringify((await lastSent()).body).includes('population'), model);
    }
  });

  test('thinking through provider options comes back as reasoning; on OpenAI and Gemini it is their reasoning effort', async () => {
    const ask = (model) =>
      generateText({
        model: aiAnthropic(model),
        prompt: '27 * 453?',
        maxOutputTokens: 4096,
        providerOptions: { anthropic: { thinking: { type: 'enabled', budgetTokens: 2048 } } },
      });
    const result = await ask('claude-sonnet-4-5');
    assert.equal(result.text, '27 * 453 = 12,231.');
    assert.ok(result.reasoningText?.includes('12231'));
    assert.deepEqual((await lastSent()).body.thinking, { type: 'enabled', budget_tokens: 2048 });
    assert.ok((await ask('o4-mini')).text.length > 0);
    assert.equal((await lastSent()).body.reasoning_effort, 'low');
    assert.ok((await ask('gemini-2.5-flash')).text.length > 0);
    assert.equal((await lastSent()).body.generationConfig.thinkingConfig.thinkingBudget, 1024);
  });
});
