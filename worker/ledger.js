// The ledger Durable Object: one per tenant (named by the tenant id), so
// every reserve, settle and release for a tenant is serialised here and a
// budget cannot be overshot by concurrent requests. The rules live in the
// core (gw_ledger_*); this class keeps the entries the core hands back in
// durable storage, mirrors the core's snapshot into KV for the fast check,
// and posts the budget alerts the core hands back.
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
    if (out.result.includes('"snapshot"') || out.result.includes('"alerts"') || out.result.includes('"d1"')) {
      const result = JSON.parse(out.result);
      // Requests whose holds expired (their runtime died) still end as rows.
      if (result.d1?.length && this.env.DB)
        this.ctx.waitUntil(
          this.env.DB.batch(result.d1.map((s) => this.env.DB.prepare(s.sql).bind(...s.params))).catch((err) =>
            console.error(JSON.stringify({ level: 'error', event: 'd1_error', message: String(err?.message ?? err) })),
          ),
        );
      if (result.snapshot && this.env.GATEWAY_KV) {
        this.ctx.waitUntil(this.env.GATEWAY_KV.put(`ledger:${tenant}`, JSON.stringify(result.snapshot)).catch(() => {}));
      }
      if (result.alerts?.length) this.ctx.waitUntil(this.postAlerts(tenant, result.alerts));
    }
    return out.result;
  }

  async postAlerts(tenant, alerts) {
    const url = this.env.BUDGET_ALERT_WEBHOOK_URL;
    const sent = [];
    for (const alert of alerts) {
      if (url) {
        try {
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ event: 'budget.threshold_crossed', tenantId: tenant, ...alert }),
          });
          if (!res.ok) continue; // stays pending; the cron trigger retries
        } catch {
          continue;
        }
      }
      sent.push(alert.seq);
    }
    if (sent.length) await this.apply(tenant, JSON.stringify({ op: 'alerts_sent', seqs: sent }));
  }
}
