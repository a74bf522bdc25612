// The ledgers a module instance holds open for the Durable Objects living in
// its isolate, one per object. An object the runtime evicts and re-creates
// opens its ledger again from storage; the one its predecessor opened is
// closed then, so the core never accumulates dead ledgers (it refuses new
// ones past its limit, which would fail every tenant on the isolate).
export class LedgerInstances {
  constructor() {
    this.open = new Map(); // object id -> { core, id }
  }

  // The ledger id for `objectId` in `core`, loaded from `entries` when this
  // object has none open there yet (new object, or the core was replaced).
  acquire(core, objectId, entries, owner) {
    const held = this.open.get(objectId);
    if (held && held.core === core && held.owner === owner) return held.id;
    if (held && held.core === core && !core.dead) core.ledgerClose(held.id);
    const id = core.ledgerOpen(entries);
    if (id <= 0) {
      this.open.delete(objectId);
      throw new Error(`gw_ledger_open failed with status ${id}`);
    }
    this.open.set(objectId, { core, id, owner });
    return id;
  }
}
