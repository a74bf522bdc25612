// By hand: where the machine's CPU goes per request under load, the gateway
// vs the bare pass-through worker (per process: workerd, this node process
// with miniflare and the fake upstream, autocannon in-process).
import { readFileSync, readdirSync } from 'node:fs';
import autocannon from 'autocannon';
import { ROOT } from '../support/modules.js';
import { startFakeUpstream } from '../support/fake_upstream.js';
import { startGateway } from '../support/gateway.js';

const REQUEST = readFileSync(ROOT + 'tests/fixtures/bench/chat_1k.json', 'utf8');
const TICK = 100; // USER_HZ
function cpuByProcess() {
  const out = new Map();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(`${pid} ${comm}`, (Number(f[11]) + Number(f[12])) / TICK);
    } catch {}
  }
  return out;
}
async function measure(name, url, key, seconds) {
  const before = cpuByProcess();
  const r = await autocannon({ url: url + '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: REQUEST, connections: 10, duration: seconds });
  const after = cpuByProcess();
  const n = r.requests.total;
  console.log(`${name}: ${n} requests, ${r.requests.average} req/s, non2xx ${r.non2xx}`);
  for (const [k, v] of after) { const d = v - (before.get(k) ?? 0); if (d > 0.05) console.log(`  ${k.padEnd(30)} ${d.toFixed(2)} s  ${(d * 1e6 / n).toFixed(0)} us/request`); }
}
const upstream = await startFakeUpstream();
await fetch(upstream.url + '/__chaos', { method: 'POST', body: JSON.stringify({ record: false }) }).catch(() => {});
const which = process.argv[2] ?? 'both';
const API_ONLY = { assets: false };
if (which !== 'bare') {
  const gateway = await startGateway({ OPENAI_API_KEY: 'bench', OPENAI_BASE_URL: upstream.url, ...(process.env.GW_VARS ? JSON.parse(process.env.GW_VARS) : {}) }, { ...API_ONLY, ...(process.env.GW_OPTS ? JSON.parse(process.env.GW_OPTS) : {}) });
  await measure('warm gateway', gateway.url, gateway.key, 3);
  await measure('gateway', gateway.url, gateway.key, 6);
  await gateway.close();
}
if (which !== 'gateway') {
  const bare = await startGateway({ OPENAI_API_KEY: 'bench', UPSTREAM_URL: upstream.url }, { script: 'tests/bench/passthrough_worker.js', key: false, ...API_ONLY });
  await measure('warm bare', bare.url, 'none', 3);
  await measure('bare', bare.url, 'none', 6);
  await bare.close();
}
await upstream.close();
