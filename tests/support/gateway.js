// Starts the deploy bundle (wrangler deploy --dry-run output) in miniflare
// with real KV, bound to 127.0.0.1, for the end-to-end tests and the bench.
import { Miniflare } from 'miniflare';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export async function startGateway(bindings = {}, { script = 'build/deploy/index.js', quiet = true } = {}) {
  const mf = new Miniflare({
    modules: true,
    scriptPath: ROOT + script,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2025-09-01',
    kvNamespaces: ['GATEWAY_KV'],
    bindings,
    host: '127.0.0.1',
    port: 0,
    // The worker logs one JSON line per request; keep test output readable.
    ...(quiet ? { handleRuntimeStdio: (stdout, stderr) => { stdout.resume(); stderr.resume(); } } : {}),
  });
  const url = await mf.ready;
  return {
    mf,
    url: url.href.replace(/\/$/, ''),
    kv: () => mf.getKVNamespace('GATEWAY_KV'), // a Promise
    close: () => mf.dispose(),
  };
}
