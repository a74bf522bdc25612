// Loads the built gateway modules (both toolchains) for the wasm-layer tests.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
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

export const sha256 = (text) => createHash('sha256').update(text).digest('hex');
// The test host's ADMIN_API_KEY and a seeded user key (tenant "acme", user
// "alice") that envelope() sends unless told otherwise.
export const ADMIN_KEY = 'test-admin-key-0123456789';
export const TEST_KEY = 'aigw_sk_testkey0123456789abcdef';
const TEST_KEY_RECORD = JSON.stringify({
  id: 'key_test', digest: sha256(TEST_KEY), prefix: 'aigw_sk_test', tenant_id: 'acme', user_id: 'alice',
  agent_id: '', role: 'user', models: [], limits: {}, created_at: 1700000000000,
});

// Limits high enough that tests about other things never meet them (they
// send many requests at one instant).
const GENEROUS = {
  AI_RATE_LIMIT_RPM: '10000000',
  AI_RATE_LIMIT_TPM: '1000000000000',
  AI_QUOTA_DAILY_LIMIT: '10000000000',
  AI_QUOTA_MONTHLY_LIMIT: '10000000000',
  AI_QUOTA_MONTHLY_SPEND_LIMIT: '1000000',
};

export function loadCore(which, { vars = {}, secrets = ['OPENAI_API_KEY'], bindings = [] } = {}) {
  const module = new WebAssembly.Module(readFileSync(MODULES[which]));
  const core = new GatewayCore(module);
  // The cache is on only where a test turns it on (others repeat identical requests).
  const env = { vars: { ...GENEROUS, AI_CACHE_ENABLED: 'false', ...vars }, secrets, digests: { ADMIN_API_KEY: sha256(ADMIN_KEY) }, bindings };
  const result = core.configure(CONFIG_TEXT, env);
  // What the worker's KV and ledger Durable Object would hold.
  core.testKv = new Map([[`key:${sha256(TEST_KEY)}`, TEST_KEY_RECORD]]);
  core.testLedgers = new Map();
  return { core, module, result };
}

const isStore = (e) => e.type.startsWith('kv_') || e.type === 'ledger' || e.type === 'd1_exec';

// Performs a KV, ledger or D1 effect against the core's in-memory stores;
// returns the feed for it, or null for a call nobody waits for. D1 answers
// from `core.testD1(sql, params)` (default: no rows) and logs each statement
// in `core.testD1Log` when a test set one.
function storeEffect(core, e, body, nowMs) {
  if (e.type === 'd1_exec') {
    core.testD1Log?.push({ sql: e.sql, params: e.params });
    const result = core.testD1?.(e.sql, e.params) ?? { rows: [], changes: 0 };
    return e.id === undefined ? null : [{ id: e.id, type: 'd1_result', ok: true, now_ms: nowMs }, JSON.stringify(result)];
  }
  const kv = core.testKv ?? new Map();
  if (e.type === 'kv_get') {
    (core.testKvReads ??= []).push(e.key);
    const value = kv.get(e.key);
    return [{ id: e.id, type: 'kv_result', found: value !== undefined, now_ms: nowMs }, value ?? null];
  }
  if (e.type === 'kv_put') {
    kv.set(e.key, new TextDecoder().decode(body));
    return [{ id: e.id, type: 'kv_done', ok: true, now_ms: nowMs }, null];
  }
  if (e.type === 'kv_delete') {
    kv.delete(e.key);
    return [{ id: e.id, type: 'kv_done', ok: true, now_ms: nowMs }, null];
  }
  if (e.type === 'kv_list') {
    const keys = [...kv.keys()].filter((k) => k.startsWith(e.prefix)).sort();
    return [{ id: e.id, type: 'kv_list_result', ok: true, now_ms: nowMs }, JSON.stringify({ keys, complete: true })];
  }
  const ledgers = core.testLedgers ?? new Map();
  if (!ledgers.has(e.tenant)) ledgers.set(e.tenant, { id: core.ledgerOpen(new Map()), stored: new Map() });
  const ledger = ledgers.get(e.tenant);
  const out = core.ledgerApply(ledger.id, body, nowMs);
  for (const [key, value] of out.writes) ledger.stored.set(key, value);
  return e.id === undefined ? null : [{ id: e.id, type: 'ledger_result', ok: true, now_ms: nowMs }, out.result];
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
      else if (isStore(e)) {
        const feed = storeEffect(core, e, batch.body(e), envelope.now_ms);
        if (feed) queue.push({ store: feed });
      }
    }
    if (batch.done) {
      res.done = true;
      break;
    }
    const next = queue.shift();
    if (!next) break;
    if (next.store) {
      core.feed(sid, ...next.store);
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

// Polls a session, performing its KV, ledger and D1 effects, until a batch
// asks for something else (a fetch, a response); returns that batch.
export function pollPastStores(core, sid, nowMs = 1700000000000) {
  for (;;) {
    const batch = core.poll(sid);
    const others = batch.effects.filter((e) => !isStore(e));
    const feeds = batch.effects
      .filter(isStore)
      .map((e) => storeEffect(core, e, batch.body(e), nowMs))
      .filter(Boolean);
    if (others.length || !feeds.length) {
      batch.effects = others;
      return batch;
    }
    for (const f of feeds) core.feed(sid, ...f);
  }
}

const COMPLETION = readFileSync(root + 'tests/fixtures/openai/chat_completion.json', 'utf8');
export function defaultAnswer() {
  return { status: 200, headers: { 'content-type': 'application/json' }, chunks: [COMPLETION] };
}

export function envelope(method, path, extra = {}) {
  return {
    method,
    path,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_KEY}` },
    now_ms: 1700000000000,
    entropy: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    ...extra,
  };
}
