// The resilience load run (scripts/load): LOAD_CONNECTIONS (100) concurrent
// clients for LOAD_SECONDS (60) against the gateway in workerd, loopback
// only, with the primary upstream failing LOAD_FAILURE_RATE (10%) of its
// requests and a healthy fallback. Prints the success rate, latency
// percentiles and upstream attempts per request, and keeps them in
// docs/BENCHMARKS.md (the "Resilience under load" section).
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'undici';
import { startFakeUpstream } from '../support/fake_upstream.js';
import { startGateway } from '../support/gateway.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CONNECTIONS = Number(process.env.LOAD_CONNECTIONS ?? 100);
const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const FAILURE_RATE = Number(process.env.LOAD_FAILURE_RATE ?? 0.1);

const upstream = await startFakeUpstream();
const gw = await startGateway({
  OPENAI_API_KEY: 'sk-load',
  OPENAI_BASE_URL: upstream.url,
  ANTHROPIC_API_KEY: 'sk-ant-load',
  ANTHROPIC_BASE_URL: upstream.url,
  AI_GATEWAY_REQUEST_TIMEOUT: '10000',
}, { assets: false });  // the API path alone, as in scripts/bench
await upstream.chaos({ path: '/v1/chat/completions', rate: FAILURE_RATE, status: 500, record: false });

const body = JSON.stringify({
  model: 'gpt-4o-mini',
  models: ['claude-haiku-4-5'],
  messages: [{ role: 'user', content: 'Summarise the resilience of this gateway in one line.' }],
  max_tokens: 64,
});
const dispatcher = new Agent({ connections: CONNECTIONS, pipelining: 1 });
const latencies = [];
const statuses = new Map();
let attempts = 0;
let fallbacks = 0;
let networkErrors = 0;
const deadline = Date.now() + SECONDS * 1000;

async function client() {
  while (Date.now() < deadline) {
    const t = performance.now();
    try {
      const res = await fetch(gw.url + '/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.key}` },
        body,
        dispatcher,
      });
      await res.arrayBuffer();
      latencies.push(performance.now() - t);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      attempts += Number(res.headers.get('x-aigw-attempts') ?? 0);
      if (res.headers.get('x-aigw-provider') === 'anthropic') fallbacks++;
    } catch {
      networkErrors++;
    }
  }
}

await Promise.all(Array.from({ length: CONNECTIONS }, client));
await gw.close();
await upstream.close();
await dispatcher.close();

const total = latencies.length + networkErrors;
const ok = [...statuses].filter(([s]) => s >= 200 && s < 300).reduce((n, [, c]) => n + c, 0);
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
const result = {
  requests: total,
  successRate: total ? ok / total : 0,
  p50: pct(50),
  p95: pct(95),
  p99: pct(99),
  attemptsPerRequest: latencies.length ? attempts / latencies.length : 0,
  fallbackShare: latencies.length ? fallbacks / latencies.length : 0,
  statuses: Object.fromEntries(statuses),
  networkErrors,
};
const table = [
  '| measure | value | target |',
  '| --- | --- | --- |',
  `| requests (${CONNECTIONS} connections, ${SECONDS} s, primary failing ${(FAILURE_RATE * 100).toFixed(0)}%) | ${total} (${(total / SECONDS).toFixed(0)}/s) | |`,
  `| client success rate | ${(result.successRate * 100).toFixed(3)}% | ≥ 99.9% |`,
  `| latency p50 / p95 / p99 ms | ${result.p50.toFixed(1)} / ${result.p95.toFixed(1)} / ${result.p99.toFixed(1)} | |`,
  `| upstream attempts per request | ${result.attemptsPerRequest.toFixed(3)} | |`,
  `| answered by the fallback | ${(result.fallbackShare * 100).toFixed(2)}% | |`,
  `| statuses | ${Object.entries(result.statuses).map(([s, c]) => `${s}: ${c}`).join(', ')}${networkErrors ? `, network errors: ${networkErrors}` : ''} | |`,
].join('\n');
console.log(table);

// Keep the figures in docs/BENCHMARKS.md, replacing the previous run's.
const path = ROOT + 'docs/BENCHMARKS.md';
const doc = readFileSync(path, 'utf8');
const HEADING = '\n## Resilience under load (scripts/load)\n';
const section = `${HEADING}
Measured by \`scripts/load\` on ${new Date().toISOString().slice(0, 10)} (same machine; the load generator, the fake upstream and
workerd share its 2 cores). Each request names a chain (\`gpt-4o-mini\`, then \`claude-haiku-4-5\`); the fake
OpenAI upstream fails ${(FAILURE_RATE * 100).toFixed(0)}% of its requests with a 500, the fake Anthropic upstream never fails.

${table}

Every failed primary is answered by the fallback at once (no backoff: attempts per request ≈ 1 + the
failure rate), so clients see no errors. The latencies are queueing, not failover: all requests belong to
one tenant, whose ledger object serialises them (about ${(total / SECONDS).toFixed(0)} requests/s here), so by Little's law 100
connections wait ≈ 100 / ${(total / SECONDS).toFixed(0)} s ≈ ${((CONNECTIONS / (total / SECONDS)) * 1000).toFixed(0)} ms each.
`;
const start = doc.indexOf(HEADING);
const next = start >= 0 ? doc.indexOf('\n## ', start + HEADING.length) : -1;
const updated = start < 0 ? doc + section : doc.slice(0, start) + section + (next >= 0 ? doc.slice(next) : '');
writeFileSync(path, updated);
if (result.successRate < 0.999) process.exitCode = 1;
