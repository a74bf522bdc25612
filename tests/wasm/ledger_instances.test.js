// The ledger Durable Object's bookkeeping (worker/ledger_instances.js) on
// the built module: an object the runtime re-creates again and again keeps
// one ledger open in the shared core, not one per incarnation (the core
// refuses new ledgers past 4096, which would fail every tenant there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { GatewayCore } from '../../bindings/gw_abi.js';
import { LedgerInstances } from '../../worker/ledger_instances.js';
import { MODULES } from '../support/modules.js';

for (const [name, path] of Object.entries(MODULES)) {
  test(`${name}: re-created objects close their predecessor's ledger`, () => {
    const core = new GatewayCore(new WebAssembly.Module(readFileSync(path)));
    const instances = new LedgerInstances();
    let entries = new Map();
    let last = 0;
    for (let incarnation = 0; incarnation < 5000; incarnation++) {
      const owner = {};
      const id = instances.acquire(core, 'tenant-acme', entries, owner);
      assert.equal(instances.acquire(core, 'tenant-acme', entries, owner), id, 'one incarnation keeps its ledger');
      if (incarnation > 0) assert.throws(() => core.ledgerApply(last, '{"op":"get"}', 1), 'the predecessor was closed');
      last = id;
      // Each incarnation starts from what storage holds.
      const out = core.ledgerApply(id, JSON.stringify({ op: 'set_tenant', enabled: true }), 1);
      entries = new Map([...entries, ...out.writes]);
    }
    // Other objects get ledgers of their own.
    const other = instances.acquire(core, 'tenant-globex', new Map(), {});
    assert.notEqual(other, last);
    assert.match(core.ledgerApply(other, '{"op":"get"}', 1).result, /"ok":true/);
    // A replaced core gets the ledger loaded afresh.
    const fresh = new GatewayCore(new WebAssembly.Module(readFileSync(path)));
    const reopened = instances.acquire(fresh, 'tenant-acme', entries, {});
    assert.match(fresh.ledgerApply(reopened, '{"op":"get"}', 1).result, /"ok":true/);
  });
}
