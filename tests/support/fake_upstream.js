// A scriptable upstream for tests and benchmarks. Speaks OpenAI
// (POST /v1/chat/completions, /v1/embeddings, and the Responses API with its
// stored responses: fake_responses.js), Anthropic (POST /v1/messages,
// thinking blocks with signatures when thinking is enabled, refusing a
// thinking request whose last tool-use turn lost its thinking; /count_tokens)
// and Gemini (POST /v1beta/models/{m}:generateContent, :streamGenerateContent,
// :embedContent), answering from the shared fixtures (JSON and SSE; requests
// with tools get the tool-call fixtures, unless their last turn already
// carries the tools' results). Each request takes the next
// scripted behaviour from a queue (POST /__script), or answers normally:
//   { status, body, headers, delay_ms, hang, stream_chunks_then_cut, reset, floats,
//     stream_body: [raw SSE pieces, written as given, for a 200 stream],
//     hold_after_events: n (a stream stops after n events until POST /__release),
//     text: "…" (a whole answer with this text, in the provider's own shape) }
// GET /__requests lists what it received; POST /__reset clears both.
// POST /__chaos {path, rate, status} makes that share of requests to `path`
// fail with `status`, drawn from a fixed-seed sequence (reproducible load runs);
// {"record": false} stops keeping requests (long runs).
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createResponses } from './fake_responses.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const fixture = (name) => readFileSync(FIXTURES + name, 'utf8');
const STREAM_FIXTURE = fixture('openai/chat_stream.sse');

// Which provider a path belongs to, and what it answers.
function route(pathname, body) {
  // A request whose last turn carries tool results gets an answer in text,
  // as a model answers once it has what it asked for.
  const tools = Array.isArray(body.tools) && body.tools.length > 0 && !answersToolResults(body);
  if (pathname === '/v1/chat/completions') {
    if (!tools) return { kind: 'openai' };
    return { kind: 'fixture', stream: body.stream, file: body.stream ? 'openai/chat_stream_tool_call.sse' : null, json: toolCompletion(body.model) };
  }
  if (pathname === '/v1/embeddings')
    return { kind: 'embeddings', body };
  if (pathname === '/v1/responses') return { kind: 'responses' };
  if (pathname === '/v1/messages/count_tokens') return { kind: 'fixture', json: { input_tokens: 42 } };
  if (pathname === '/v1/messages' && body.thinking?.type === 'enabled' && !tools)
    return { kind: 'fixture', stream: body.stream, file: `anthropic/${body.stream ? 'stream_thinking.sse' : 'message_thinking.json'}` };
  if (pathname === '/v1/messages' && body.thinking?.type === 'enabled' && !body.stream)
    return { kind: 'fixture', file: 'anthropic/message_thinking_tool_use.json' };
  if (pathname === '/v1/messages')
    return { kind: 'fixture', stream: body.stream, file: `anthropic/${body.stream ? (tools ? 'stream_tool_use.sse' : 'stream.sse') : tools ? 'message_tool_use.json' : 'message.json'}` };
  const gemini = pathname.match(/^\/v1beta\/models\/[^:]+:(\w+)$/);
  if (gemini) {
    const op = gemini[1];
    if (op === 'embedContent') return { kind: 'fixture', file: 'gemini/embed.json' };
    if (op === 'batchEmbedContents') return { kind: 'fixture', file: 'gemini/batch_embed.json' };
    const stream = op === 'streamGenerateContent';
    // Gemini 3 signs its function calls and answers them with thoughts.
    if (op === 'generateContent' && tools && pathname.includes('/models/gemini-3'))
      return { kind: 'fixture', file: 'gemini/generate_thinking_function_call.json' };
    if (op === 'generateContent' || stream)
      return { kind: 'fixture', stream, file: `gemini/${stream ? (tools ? 'stream_function_call.sse' : 'stream.sse') : tools ? 'generate_function_call.json' : 'generate.json'}` };
  }
  return null;
}

function unsignedCall(body) {
  return (body.contents ?? []).some((c) => c?.role === 'model' && (c.parts ?? []).some((p) => p?.functionCall && !p.thoughtSignature));
}

function thinkingMissing(body) {
  const assistant = (body.messages ?? []).filter((m) => m?.role === 'assistant').at(-1);
  const blocks = Array.isArray(assistant?.content) ? assistant.content : [];
  return blocks.some((b) => b?.type === 'tool_use') && !['thinking', 'redacted_thinking'].includes(blocks[0]?.type);
}

function answersToolResults(body) {
  const last = (list) => (Array.isArray(list) && list.length ? list[list.length - 1] : null);
  const message = last(body.messages);
  if (message?.role === 'tool') return true;
  if (Array.isArray(message?.content) && message.content.some((b) => b?.type === 'tool_result')) return true;
  const content = last(body.contents);
  return Array.isArray(content?.parts) && content.parts.some((p) => p?.functionResponse);
}

// Embeddings of [0.25, -0.5], as base64 when asked, unless the step says
// `floats` (as vLLM, TEI and others answer, ignoring encoding_format).
function embeddings(body, floats) {
  const base64 = body.encoding_format === 'base64' && !floats;
  const vector = base64 ? Buffer.from(new Float32Array([0.25, -0.5]).buffer).toString('base64') : [0.25, -0.5];
  const data = [].concat(body.input).map((_, index) => ({ object: 'embedding', index, embedding: vector }));
  return { kind: 'fixture', json: { object: 'list', data, model: body.model, usage: { prompt_tokens: 7, total_tokens: 7 } } };
}

function toolCompletion(model) {
  return {
    id: 'chatcmpl-tool', object: 'chat.completion', created: 1700000000, model,
    choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_abc123', type: 'function', function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA"}' } }] }, finish_reason: 'tool_calls' }],
    usage: { prompt_tokens: 80, completion_tokens: 17, total_tokens: 97 },
  };
}

// A whole answer carrying `text`, as each provider shapes one.
function textAnswer(pathname, model, text) {
  if (pathname === '/v1/messages')
    return { id: 'msg_text', type: 'message', role: 'assistant', model, content: [{ type: 'text', text }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 10, output_tokens: 5 } };
  if (pathname.startsWith('/v1beta/'))
    return { candidates: [{ content: { parts: [{ text }], role: 'model' }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 5, totalTokenCount: 13 } };
  return completion(model, text);
}

// The one function a request forces: OpenAI's tool_choice, or Gemini's mode ANY with one allowed name.
function forcedFunction(body) {
  if (body.tool_choice?.type === 'function') return body.tool_choice.function?.name;
  const config = body.toolConfig?.functionCallingConfig;
  if (config?.mode === 'ANY' && config.allowedFunctionNames?.length === 1) return config.allowedFunctionNames[0];
  return null;
}

function forcedCall(pathname, model, name, args) {
  if (pathname.startsWith('/v1beta/'))
    return { candidates: [{ content: { parts: [{ functionCall: { name, args: JSON.parse(args) } }], role: 'model' }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 5, totalTokenCount: 13 } };
  const answer = toolCompletion(model);
  answer.choices[0].message.tool_calls[0].function = { name, arguments: args };
  return answer;
}

function completion(model, content) {
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: 1700000000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
  };
}

// The bindings that send OpenAI, Anthropic and Gemini to this upstream, with
// no retries (a test's scripted failure is answered as it is).
export function providerBindings(upstream) {
  return {
    OPENAI_API_KEY: 'sk-openai-e2e',
    OPENAI_BASE_URL: upstream.url,
    ANTHROPIC_API_KEY: 'sk-ant-e2e',
    ANTHROPIC_BASE_URL: upstream.url,
    GEMINI_API_KEY: 'gemini-e2e-key',
    GEMINI_BASE_URL: upstream.base + '/v1beta',
    AI_GATEWAY_MAX_RETRIES: '0',
  };
}

export async function startFakeUpstream({ port = 0 } = {}) {
  const script = [];
  const received = [];
  let chaos = null;
  let record = true;
  let seed = 12345;
  const draw = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const sockets = new Set();
  const held = []; // streams waiting for POST /__release
  const responses = createResponses();
  const server = http.createServer(async (req, res) => {
    let raw = '';
    try {
      for await (const chunk of req) raw += chunk;
    } catch {
      return; // the caller went away before its body ended: nobody to answer
    }
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/__script' && req.method === 'POST') {
      script.push(...JSON.parse(raw));
      return res.end('{}');
    }
    if (url.pathname === '/__requests') {
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify(received));
    }
    if (url.pathname === '/__release') {
      for (const release of held.splice(0)) release();
      return res.end('{}');
    }
    if (url.pathname === '/__reset') {
      script.length = 0;
      received.length = 0;
      chaos = null;
      record = true;
      return res.end('{}');
    }
    if (url.pathname === '/__chaos' && req.method === 'POST') {
      const c = JSON.parse(raw);
      chaos = c.path ? c : null;
      record = c.record !== false;
      return res.end('{}');
    }
    let body = {};
    try {
      body = JSON.parse(raw);
    } catch {}
    // Gemini 3 refuses a function call turn whose thought signature is missing (since 2026-01-30).
    if (url.pathname.includes('/models/gemini-3') && unsignedCall(body)) {
      received.push({ path: url.pathname + url.search, headers: req.headers, body });
      res.writeHead(400, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ error: { code: 400, message: 'Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly.', status: 'INVALID_ARGUMENT' } }));
    }
    // Anthropic refuses thinking when the last assistant turn's tool use does not start with its thinking.
    if (url.pathname === '/v1/messages' && body.thinking?.type === 'enabled' && thinkingMissing(body)) {
      received.push({ path: url.pathname + url.search, headers: req.headers, body });
      res.writeHead(400, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`. When `thinking` is enabled, a final `assistant` message must start with a thinking block.' } }));
    }
    if (req.method === 'DELETE' && url.pathname.startsWith('/v1/responses/')) {
      received.push({ path: url.pathname, method: 'DELETE', headers: req.headers, body });
      const result = responses.remove(url.pathname.slice('/v1/responses/'.length));
      res.writeHead(result.status, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(result.json));
    }
    let answer = req.method === 'POST' ? route(url.pathname, body) : null;
    if (!answer) {
      res.statusCode = 404;
      return res.end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error', param: null, code: null } }));
    }
    if (record) received.push({ path: url.pathname + url.search, headers: req.headers, body });
    let step = script.shift() ?? {};
    if (chaos && url.pathname === chaos.path && draw() < chaos.rate) step = { status: chaos.status ?? 500 };
    if (step.delay_ms) await new Promise((r) => setTimeout(r, step.delay_ms));
    if (step.hang) return; // never answer; the gateway's timeout must fire
    if (step.reset) return req.socket.destroy();
    if (step.status && step.status !== 200) {
      res.writeHead(step.status, { 'content-type': 'application/json', ...(step.headers ?? {}) });
      return res.end(typeof step.body === 'string' ? step.body : JSON.stringify(step.body ?? { error: { message: 'scripted failure', type: 'server_error', param: null, code: null } }));
    }
    if (answer.kind === 'embeddings') answer = embeddings(answer.body, step.floats);
    res.setHeader('x-request-id', 'req_fake_' + received.length);
    for (const [name, value] of Object.entries(step.headers ?? {})) res.setHeader(name, value);
    if (step.stream_body) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const piece of [].concat(step.stream_body)) {
        if (step.chunk_delay_ms) await new Promise((r) => setTimeout(r, step.chunk_delay_ms));
        res.write(piece);
      }
      return res.end();
    }
    if (answer.kind === 'responses') {
      const result = responses.answer(body, step.text);
      if (!result.events) {
        res.writeHead(result.status, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(result.json));
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const event of result.events) res.write(event);
      return res.end();
    }
    if (step.text !== undefined && !body.stream && answer.kind !== 'embeddings') {
      res.writeHead(200, { 'content-type': 'application/json' });
      // A request forcing one function gets the call, the text as its arguments (how a JSON tool answers).
      const forced = forcedFunction(body);
      return res.end(JSON.stringify(forced ? forcedCall(url.pathname, body.model, forced, step.text) : textAnswer(url.pathname, body.model, step.text)));
    }
    if (answer.kind === 'fixture') {
      if (answer.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        for (const event of fixture(answer.file).split('\n\n').filter(Boolean)) {
          if (step.chunk_delay_ms) await new Promise((r) => setTimeout(r, step.chunk_delay_ms));
          res.write(event + '\n\n');
        }
        return res.end();
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(answer.file ? fixture(answer.file) : JSON.stringify(answer.json));
    }
    if (body.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const events = STREAM_FIXTURE.split('\n\n').filter(Boolean).map((e) => e + '\n\n');
      const cutAfter = step.stream_chunks_then_cut ?? Infinity;
      for (let i = 0; i < events.length; i++) {
        if (i > 0 && step.chunk_delay_ms) await new Promise((r) => setTimeout(r, step.chunk_delay_ms));
        if (i === step.hold_after_events) await new Promise((r) => held.push(r));
        if (i >= cutAfter) return req.socket.destroy();
        res.write(events[i]);
      }
      return res.end();
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    const last = body.messages?.at?.(-1)?.content;
    res.end(JSON.stringify(completion(body.model, `echo: ${typeof last === 'string' ? last : ''}`)));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    url: base + '/v1',
    base,
    script: (steps) => fetch(base + '/__script', { method: 'POST', body: JSON.stringify(steps) }),
    requests: async () => (await fetch(base + '/__requests')).json(),
    reset: () => fetch(base + '/__reset', { method: 'POST' }),
    release: () => fetch(base + '/__release', { method: 'POST' }),
    chaos: (c) => fetch(base + '/__chaos', { method: 'POST', body: JSON.stringify(c) }),
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(r);
      }),
  };
}

// Standalone: `node tests/support/fake_upstream.js [port]` (used by scripts/bench).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const up = await startFakeUpstream({ port: Number(process.argv[2] ?? 0) });
  console.log(up.url);
}
