// Loads the built gateway modules (both toolchains) for the wasm-layer tests.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GatewayCore } from '../../bindings/gw_abi.js';
import { composeConfig } from '../../config/compose.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const ROOT = root;
export const MODULES = {
  clang: root + 'build/wasm-clang/gateway.wasm',
  emscripten: root + 'build/wasm-emscripten/gateway.wasm',
};
const readJson = (name) => JSON.parse(readFileSync(root + 'config/' + name, 'utf8'));
export const CONFIG_TEXT = composeConfig(readJson('gateway.json'), readJson('providers.json'), readJson('models.json'));

export function loadCore(which, { vars = {}, secrets = ['OPENAI_API_KEY'] } = {}) {
  const module = new WebAssembly.Module(readFileSync(MODULES[which]));
  const core = new GatewayCore(module);
  const result = core.configure(CONFIG_TEXT, { vars, secrets });
  return { core, module, result };
}

// Drives one request to completion, answering fetches from `answer(effect)`
// which returns { status, headers, chunks: [string] }.
export function drive(core, envelope, body, answer = defaultAnswer) {
  const sid = core.open(envelope, body);
  if (sid <= 0) return { sid };
  const res = { sid, status: 0, headers: {}, body: '', done: false, effects: [] };
  const decoder = new TextDecoder();
  const queue = [];
  for (let guard = 0; guard < 1000; guard++) {
    const batch = core.poll(sid);
    for (const e of batch.effects) {
      res.effects.push(e.type);
      if (e.type === 'respond_head') {
        res.status = e.status;
        res.headers = e.headers;
      } else if (e.type === 'respond_chunk') res.body += decoder.decode(batch.body(e));
      else if (e.type === 'fetch') queue.push({ e, reqBody: decoder.decode(batch.body(e)) });
      else if (e.type === 'kv_get') queue.push({ kv: e });
    }
    if (batch.done) {
      res.done = true;
      break;
    }
    const next = queue.shift();
    if (!next) break;
    if (next.kv) {
      core.feed(sid, { id: next.kv.id, type: 'kv_result', found: false, now_ms: envelope.now_ms }, null);
      continue;
    }
    res.upstreamBody = next.reqBody;
    const a = answer(next.e);
    if (!next.e.stream && a.chunks.length === 1) {
      core.feed(sid, { id: next.e.id, type: 'fetch_response', status: a.status, headers: a.headers ?? {}, now_ms: envelope.now_ms + 1 }, a.chunks[0]);
      continue;
    }
    core.feed(sid, { id: next.e.id, type: 'fetch_head', status: a.status, headers: a.headers ?? {}, now_ms: envelope.now_ms + 1 }, null);
    for (const c of a.chunks) core.feed(sid, { id: next.e.id, type: 'fetch_chunk', now_ms: envelope.now_ms + 2 }, c);
    core.feed(sid, { id: next.e.id, type: 'fetch_end', now_ms: envelope.now_ms + 3 }, null);
  }
  core.close(sid);
  return res;
}

const COMPLETION = readFileSync(root + 'tests/fixtures/openai/chat_completion.json', 'utf8');
export function defaultAnswer() {
  return { status: 200, headers: { 'content-type': 'application/json' }, chunks: [COMPLETION] };
}

export function envelope(method, path, extra = {}) {
  return { method, path, headers: { 'content-type': 'application/json' }, now_ms: 1700000000000, entropy: '0123456789abcdef0123456789abcdef', ...extra };
}
