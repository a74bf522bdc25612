// Under `wrangler dev`, as a user runs it: the bare pass-through worker, this
// gateway (its metered path, usage rows on) and, when PORTKEY_DIR names a
// checkout of Portkey's gateway with its npm packages installed, Portkey's
// worker, all against the same fake upstream. One connection in alternating
// short rounds (the p50 of all of a target's requests), then 10 connections for a few seconds each. Exports
// measureWranglerDev() for bench.mjs; run alone it prints the figures.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import autocannon from 'autocannon';
import { startFakeUpstream } from '../support/fake_upstream.js';
import { GENEROUS } from '../support/gateway.js';
import { portkeyDir as findPortkey, portkeyHeaders } from './portkey.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;
const WRANGLER = ROOT + 'node_modules/.bin/wrangler';
const REQUEST = readFileSync(ROOT + 'tests/fixtures/bench/chat_1k.json', 'utf8');
const ADMIN = 'bench-admin-key-0123456789abcdef';
const OFFLINE = { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_HIDE_BANNER: 'true' };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Starts `wrangler dev` in its own process group; resolves once it answers.
async function startWranglerDev(name, cwd, args) {
  const port = await freePort();
  const child = spawn(WRANGLER, ['dev', ...args, '--ip', '127.0.0.1', '--port', String(port)], {
    cwd, env: { ...process.env, ...OFFLINE }, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {}
  };
  for (let i = 0; i < 240; i++) {
    if (/Ready on/.test(output)) return { name, url, stop };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  stop();
  throw new Error(`${name}: wrangler dev did not start:\n${output.slice(-2000)}`);
}

// wrangler.toml without its [assets] section (so without the asset router
// in front of the worker), written where its relative paths still resolve.
function apiOnlyConfig() {
  const text = readFileSync(ROOT + 'wrangler.toml', 'utf8');
  const path = ROOT + 'build/wrangler.api-only.toml';
  const assets = text.indexOf('[assets]');
  const after = text.indexOf('\n[', assets + 1);
  writeFileSync(path, (text.slice(0, assets) + text.slice(after + 1)).replace('main = "worker/', 'main = "../worker/').replace('migrations_dir = "', 'migrations_dir = "../'));
  return path;
}

async function startGateway(name, persist, upstream, extraVars, { apiOnly = false } = {}) {
  const config = apiOnly ? ['--config', apiOnlyConfig()] : [];
  execFileSync(WRANGLER, ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist, ...config], {
    cwd: ROOT, env: { ...process.env, ...OFFLINE }, stdio: 'ignore',
  });
  const vars = { ...GENEROUS, ADMIN_API_KEY: ADMIN, OPENAI_API_KEY: 'bench', OPENAI_BASE_URL: upstream.url, AI_CACHE_ENABLED: 'false', ...extraVars };
  const gateway = await startWranglerDev(name, ROOT, [...config, '--persist-to', persist, ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`])]);
  try {
    const admin = (method, path, body) =>
      fetch(gateway.url + path, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if ((await admin('PUT', '/api/v1/ai/admin/tenants/acme', { name: 'Acme' })).status !== 200) throw new Error(`${name}: creating the tenant failed`);
    const created = await admin('POST', '/api/v1/ai/admin/keys', { tenantId: 'acme', userId: 'alice' });
    if (created.status !== 201) throw new Error(`${name}: creating the key failed`);
    gateway.headers = { 'content-type': 'application/json', authorization: `Bearer ${(await created.json()).key}` };
    return gateway;
  } catch (err) {
    gateway.stop();
    throw err;
  }
}

async function oneConnection(target, count, times = []) {
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const res = await fetch(target.url + '/v1/chat/completions', { method: 'POST', headers: target.headers, body: REQUEST });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${target.name}: status ${res.status}`);
    times.push(performance.now() - t);
  }
  return median(times);
}

async function load(target, seconds) {
  const r = await autocannon({
    url: target.url + '/v1/chat/completions', method: 'POST', headers: target.headers, body: REQUEST, connections: 10, duration: seconds,
  });
  return r.requests.average;
}

export async function measureWranglerDev({ rounds = 20, perRound = 15, loadSeconds = 5, portkeyDir = findPortkey(), gatewayVars = {} } = {}) {
  const upstream = await startFakeUpstream();
  const state = mkdtempSync(tmpdir() + '/aigw-wrangler-dev-');
  const started = [];
  try {
    // Its own config: wrangler would otherwise take the gateway's wrangler.toml.
    writeFileSync(state + '/bare.toml', `name = "bare"\nmain = "${ROOT}tests/bench/passthrough_worker.js"\ncompatibility_date = "2025-09-01"\n`);
    const bare = await startWranglerDev('bare', state, [
      '--config', state + '/bare.toml', '--var', `UPSTREAM_URL:${upstream.url}`, '--var', 'OPENAI_API_KEY:bench', '--persist-to', state + '/bare',
    ]);
    started.push(bare);
    bare.headers = { 'content-type': 'application/json' };
    // The gateway as scripts/dev runs it (wrangler.toml: KV, D1, the ledger, the usage queue, assets),
    // the same with its per-request log line off (LOG_LEVEL=warn: under wrangler dev each
    // console.log travels to wrangler over DevTools, which a deployed worker does not pay), and
    // that without the asset router (a worker of its own in front of ours under wrangler dev; on
    // Cloudflare, run_worker_first is decided before any worker runs).
    const gateway = await startGateway('gateway', state + '/gateway', upstream, gatewayVars);
    started.push(gateway);
    const quiet = await startGateway('gateway_quiet_logs', state + '/quiet', upstream, { ...gatewayVars, LOG_LEVEL: 'warn' });
    started.push(quiet);
    const apiOnly = await startGateway('gateway_quiet_no_router', state + '/api-only', upstream, { ...gatewayVars, LOG_LEVEL: 'warn' }, { apiOnly: true });
    started.push(apiOnly);
    const targets = [bare, gateway, quiet, apiOnly];
    if (portkeyDir) {
      const portkey = await startWranglerDev('portkey', portkeyDir, ['--persist-to', state + '/portkey']);
      started.push(portkey);
      portkey.headers = portkeyHeaders(upstream);
      targets.push(portkey);
    }
    for (const t of targets) {
      await oneConnection(t, 30); // warm
      t.times = [];
    }
    // Short rounds in turn, so the machine's drift falls on every target alike.
    for (let r = 0; r < rounds; r++) for (const t of targets) await oneConnection(t, perRound, t.times);
    for (const t of targets) {
      await load(t, 2); // warm
      t.rps = await load(t, loadSeconds);
    }
    const result = {};
    for (const t of targets) result[t.name] = { p50: median(t.times), rps: t.rps };
    return result;
  } finally {
    for (const t of started) t.stop();
    await upstream.close();
    await new Promise((r) => setTimeout(r, 500));
    rmSync(state, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await measureWranglerDev({ gatewayVars: JSON.parse(process.env.GATEWAY_VARS ?? '{}') })));
