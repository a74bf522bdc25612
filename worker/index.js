// Worker entry: instantiates the core once per isolate at module scope,
// configures it from the environment on first use, and hands every request
// to the effect driver. A core fault retires the instance; the next request
// gets a fresh one.
import gatewayModule from '../build/wasm/gateway.wasm';
import gatewaySettings from '../config/gateway.json';
import providerCatalog from '../config/providers.json';
import modelRegistry from '../config/models.json';
import { composeConfig } from '../config/compose.js';
import { GatewayCore } from '../bindings/gw_abi.js';
import { errorResponse, runJob, serve } from './driver.js';
import { vaultKeyIds } from './vault.js';

export { Ledger } from './ledger.js';

const CONFIG_TEXT = composeConfig(gatewaySettings, providerCatalog, modelRegistry);

function instantiate() {
  try {
    // drivers: the live requests by session id, so one can wake another (single flight).
    // maxBodyBytes: the core's limit, from configure() before the first request.
    return { core: new GatewayCore(gatewayModule), configured: false, maxBodyBytes: 0, drivers: new Map() };
  } catch (err) {
    console.error(JSON.stringify({ level: 'error', event: 'instantiate_failed', message: String(err) }));
    return null;
  }
}

let host = instantiate();

async function sha256Hex(text) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

// The core names the variables it reads; values are passed only for plain
// variables, for secrets only whether they are set, and for the secrets it
// checks callers against (ADMIN_API_KEY) only their SHA-256.
async function configure(h, env) {
  const names = h.core.envNames(CONFIG_TEXT);
  const vars = {};
  for (const name of names.vars) if (typeof env[name] === 'string') vars[name] = env[name];
  const secrets = names.secrets.filter((name) => typeof env[name] === 'string' && env[name] !== '');
  const bindings = (names.bindings ?? []).filter((name) => env[name] != null && typeof env[name] === 'object');
  const digests = {};
  for (const name of names.digests ?? []) {
    if (typeof env[name] === 'string' && env[name] !== '') digests[name] = await sha256Hex(env[name]);
  }
  // The vault's master key ids (never the keys): the core stores provider keys only when there is one.
  const result = h.core.configure(CONFIG_TEXT, { vars, secrets, digests, bindings, vault_key_ids: vaultKeyIds(env) });
  if (!result.ok) console.error(JSON.stringify({ level: 'error', event: 'invalid_config', error: result.error }));
  h.maxBodyBytes = result.max_body_bytes;
  // Every secret value of the deployment, scrubbed from stored request bodies (driver.js blobPut).
  h.secretValues = [...secrets, 'ADMIN_API_KEY', 'METRICS_TOKEN', 'GATEWAY_ENCRYPTION_KEY']
    .map((name) => env[name])
    .filter((value) => typeof value === 'string' && value !== '');
  h.configured = true;
}

async function ready(env) {
  if (!host || host.core.dead) host = instantiate();
  if (!host) return errorResponse(502, 'The gateway core failed to start.', 'gateway_fault');
  if (!host.configured) {
    try {
      await configure(host, env);
    } catch (err) {
      host.core.dead = true;
      return errorResponse(502, 'The gateway core failed while loading its configuration.', 'gateway_fault');
    }
  }
  return null;
}

export default {
  async fetch(request, env, ctx) {
    const failed = await ready(env);
    return failed ?? serve(host, request, env, ctx);
  },

  // wrangler.toml [triggers]: rolls ledger periods over and resends alerts.
  async scheduled(controller, env, ctx) {
    const failed = await ready(env);
    if (failed) return;
    ctx.waitUntil(runJob(host, '/internal/cron', env, ctx));
  },

  // wrangler.toml [[queues.consumers]]: usage rows (and, later, those the
  // dead-letter queue kept), written to D1 by the core in one statement. The
  // batch is acknowledged only once written; else it is delivered again.
  async queue(batch, env, ctx) {
    const failed = await ready(env);
    if (failed) return batch.retryAll();
    const response = await runJob(host, '/internal/queue/usage', env, ctx, JSON.stringify(batch.messages.map((m) => m.body)));
    if (response.status === 200) batch.ackAll();
    else batch.retryAll();
  },
};
