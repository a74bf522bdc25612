// scripts/bench: measures (never asserts) module size, instantiate time, core
// cost per 1 KB chat request natively and in wasm, and load through the
// gateway vs a bare pass-through worker, both in workerd against the same
// fake upstream on loopback. Prints a table and rewrites docs/BENCHMARKS.md.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import autocannon from 'autocannon';
import { GatewayCore } from '../../bindings/gw_abi.js';
import { MODULES, ROOT, drive, envelope, loadCore } from '../support/modules.js';
import { startFakeUpstream } from '../support/fake_upstream.js';
import { startGateway } from '../support/gateway.js';
import { measureWranglerDev } from './wrangler_dev.mjs';
import { portkeyDir, portkeyHeaders, startPortkey } from './portkey.mjs';

const LOAD_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const SEQUENTIAL_REQUESTS = Number(process.env.BENCH_SEQUENTIAL ?? 300);
const REQUEST = readFileSync(ROOT + 'tests/fixtures/bench/chat_1k.json', 'utf8');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function moduleStats(which) {
  const bytes = readFileSync(MODULES[which]);
  const compile = [];
  const instantiate = [];
  for (let i = 0; i < 30; i++) {
    let t = performance.now();
    const module = new WebAssembly.Module(bytes);
    compile.push(performance.now() - t);
    t = performance.now();
    new GatewayCore(module);
    instantiate.push(performance.now() - t);
  }
  return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, compileMs: median(compile), instantiateMs: median(instantiate) };
}

// The same request sent to Claude: encoded for Anthropic, answered from the
// fixture, decoded and rendered back as a chat completion.
const ANTHROPIC_REQUEST = REQUEST.replace('"gpt-4o-mini"', '"claude-sonnet-4-5"');
const ANTHROPIC_ANSWER = readFileSync(ROOT + 'tests/fixtures/anthropic/message.json', 'utf8');
const anthropicAnswer = () => ({ status: 200, headers: { 'content-type': 'application/json' }, chunks: [ANTHROPIC_ANSWER] });

// The same conversation on the Responses API (its messages as input items,
// the system prompt as instructions, not stored), to OpenAI and to Claude.
const chat1k = JSON.parse(REQUEST);
const RESPONSES_REQUEST = JSON.stringify({
  model: chat1k.model,
  instructions: chat1k.messages.find((m) => m.role === 'system')?.content,
  input: chat1k.messages.filter((m) => m.role !== 'system'),
  store: false,
});
const RESPONSES_ANTHROPIC_REQUEST = RESPONSES_REQUEST.replace('"gpt-4o-mini"', '"claude-sonnet-4-5"');
// OpenAI answers on its own Responses API (not translated); Groq has only chat (translated to it).
const RESPONSES_ANSWER = readFileSync(ROOT + 'tests/fixtures/openai/responses_response.json', 'utf8');
const responsesAnswer = () => ({ status: 200, headers: { 'content-type': 'application/json' }, chunks: [RESPONSES_ANSWER] });
const RESPONSES_CHAT_REQUEST = RESPONSES_REQUEST.replace('"gpt-4o-mini"', '"llama-3.1-8b-instant"');

// The whole session, and the part of it spent in the ledger (which runs in
// the tenant's Durable Object, not in the request's isolate): both medians.
function wasmCoreMicros(which, request = REQUEST, answer = undefined, path = '/v1/chat/completions') {
  const { core } = loadCore(which, { secrets: ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GROQ_API_KEY'] });
  const env = envelope('POST', path);
  for (let i = 0; i < 3000; i++) drive(core, env, request, answer);
  let inLedger = 0;
  const apply = core.ledgerApply.bind(core);
  core.ledgerApply = (...args) => {
    const t = performance.now();
    const out = apply(...args);
    inLedger += performance.now() - t;
    return out;
  };
  const whole = [];
  const isolate = [];
  for (let b = 0; b < 30; b++) {
    inLedger = 0;
    const t = performance.now();
    for (let i = 0; i < 1000; i++) drive(core, env, request, answer);
    const elapsed = performance.now() - t;
    whole.push(elapsed);
    isolate.push(elapsed - inLedger);
  }
  return { whole: median(whole), isolate: median(isolate) };
}

// The ledger's CPU per metered request (one reserve and one settle on a warm
// document): what the tenant's Durable Object spends per request.
function ledgerMicros(which) {
  const { core } = loadCore(which);
  const ledger = core.ledgerOpen(new Map());
  const stored = new Map(); // what the Durable Object writes to storage
  const apply = (op) => {
    for (const [key, value] of core.ledgerApply(ledger, JSON.stringify(op), 1700000000000).writes) stored.set(key, value);
  };
  apply({ op: 'budget_set', budget: { id: 'usd-monthly', user: '', type: 'USD', limit: 10 ** 15, period: 'monthly', thresholds: [80, 90, 100], pause: true } });
  const round = (i) => {
    apply({ op: 'reserve', request_id: `r${i}`, key: 'key_bench', user: 'u', key_limits: { rpm: 10 ** 7 }, user_defaults: {}, tokens: 300, usd: 400000, brl: 2000000, ttl_ms: 90000 });
    apply({ op: 'settle', request_id: `r${i}`, tokens: 120, usd: 100000, brl: 540000 });
  };
  for (let i = 0; i < 2000; i++) round(i);
  const t = performance.now();
  for (let i = 0; i < 5000; i++) round(i);
  const micros = ((performance.now() - t) * 1000) / 5000;
  if (!stored.has('a:key:key_bench')) throw new Error('ledger bench stored nothing');
  return micros;
}

const bearer = (key) => ({ 'content-type': 'application/json', authorization: `Bearer ${key}` });

async function load(url, key, headers = bearer(key)) {
  const result = await autocannon({
    url: url + '/v1/chat/completions',
    method: 'POST',
    headers,
    body: REQUEST,
    connections: CONNECTIONS,
    duration: LOAD_SECONDS,
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

// One connection, one request at a time: end-to-end latency, and for the
// gateway what auth and the ledger took by its own Server-Timing header
// (workerd's clock advances with I/O, so these are the I/O waits).
async function sequential(url, key, count = SEQUENTIAL_REQUESTS, headers = bearer(key)) {
  const total = [];
  const timing = { auth: [], ledger: [] };
  let lastCache = null;
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const res = await fetch(url + '/v1/chat/completions', { method: 'POST', headers, body: REQUEST });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${url}: status ${res.status}`);
    total.push(performance.now() - t);
    lastCache = res.headers.get('x-aigw-cache');
    for (const part of (res.headers.get('server-timing') ?? '').split(',')) {
      const [name, dur] = part.trim().split(';dur=');
      if (timing[name]) timing[name].push(Number(dur));
    }
  }
  const mean = (a) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : NaN);
  return { p50: median(total), auth: mean(timing.auth), ledger: mean(timing.ledger), cache: lastCache };
}

const sizes = { clang: moduleStats('clang'), emscripten: moduleStats('emscripten') };
// The dashboard's first load: its page, script and stylesheet (built by dashboard/build.mjs).
const dashboardGzip = ['index.html', 'app.js', 'app.css'].reduce(
  (n, f) => n + gzipSync(readFileSync(new URL(`../../build/assets/dashboard/${f}`, import.meta.url)), { level: 9 }).length,
  0,
);
const micros = {
  clang: wasmCoreMicros('clang'),
  emscripten: wasmCoreMicros('emscripten'),
  anthropic: wasmCoreMicros('clang', ANTHROPIC_REQUEST, anthropicAnswer),
  responses: wasmCoreMicros('clang', RESPONSES_REQUEST, responsesAnswer, '/v1/responses'),
  responsesChat: wasmCoreMicros('clang', RESPONSES_CHAT_REQUEST, undefined, '/v1/responses'),
  responsesAnthropic: wasmCoreMicros('clang', RESPONSES_ANTHROPIC_REQUEST, anthropicAnswer, '/v1/responses'),
};
const ledger = ledgerMicros('clang');

// What 100 metered requests cost the tenant's ledger and D1, counted from the
// core's effects: ledger calls, and D1 statements (each usage row its own
// without the queue; with it, the consumer writes a batch of up to 100 rows
// in one statement).
function storageCalls(bindings, vars = {}) {
  const { core } = loadCore('clang', { bindings, vars });
  const env = envelope('POST', '/v1/chat/completions');
  let ledgerCalls = 0, statements = 0, queued = 0;
  // Steady state: after 100 requests of warm-up, 1000 counted (per 100).
  for (let i = 0; i < 100; i++) drive(core, env, REQUEST);
  for (let i = 0; i < 1000; i++) {
    for (const type of drive(core, env, REQUEST).effects) {
      if (type === 'ledger') ledgerCalls++;
      if (type === 'd1_exec') statements++;
      if (type === 'queue_send') queued++;
    }
  }
  return { ledgerCalls: ledgerCalls / 10, statements: (statements + Math.ceil(queued / 100)) / 10 };
}
const storageDirect = storageCalls([]);
const storageQueued = storageCalls(['USAGE_QUEUE'], { AI_GATEWAY_CREDIT_LEASES: 'false' });
const storageLeased = storageCalls(['USAGE_QUEUE']);
// Many isolates against one tenant ledger on simulated time (tests/bench/lease_sim.cc).
const simulated = execFileSync(ROOT + 'build/native/gw_lease_sim').toString().trim().split('\n').map((l) => JSON.parse(l));
const native = JSON.parse(execFileSync(ROOT + 'build/native/gw_bench_native', ['30']).toString()).native_us_per_request;

const upstream = await startFakeUpstream();
// The API path alone: miniflare's asset router would add a worker hop that
// Cloudflare does not (wrangler.toml sends every non-dashboard path straight to the worker).
const API_ONLY = { assets: false };
const gateway = await startGateway({ OPENAI_API_KEY: 'bench', OPENAI_BASE_URL: upstream.url }, API_ONLY);
const bare = await startGateway({ OPENAI_API_KEY: 'bench', UPSTREAM_URL: upstream.url }, { script: 'tests/bench/passthrough_worker.js', key: false, ...API_ONLY });
await load(gateway.url, gateway.key); // warm both
await load(bare.url, 'none');
const seqBare = await sequential(bare.url, 'none');
const seqGateway = await sequential(gateway.url, gateway.key);
const viaBare = await load(bare.url, 'none');
const viaGateway = await load(gateway.url, gateway.key);
await gateway.close();
// A peer in the same workerd setup: Portkey's worker, when PORTKEY_DIR names its checkout.
let seqPortkey = null;
let viaPortkey = null;
if (portkeyDir()) {
  const portkey = await startPortkey(portkeyDir());
  const headers = portkeyHeaders(upstream);
  await load(portkey.url, null, headers);
  seqPortkey = await sequential(portkey.url, null, SEQUENTIAL_REQUESTS, headers);
  viaPortkey = await load(portkey.url, null, headers);
  await portkey.close();
}
// Before: the same metered path with a ledger reserve and settle per request (no credit leases).
const perRequest = await startGateway({ OPENAI_API_KEY: 'bench', OPENAI_BASE_URL: upstream.url, AI_GATEWAY_CREDIT_LEASES: 'false' }, API_ONLY);
await load(perRequest.url, perRequest.key);
const seqPerRequest = await sequential(perRequest.url, perRequest.key);
const viaPerRequest = await load(perRequest.url, perRequest.key);
await perRequest.close();
// The same request from the response cache: one miss, then hits only.
const cached = await startGateway({ OPENAI_API_KEY: 'bench', OPENAI_BASE_URL: upstream.url, AI_CACHE_ENABLED: 'true' }, API_ONLY);
await sequential(cached.url, cached.key, 20);
const seqHit = await sequential(cached.url, cached.key);
if (seqHit.cache !== 'HIT') throw new Error(`cache bench: expected hits, got ${seqHit.cache}`);
const viaHits = await load(cached.url, cached.key);
await cached.close();
await bare.close();
await upstream.close();
// As a user runs it: each worker under its own `wrangler dev` (Portkey's too, when PORTKEY_DIR names its checkout).
const dev = await measureWranglerDev();

const kb = (n) => (n / 1024).toFixed(1) + ' KB';
const NOT_RUN = 'not run (set PORTKEY_DIR)';
const signed = (d) => `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(2)}`;
const added = (t) => (t ? `${t.p50.toFixed(2)} (${signed(t.p50 - dev.bare.p50)})` : NOT_RUN);
const devLatency = () => [dev.bare.p50.toFixed(2), added(dev.gateway), added(dev.gateway_quiet_logs), added(dev.gateway_quiet_no_router), added(dev.portkey)].join(' / ');
const ratio = (t) => (t ? `${t.rps.toFixed(0)} (${(t.rps / dev.bare.rps).toFixed(2)})` : NOT_RUN);
const devThroughput = () => [dev.bare.rps.toFixed(0), ratio(dev.gateway), ratio(dev.gateway_quiet_logs), ratio(dev.gateway_quiet_no_router), ratio(dev.portkey)].join(' / ');
const both = (m) => `${m.isolate.toFixed(2)} / ${m.whole.toFixed(2)}`;
const rows = [
  ['module size, clang wasm32-wasi (raw / gzip)', `${kb(sizes.clang.raw)} / ${kb(sizes.clang.gzip)}`, '≤ 150 KB gzip'],
  ['module size, Emscripten 3.1.6 (raw / gzip)', `${kb(sizes.emscripten.raw)} / ${kb(sizes.emscripten.gzip)}`, '≤ 150 KB gzip'],
  ['dashboard first load (page, script, styles; gzip)', kb(dashboardGzip), '< 150 KB gzip'],
  ['compile + instantiate, clang (ms, median of 30)', `${sizes.clang.compileMs.toFixed(2)} + ${sizes.clang.instantiateMs.toFixed(3)}`, 'instantiate ≤ 2 ms'],
  ['compile + instantiate, Emscripten (ms)', `${sizes.emscripten.compileMs.toFixed(2)} + ${sizes.emscripten.instantiateMs.toFixed(3)}`, 'instantiate ≤ 2 ms'],
  ['core µs per 1 KB chat request, native g++ -O2', native.toFixed(2), ''],
  ['core µs per 1 KB chat request, wasm clang (incl. JS marshalling): request isolate / with the ledger', both(micros.clang), '≤ 20 µs'],
  ['core µs per 1 KB chat request, wasm Emscripten: request isolate / with the ledger', both(micros.emscripten), '≤ 20 µs'],
  ['core µs per 1 KB chat request translated to Anthropic and back, wasm clang: request isolate / with the ledger', both(micros.anthropic), ''],
  ['core µs per 1 KB Responses request to OpenAI (not translated: its own Responses API), wasm clang: request isolate / with the ledger', both(micros.responses), ''],
  ['core µs per 1 KB Responses request to Groq (translated to chat and back), wasm clang: request isolate / with the ledger', both(micros.responsesChat), ''],
  ['core µs per 1 KB Responses request translated to Anthropic and back, wasm clang: request isolate / with the ledger', both(micros.responsesAnthropic), ''],
  ['ledger µs per metered request (reserve + settle, in the Durable Object), wasm clang', ledger.toFixed(2), ''],
  ['ledger Durable Object calls per 100 requests (ample headroom): per request / with credit leases', `${storageQueued.ledgerCalls} / ${storageLeased.ledgerCalls}`, '≤ 2'],
  ['D1 statements per 100 requests: usage rows direct / through the usage queue', `${storageDirect.statements} / ${storageQueued.statements}`, '≤ 2'],
  ['auth + limits on a warm key, mean ms (Server-Timing: auth / ledger wait), gateway / before', `${(seqGateway.auth + seqGateway.ledger).toFixed(2)} (${seqGateway.auth.toFixed(2)} / ${seqGateway.ledger.toFixed(2)}) / ${(seqPerRequest.auth + seqPerRequest.ledger).toFixed(2)} (${seqPerRequest.auth.toFixed(2)} / ${seqPerRequest.ledger.toFixed(2)})`, ''],
  [`bare pass-through worker: req/s, p50 / p99 ms (${CONNECTIONS} conns, ${LOAD_SECONDS}s)`, `${viaBare.rps.toFixed(0)}, ${viaBare.p50} / ${viaBare.p99}`, ''],
  [`gateway (credit leases, the default): req/s (÷ bare), p50 / p99 ms`, `${viaGateway.rps.toFixed(0)} (${(viaGateway.rps / viaBare.rps).toFixed(2)}), ${viaGateway.p50} / ${viaGateway.p99}`, '≥ 0.8 of bare'],
  [`before: gateway with a ledger call per request (credit_leases false): req/s (÷ bare), p50 / p99 ms`, `${viaPerRequest.rps.toFixed(0)} (${(viaPerRequest.rps / viaBare.rps).toFixed(2)}), ${viaPerRequest.p50} / ${viaPerRequest.p99}`, ''],
  [`Portkey's gateway, same workerd setup: req/s (÷ bare), p50 / p99 ms`, viaPortkey ? `${viaPortkey.rps.toFixed(0)} (${(viaPortkey.rps / viaBare.rps).toFixed(2)}), ${viaPortkey.p50} / ${viaPortkey.p99}` : NOT_RUN, ''],
  [`one connection: p50 ms, bare / gateway (added) / before, per-request ledger (added) / Portkey (added)`, `${seqBare.p50.toFixed(2)} / ${seqGateway.p50.toFixed(2)} (${signed(seqGateway.p50 - seqBare.p50)}) / ${seqPerRequest.p50.toFixed(2)} (${signed(seqPerRequest.p50 - seqBare.p50)}) / ${seqPortkey ? `${seqPortkey.p50.toFixed(2)} (${signed(seqPortkey.p50 - seqBare.p50)})` : NOT_RUN}`, '≤ +0.5 ms'],
  [`one connection, cache hits: p50 ms, bare (calls the upstream) / gateway hit`, `${seqBare.p50.toFixed(2)} / ${seqHit.p50.toFixed(2)}`, ''],
  [`gateway, every request a cache hit: req/s, p50 / p99 ms`, `${viaHits.rps.toFixed(0)}, ${viaHits.p50} / ${viaHits.p99}`, ''],
  ['under `wrangler dev`, one connection: p50 ms, bare / gateway (added) / gateway, LOG_LEVEL=warn (added) / the same without the asset router (added) / Portkey (added)', devLatency(), '≤ Portkey\'s added'],
  ['under `wrangler dev`, 10 connections: req/s (÷ bare), bare / gateway / gateway, LOG_LEVEL=warn / the same without the asset router / Portkey', devThroughput(), ''],
];
const table = ['| measure | value | target |', '| --- | --- | --- |', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

// The capacity model: one tenant's ledger is one Durable Object, which
// Cloudflare documents at a soft limit of 1,000 requests per second; a
// tenant's throughput is that times the requests served per ledger call.
const DO_SOFT_LIMIT = 1000;
const perCall = (callsPer100) => (callsPer100 > 0 ? (DO_SOFT_LIMIT * 100) / callsPer100 : Infinity);
const simRows = simulated.map((r) => [
  r.scenario,
  r.offered,
  r.served,
  r.refused,
  r.ledger_calls_per_100.toFixed(2),
  (100 * r.per_request_share).toFixed(1) + ' %',
  r.rpm ? `${r.most_in_a_minute} / ${r.mean_per_minute.toFixed(1)} of ${r.rpm}` : '',
  r.rpm ? '' : Math.round(perCall(r.ledger_calls_per_100)).toLocaleString('en-US'),
  r.exact ? 'yes' : 'NO',
]);
const simTable = [
  '| scenario (90 s; 300 s at a limit) | offered | served | refused | ledger calls per 100 requests | admitted per request at the ledger | served in a minute: most / mean | tenant req/s one ledger sustains | ledger exact, nothing held |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...simRows.map((r) => `| ${r.join(' | ')} |`),
  `| before: a reserve and a settle per request | | | | 200 | 100 % | | ${perCall(200).toLocaleString('en-US')} | |`,
].join('\n');
console.log(simTable);
console.log(table);
if (viaGateway.errors || viaBare.errors || viaHits.errors)
  console.log(`errors: gateway ${viaGateway.errors}, bare ${viaBare.errors}, hits ${viaHits.errors}`);

const doc = `# Benchmarks

Measured by \`scripts/bench\` (not a timed test; it asserts nothing). Re-run it after any change to the
core, the ABI or the worker; it rewrites this file.

- Machine: ${process.env.BENCH_MACHINE ?? 'Debian bookworm, 2 cores'}; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}.
- Request: \`tests/fixtures/bench/chat_1k.json\` (${REQUEST.length} bytes, 4 messages); upstream reply: the
  fake upstream's JSON completion.
- "core µs per request" drives a whole session (open, validate, splice the upstream body, emit the fetch,
  take the response, respond, close) through the ABI from Node, median of 30 batches of 1000. "Request
  isolate" leaves out the time in the ledger's reserve and settle, which run in the tenant's Durable
  Object (their cost is the ledger row); "with the ledger" is the whole session, as measured before.
- "One connection": ${SEQUENTIAL_REQUESTS} requests one after another with \`fetch\` after the warm-up; the
  auth + limits row averages the gateway's own \`Server-Timing\` (\`auth\`: key and snapshot lookups,
  \`ledger\`: the reserve call to the tenant's Durable Object; settling happens after the response).
- Load: autocannon on loopback, ${CONNECTIONS} connections for ${LOAD_SECONDS} s each, the gateway (deploy bundle)
  and a bare pass-through worker (\`tests/bench/passthrough_worker.js\`) both in workerd via miniflare,
  against the same fake upstream. Both share the 2 cores with autocannon and the upstream, so absolute
  figures are low; compare the two rows. With \`PORTKEY_DIR\` set, Portkey's worker (from its own
  repository, bundled by the same wrangler: \`tests/bench/portkey.mjs\`) is measured the same way, as a
  peer in the same setup.
- Cache hits: the same request against a gateway with \`AI_CACHE_ENABLED=true\` after one miss; every
  request is then answered from KV (no ledger wait, no upstream call; the hit is counted after the
  response).
- Under \`wrangler dev\` (\`tests/bench/wrangler_dev.mjs\`): each worker in its own \`wrangler dev\`, as
  \`scripts/dev\` runs the gateway (wrangler.toml as it is: assets router, KV, D1, the ledger, the usage
  queue) and the same gateway with \`LOG_LEVEL=warn\`, with and without the asset router; one connection in 20
  alternating rounds of 15 requests (the p50 of each one's 300), then 10 connections
  for 5 s each. Portkey's gateway (its worker from its own repository, \`wrangler dev\` in
  \`PORTKEY_DIR\` after \`npm ci\`; Portkey names the fake upstream with \`x-portkey-custom-host\`) is
  measured when \`PORTKEY_DIR\` is set${process.env.PORTKEY_DIR ? '' : ' (it was not, in this run)'}.

${table}

### Many isolates, one ledger (capacity model)

\`build/native/gw_lease_sim\` runs whole gateways (the real core, its credit leases and report jobs), one per
isolate, against one shared tenant ledger on simulated time, with Poisson arrivals at the rates named;
each request's worst case is small next to every limit except the one named. "Tenant req/s one ledger
sustains" is the model: a tenant's ledger is one Durable Object, which Cloudflare documents at a soft
limit of ${DO_SOFT_LIMIT.toLocaleString('en-US')} requests per second, so a tenant's throughput is at most ${DO_SOFT_LIMIT.toLocaleString('en-US')} × (requests per
ledger call). "Ledger exact" checks after each run, once every lease's report job ran, that the ledger
counted exactly the requests served and holds nothing.

${simTable}
`;
// Hand-written analysis below the table survives re-runs.
let notes = '';
try {
  const old = readFileSync(ROOT + 'docs/BENCHMARKS.md', 'utf8');
  const at = old.indexOf('\n## Reading the figures');
  if (at >= 0) notes = old.slice(at);
} catch {}
writeFileSync(ROOT + 'docs/BENCHMARKS.md', doc + notes);
