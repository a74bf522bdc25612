// The ledger Durable Object: one per tenant (named by the tenant id), so
// every reserve, settle and release for a tenant is serialised here and a
// budget cannot be overshot by concurrent requests. The rules live in the
// core (gw_ledger_*); this class keeps the entries the core hands back in
// durable storage and performs the writes and posts its results ask for.
import { DurableObject } from 'cloudflare:workers';
import gatewayModule from '../build/wasm/gateway.wasm';
import { GatewayCore } from '../bindings/gw_abi.js';
import { LedgerInstances } from './ledger_instances.js';

// One module instance per isolate, shared by the ledger objects living in it.
let core = null;
function ledgerCore() {
  if (!core || core.dead) core = new GatewayCore(gatewayModule);
  return core;
}
const instances = new LedgerInstances();

export class Ledger extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.entries = new Map(); // what storage holds: key -> JSON text
    ctx.blockConcurrencyWhile(async () => {
      this.entries = await ctx.storage.list();
    });
  }

  // The core keeps the ledger parsed between calls; after the instance is
  // replaced (a trap) or this object re-created, the stored entries are
  // loaded again (and the predecessor's ledger closed).
  ledgerId() {
    return instances.acquire(ledgerCore(), this.ctx.id.toString(), this.entries, this);
  }

  // Runs synchronously, so each call sees the previous call's result; the
  // write is durable before the answer leaves (the output gate).
  async apply(tenant, op) {
    let out;
    try {
      out = ledgerCore().ledgerApply(this.ledgerId(), op, Date.now());
    } catch (err) {
      if (core) core.dead = true;
      throw err;
    }
    // Only what changed; put() takes at most 128 entries at once.
    for (let i = 0; i < out.writes.length; i += 128) {
      const batch = out.writes.slice(i, i + 128);
      for (const [key, value] of batch) this.entries.set(key, value);
      this.ctx.storage.put(Object.fromEntries(batch));
    }
    // The result may ask for work beyond the answer: rows for D1, entries for
    // KV (the snapshot the fast check reads), posts (budget alerts). The core
    // decided each; this performs them.
    if (out.result.includes('"d1"') || out.result.includes('"kv"') || out.result.includes('"fetches"')) {
      const result = JSON.parse(out.result);
      if (result.d1?.length && this.env.DB)
        this.ctx.waitUntil(
          this.env.DB.batch(result.d1.map((s) => this.env.DB.prepare(s.sql).bind(...s.params))).catch((err) =>
            console.error(JSON.stringify({ level: 'error', event: 'd1_error', message: String(err?.message ?? err) })),
          ),
        );
      for (const { key, value } of result.kv ?? [])
        if (this.env.GATEWAY_KV) this.ctx.waitUntil(this.env.GATEWAY_KV.put(key, JSON.stringify(value)).catch(() => {}));
      if (result.fetches?.length) this.ctx.waitUntil(this.performFetches(tenant, result.fetches));
    }
    return out.result;
  }

  // Each post the ledger asked for, by the secret naming its URL; what came
  // of each goes back to the ledger, which decides what is done.
  async performFetches(tenant, fetches) {
    const results = [];
    for (const f of fetches) {
      const url = this.env[f.url_secret];
      if (typeof url !== 'string' || !url) {
        results.push({ id: f.id, unset: true });
        continue;
      }
      try {
        const res = await fetch(url, { method: f.method, headers: f.headers, body: f.body });
        await res.body?.cancel();
        results.push({ id: f.id, status: res.status });
      } catch (err) {
        results.push({ id: f.id, error: String(err?.message ?? err) });
      }
    }
    await this.apply(tenant, JSON.stringify({ op: 'fetched', tenant, results }));
  }
}
