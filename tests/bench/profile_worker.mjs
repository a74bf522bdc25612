// Profiles the gateway's isolate under load, by hand (not part of the
// tests or the bench): starts the deploy bundle in miniflare with the
// DevTools protocol open, drives 10 connections of 1 KB chat requests for
// a few seconds, and prints the functions with the most samples, self and
// inclusive (the whole profile goes to build/gateway.cpuprofile, for
// Chrome's DevTools). Run after scripts/build: node tests/bench/profile_worker.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import autocannon from 'autocannon';
import { startFakeUpstream } from '../support/fake_upstream.js';
import { startGateway } from '../support/gateway.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const PORT = 9339;
const REQUEST = readFileSync(ROOT + 'tests/fixtures/bench/chat_1k.json', 'utf8');

const upstream = await startFakeUpstream();
const gw = await startGateway({ OPENAI_API_KEY: 'bench', OPENAI_BASE_URL: upstream.url }, { assets: false, inspectorPort: PORT });
const targets = await (await fetch(`http://127.0.0.1:${PORT}/json`)).json();
const target = targets.find((t) => t.webSocketDebuggerUrl.endsWith('/core:user:gateway'));
const ws = new WebSocket(target.webSocketDebuggerUrl);
await new Promise((resolve) => ws.on('open', resolve));
let nextId = 0;
const waiting = new Map();
ws.on('message', (m) => {
  const d = JSON.parse(m);
  waiting.get(d.id)?.(d.result);
  waiting.delete(d.id);
});
const call = (method, params = {}) => new Promise((resolve) => {
  waiting.set(++nextId, resolve);
  ws.send(JSON.stringify({ id: nextId, method, params }));
});
const load = (seconds) =>
  autocannon({
    url: gw.url + '/v1/chat/completions',
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.key}` },
    body: REQUEST,
    connections: 10,
    duration: seconds,
  });

await load(3); // warm: the module tiered up, the key and its lease held
await call('Profiler.enable');
await call('Profiler.setSamplingInterval', { interval: 100 });
await call('Profiler.start');
const result = await load(5);
const { profile } = await call('Profiler.stop');
writeFileSync(ROOT + 'build/gateway.cpuprofile', JSON.stringify(profile));

const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const hits = new Map();
for (const s of profile.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
const name = (n) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber + 1}`;
const self = new Map();
const inclusive = new Map();
function walk(n, onStack) {
  const key = name(n);
  self.set(key, (self.get(key) ?? 0) + (hits.get(n.id) ?? 0));
  let total = hits.get(n.id) ?? 0;
  const counted = onStack.has(key);
  onStack.add(key);
  for (const c of n.children ?? []) total += walk(nodes.get(c), onStack);
  if (!counted) {
    onStack.delete(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + total);
  }
  return total;
}
walk(profile.nodes[0], new Set());
const all = profile.samples.length;
const top = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => `  ${((100 * v) / all).toFixed(1)}%  ${k}`).join('\n');
let wasm = 0;
for (const n of profile.nodes) if (n.callFrame.functionName.startsWith('wasm-function') || n.callFrame.url.endsWith('.wasm')) wasm += hits.get(n.id) ?? 0;
console.log(`${result.requests.average} req/s; inside the core's wasm: ${((100 * wasm) / all).toFixed(1)}% of samples`);
console.log(`self:\n${top(self)}\ninclusive:\n${top(inclusive)}`);
ws.close();
await gw.close();
await upstream.close();
