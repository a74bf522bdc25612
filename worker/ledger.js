// The ledger Durable Object: one per tenant (named by the tenant id), so
// every reserve, settle and release for a tenant is serialised here and a
// budget cannot be overshot by concurrent requests. The rules live in the
// core (gw_ledger_apply); this class only keeps the document in durable
// storage, mirrors the core's snapshot into KV for the fast check, and posts
// the budget alerts the core hands back.
import { DurableObject } from 'cloudflare:workers';
import gatewayModule from '../build/wasm/gateway.wasm';
import { GatewayCore } from '../bindings/gw_abi.js';

let core = null;
function ledgerCore() {
  if (!core || core.dead) core = new GatewayCore(gatewayModule);
  return core;
}

export class Ledger extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.doc = '';
    ctx.blockConcurrencyWhile(async () => {
      this.doc = (await ctx.storage.get('ledger')) ?? '';
    });
  }

  // Runs synchronously between storage reads, so each call sees the
  // previous call's result; the write is durable before the answer leaves
  // (the output gate).
  async apply(tenant, op) {
    let out;
    try {
      out = ledgerCore().ledgerApply(this.doc, op, Date.now());
    } catch (err) {
      if (core) core.dead = true;
      throw err;
    }
    if (out.state !== null) {
      this.doc = out.state;
      this.ctx.storage.put('ledger', out.state);
    }
    if (out.result.includes('"snapshot"') || out.result.includes('"alerts"')) {
      const result = JSON.parse(out.result);
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
