// Starts the deploy bundle (wrangler deploy --dry-run output) in miniflare
// with real KV, the usage queue and the ledger Durable Object, bound to 127.0.0.1, for the
// end-to-end tests and the bench. Unless told otherwise it sets
// ADMIN_API_KEY, creates tenant "acme" and a user key for it (gw.key) with
// limits high enough that tests about other things never meet them, and
// leaves the response cache off.
import { Miniflare } from 'miniflare';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ADMIN_KEY = 'e2e-admin-key-0123456789abcdef';

export const GENEROUS = {
  AI_RATE_LIMIT_RPM: '10000000',
  AI_RATE_LIMIT_TPM: '1000000000000',
  AI_QUOTA_DAILY_LIMIT: '10000000000',
  AI_QUOTA_MONTHLY_LIMIT: '10000000000',
  AI_QUOTA_MONTHLY_SPEND_LIMIT: '1000000',
};

export async function startGateway(
  bindings = {},
  {
    script = 'build/deploy/index.js',
    quiet = true,
    persist = null,
    key = true,
    limits = GENEROUS,
    logs = null,
    assets = true,
    queues = true,
    inspectorPort = undefined,
  } = {},
) {
  const mf = new Miniflare({
    workers: [
      {
        name: 'gateway',
        modules: true,
        scriptPath: ROOT + script,
        modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
        compatibilityDate: '2025-09-01',
        compatibilityFlags: ['enable_request_signal'],
        kvNamespaces: ['GATEWAY_KV'],
        // As wrangler.toml has them, with a 1 s batch window (rows reach D1 within about a second).
        ...(queues
          ? {
              queueProducers: { USAGE_QUEUE: 'gateway-usage' },
              queueConsumers: {
                'gateway-usage': { maxBatchSize: 100, maxBatchTimeout: 1, maxRetries: 5, deadLetterQueue: 'gateway-usage-dlq' },
                'gateway-usage-dlq': { maxBatchSize: 100, maxBatchTimeout: 1, maxRetries: 10 },
              },
            }
          : {}),
        durableObjects: { LEDGER: 'Ledger' },
        d1Databases: { DB: DB_ID },
        r2Buckets: ['GATEWAY_BODIES'],
        // The dashboard, routed as wrangler.toml's [assets] routes it: /dashboard
        // to the assets, every other path straight to the worker. `assets: false`
        // leaves the router out (the bench measures the API path alone).
        ...(assets
          ? {
              assets: {
                directory: ROOT + 'build/assets',
                routerConfig: {
                  has_user_worker: true,
                  static_routing: { user_worker: ['/*'], asset_worker: ['/dashboard', '/dashboard/*'] },
                },
                assetConfig: { html_handling: 'auto-trailing-slash', not_found_handling: 'none' },
              },
            }
          : {}),
        // Tests about other things repeat identical requests: the cache is
        // on only where a test turns it on.
        bindings: { ADMIN_API_KEY: ADMIN_KEY, AI_CACHE_ENABLED: 'false', ...limits, ...bindings },
      },
      // Test-only: runs SQL on the gateway's D1 database from inside workerd
      // (miniflare's synchronous D1 proxy races under load).
      { name: 'sql', modules: true, script: SQL_WORKER, compatibilityDate: '2025-09-01', d1Databases: { DB: DB_ID } },
    ],
    ...(persist ? { kvPersist: `${persist}/kv`, durableObjectsPersist: `${persist}/do`, d1Persist: `${persist}/d1` } : {}),
    host: '127.0.0.1',
    port: 0,
    // For profiling by hand (the DevTools protocol on that port); never set by the tests.
    ...(inspectorPort ? { inspectorPort } : {}),
    // The worker logs one JSON line per request: kept in `logs` when given,
    // else dropped to keep test output readable.
    ...(logs
      ? { handleRuntimeStdio: (stdout, stderr) => { stdout.on('data', (d) => logs.push(String(d))); stderr.on('data', (d) => logs.push(String(d))); } }
      : quiet
        ? { handleRuntimeStdio: (stdout, stderr) => { stdout.resume(); stderr.resume(); } }
        : {}),
  });
  // A gateway that fails to start must not keep workerd (and the test run) alive.
  try {
    const url = (await mf.ready).href.replace(/\/$/, '');
    const admin = (method, path, body) =>
      fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const sqlWorker = await mf.getWorker('sql');
    // Runs statements in one batch; answers the last one's rows.
    const sql = async (statements) => {
      const res = await sqlWorker.fetch('http://sql/', { method: 'POST', body: JSON.stringify(statements) });
      const out = await res.json();
      if (!res.ok) throw new Error(`sql: ${out.error}`);
      return out.rows;
    };
    await applyMigrations(sql);
    const gw = {
      mf,
      url,
      admin,
      sql: (text, params = []) => sql([{ sql: text, params }]),
      kv: () => mf.getKVNamespace('GATEWAY_KV'),
      bodies: () => mf.getR2Bucket('GATEWAY_BODIES'),
      close: () => mf.dispose(),
    };
    if (key) {
      const tenant = await admin('PUT', '/api/v1/ai/admin/tenants/acme', { name: 'Acme' });
      if (tenant.status !== 200) throw new Error(`creating tenant: ${tenant.status} ${await tenant.text()}`);
      const created = await admin('POST', '/api/v1/ai/admin/keys', { tenantId: 'acme', userId: 'alice' });
      if (created.status !== 201) throw new Error(`creating key: ${created.status} ${await created.text()}`);
      gw.key = (await created.json()).key;
    }
    return gw;
  } catch (err) {
    await mf.dispose();
    throw err;
  }
}

const DB_ID = 'gateway-db';

const SQL_WORKER = `export default {
  async fetch(request, env) {
    try {
      const statements = await request.json();
      const results = await env.DB.batch(statements.map((s) => env.DB.prepare(s.sql).bind(...(s.params ?? []))));
      return Response.json({ rows: results.at(-1)?.results ?? [] });
    } catch (err) {
      return Response.json({ error: String(err?.message ?? err) }, { status: 500 });
    }
  },
};`;

// Applies migrations/*.sql in name order, once each, recording them in
// d1_migrations as \`wrangler d1 migrations apply\` does (so a database on
// disk can move between the two).
async function applyMigrations(sql) {
  const applied = await sql([
    {
      sql:
        'CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, ' +
        'applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)',
    },
    { sql: 'SELECT name FROM d1_migrations' },
  ]);
  const done = new Set(applied.map((r) => r.name));
  const dir = ROOT + 'migrations/';
  for (const name of (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort()) {
    if (done.has(name)) continue;
    const text = (await readFile(dir + name, 'utf8')).replace(/^\s*--.*$/gm, '');
    const statements = text.split(/;\s*$/m).map((s) => s.trim()).filter(Boolean);
    await sql([...statements.map((s) => ({ sql: s })), { sql: 'INSERT INTO d1_migrations (name) VALUES (?)', params: [name] }]);
  }
}
