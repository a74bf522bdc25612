// Bundled (esbuild) into the cross-origin page of cors.test.js: the official
// SDKs as a web app would use them, with nothing intercepted.
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';

function headersOf(response, names) {
  return Object.fromEntries(names.map((n) => [n, response.headers.get(n)]));
}

const EXPOSED = ['x-request-id', 'x-aigw-provider', 'x-aigw-cost-usd', 'x-aigw-cache', 'x-ratelimit-remaining-requests',
  'x-ratelimit-limit-tokens', 'server-timing'];

window.runOpenAI = async (baseURL, apiKey) => {
  const client = new OpenAI({ apiKey, baseURL, dangerouslyAllowBrowser: true, maxRetries: 0 });
  const { data, response } = await client.chat.completions
    .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'from a browser' }] })
    .withResponse();
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'stream to a browser' }],
  });
  let streamed = '';
  for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? '';
  // The SDK's default asks for base64 and decodes it.
  const embedding = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hi' });
  let refused = null;
  try {
    await new OpenAI({ apiKey: 'aigw_sk_wrong', baseURL, dangerouslyAllowBrowser: true, maxRetries: 0 }).chat.completions.create({
      model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }],
    });
  } catch (err) {
    refused = { status: err.status, code: err.code, requestId: err.requestID ?? null };
  }
  return {
    content: data.choices[0].message.content,
    headers: headersOf(response, EXPOSED),
    streamed,
    vector: embedding.data[0].embedding,
    refused,
  };
};

window.runAnthropic = async (baseURL, apiKey) => {
  const client = new Anthropic({ apiKey, baseURL, dangerouslyAllowBrowser: true, maxRetries: 0 });
  const { data, response } = await client.messages
    .create({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'from a browser' }] })
    .withResponse();
  let refused = null;
  try {
    await new Anthropic({ apiKey: 'aigw_sk_wrong', baseURL, dangerouslyAllowBrowser: true, maxRetries: 0 }).messages.create({
      model: 'claude-haiku-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'x' }],
    });
  } catch (err) {
    refused = { status: err.status, type: err.error?.error?.type ?? null, requestId: err.requestID ?? null };
  }
  return { type: data.type, text: data.content[0]?.text, requestId: data._request_id, headers: headersOf(response, EXPOSED), refused };
};
