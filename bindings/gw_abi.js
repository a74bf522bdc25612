// JS half of the gateway ABI (version 8; spec in bindings/ABI.md, C half in
// gw_abi.h). Marshals strings and bytes in and out of the module's memory.
// Works unchanged in workerd and Node, for either toolchain's module.

import STATUS_CODES from './status_codes.json' with { type: 'json' };

export const ABI_VERSION = 10;

// The status codes, from the one list the C side is generated from too.
export const Status = Object.freeze(Object.fromEntries(STATUS_CODES.codes.map((c) => [c.js, c.code])));

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// The core only links libc's stdio for abort messages; everything else it
// imports is answered with a trap so a surprise import is caught at once.
function buildImports(module, sink) {
  const wasi = {
    fd_write: (fd, iovs, iovsLen, nwritten) => {
      const view = new DataView(sink.memory.buffer);
      let total = 0;
      let text = '';
      for (let i = 0; i < iovsLen; i++) {
        const ptr = view.getUint32(iovs + i * 8, true);
        const len = view.getUint32(iovs + i * 8 + 4, true);
        text += decoder.decode(new Uint8Array(sink.memory.buffer, ptr, len));
        total += len;
      }
      if (text.trim()) console.error(`[gateway core fd ${fd}] ${text.trimEnd()}`);
      view.setUint32(nwritten, total, true);
      return 0;
    },
    fd_close: () => 0,
    fd_seek: () => 70, // ESPIPE
    proc_exit: (code) => {
      throw new WebAssembly.RuntimeError(`gateway core exited with code ${code}`);
    },
  };
  const env = { emscripten_notify_memory_growth: () => {} };
  const known = { wasi_snapshot_preview1: wasi, env };
  const imports = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    imports[imp.module] ??= {};
    const fn = known[imp.module]?.[imp.name];
    imports[imp.module][imp.name] =
      fn ??
      (() => {
        throw new WebAssembly.RuntimeError(`unexpected import ${imp.module}.${imp.name}`);
      });
  }
  return imports;
}

// A reusable input region in the module's memory, grown on demand. Strings
// (and objects, as JSON) are encoded straight into it with encodeInto:
// TextEncoder.encode would allocate and copy each input a second time, which
// cost more than the core's own work on a request's envelope and body.
class InputBuffer {
  constructor(core) {
    this.core = core;
    this.ptr = 0;
    this.capacity = 0;
  }
  grow(bytes) {
    if (bytes <= this.capacity) return;
    if (this.ptr) this.core.exports.gw_free(this.ptr);
    this.capacity = Math.max(256, 2 ** Math.ceil(Math.log2(bytes)));
    this.ptr = this.core.exports.gw_alloc(this.capacity);
    this.view = null;
  }
  // The same view while the memory has not grown (growing detaches it).
  region() {
    const buffer = this.core.memory.buffer;
    if (!this.view || this.view.buffer !== buffer) this.view = new Uint8Array(buffer, this.ptr, this.capacity);
    return this.view;
  }
  // Copies the value in; returns its length in bytes (at this.ptr).
  put(value) {
    if (value == null) return 0;
    if (typeof value !== 'string') {
      if (value instanceof ArrayBuffer) value = new Uint8Array(value);
      if (!(value instanceof Uint8Array)) return this.put(JSON.stringify(value));
      this.grow(value.length);
      if (value.length) this.region().set(value);
      return value.length;
    }
    // UTF-8 takes at least one byte per UTF-16 unit and at most three.
    this.grow(value.length);
    let done = encoder.encodeInto(value, this.region());
    if (done.read < value.length) {
      this.grow(value.length * 3);
      done = encoder.encodeInto(value, this.region());
    }
    return done.written;
  }
}

const EMPTY = new Uint8Array(0);

// One poll's effects: { status, effects, done, wake } and body(effect, field
// = 'body'), the bytes an effect's [offset, length] slice names.
class EffectBatch {
  constructor(status, header, blob) {
    this.status = status;
    this.effects = header.effects;
    this.done = header.done;
    this.wake = header.wake ?? [];
    this.blob = blob;
  }
  body(effect, field = 'body') {
    const at = effect[field];
    return at ? this.blob.subarray(at[0], at[0] + at[1]) : EMPTY;
  }
}

export class GatewayCore {
  constructor(module) {
    const sink = { memory: null };
    this.instance = new WebAssembly.Instance(module, buildImports(module, sink));
    this.exports = this.instance.exports;
    this.memory = this.exports.memory;
    sink.memory = this.memory;
    if (typeof this.exports.gw_abi_version_10 !== 'function' || this.exports.gw_abi_version_10() !== ABI_VERSION) {
      throw new Error(`gateway module does not implement ABI version ${ABI_VERSION}`);
    }
    this.exports._initialize?.();
    this.outPair = this.exports.gw_alloc(8); // out_ptr, out_len
    this.inA = new InputBuffer(this);
    this.inB = new InputBuffer(this);
    this.dead = false;
  }

  // out_ptr and out_len, read through a view kept while the memory has not
  // grown (a Uint32Array reads the platform's order: little-endian, as wasm's
  // memory is, on every host workerd and Node run on).
  readOut() {
    const buffer = this.memory.buffer;
    if (!this.outWords || this.outWords.buffer !== buffer) this.outWords = new Uint32Array(buffer, this.outPair, 2);
    return new Uint8Array(buffer, this.outWords[0], this.outWords[1]);
  }

  // Copies two inputs into the module and calls fn(ptrA, lenA, ptrB, lenB).
  withInputs(a, b, fn) {
    const aLen = this.inA.put(a);
    const bLen = this.inB.put(b);
    return fn(this.inA.ptr, aLen, this.inB.ptr, bLen);
  }

  envNames(config) {
    const length = this.inA.put(config);
    const status = this.exports.gw_env_names(this.inA.ptr, length, this.outPair, this.outPair + 4);
    return { status, ...JSON.parse(decoder.decode(this.readOut())) };
  }

  configure(config, environment) {
    const status = this.withInputs(config, environment, (cp, cl, ep, el) =>
      this.exports.gw_configure(cp, cl, ep, el, this.outPair, this.outPair + 4),
    );
    return { status, ...JSON.parse(decoder.decode(this.readOut())) };
  }

  // Returns a session id (> 0) or a negative Status.
  open(envelope, body) {
    return this.withInputs(envelope, body, this.exports.gw_session_open);
  }

  feed(session, meta, data) {
    return this.withInputs(meta, data, (mp, ml, dp, dl) => this.exports.gw_session_feed(session, mp, ml, dp, dl));
  }

  // Drains the session's effects: an EffectBatch. Bodies are copied out, so
  // they outlive the next call into the core.
  poll(session) {
    const status = this.exports.gw_session_poll(session, this.outPair, this.outPair + 4);
    if (status !== Status.OK) return new EffectBatch(status, { effects: [], done: true }, EMPTY);
    const out = this.readOut();
    const headerLen = out[0] | (out[1] << 8) | (out[2] << 16) | (out[3] << 24);
    const header = JSON.parse(decoder.decode(out.subarray(4, 4 + headerLen)));
    return new EffectBatch(status, header, out.length > 4 + headerLen ? out.slice(4 + headerLen) : EMPTY);
  }

  cancel(session, nowMs) {
    return this.exports.gw_session_cancel(session, nowMs);
  }

  close(session) {
    return this.exports.gw_session_close(session);
  }

  // Loads a tenant's ledger from its stored entries (a Map of key -> JSON
  // text; empty for a new tenant); returns the ledger's id (> 0) or a
  // negative Status.
  ledgerOpen(entries) {
    const doc = `{${[...(entries ?? [])].map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
    return this.withInputs(doc, '', (sp, sl) => this.exports.gw_ledger_open(sp, sl));
  }

  // One operation on an open ledger: { writes (array of [key, JSON text] to
  // store; empty when nothing changed), result (string) }.
  ledgerApply(ledger, op, nowMs) {
    const status = this.withInputs(op, '', (op_, ol) =>
      this.exports.gw_ledger_apply(ledger, op_, ol, nowMs, this.outPair, this.outPair + 4),
    );
    if (status !== Status.OK) throw new Error(`gw_ledger_apply failed with status ${status}`);
    const out = this.readOut();
    const u32 = (at) => (out[at] | (out[at + 1] << 8) | (out[at + 2] << 16) | (out[at + 3] << 24)) >>> 0;
    const end = 4 + u32(0);
    const writes = [];
    for (let at = 4; at < end; ) {
      const kl = u32(at);
      const key = decoder.decode(out.subarray(at + 4, at + 4 + kl));
      at += 4 + kl;
      const vl = u32(at);
      writes.push([key, decoder.decode(out.subarray(at + 4, at + 4 + vl))]);
      at += 4 + vl;
    }
    return { writes, result: decoder.decode(out.subarray(end)) };
  }

  ledgerClose(ledger) {
    return this.exports.gw_ledger_close(ledger);
  }

  liveSessions() {
    return this.exports.gw_live_sessions();
  }

  memoryBytes() {
    return this.memory.buffer.byteLength;
  }
}
