// Scrubs the secrets a fetch carried (a provider key, a secret URL) out of
// everything the provider sends back: headers, buffered bodies and streamed
// chunks, before the core sees any of it. A stream may split a key across
// chunks, so the end of a chunk that could begin a secret is held back until
// the next chunk shows whether it does; any other byte passes at once (an SSE
// event is never delayed by the scrubbing).
import { concat } from './bytes.js';

const encoder = new TextEncoder();
const MARK = encoder.encode('[redacted]');
// Shorter values are not secrets worth matching (and would match everywhere).
const MIN_SECRET = 4;

export class Redactor {
  constructor(secrets) {
    this.secrets = [...new Set(secrets.filter((s) => typeof s === 'string' && s.length >= MIN_SECRET))];
    this.patterns = this.secrets.map((s) => encoder.encode(s));
    this.carry = null;
  }

  get active() {
    return this.patterns.length > 0;
  }

  text(value) {
    let out = value;
    for (const s of this.secrets) if (out.includes(s)) out = out.replaceAll(s, '[redacted]');
    return out;
  }

  // A whole body: nothing can follow it.
  whole(bytes) {
    return this.active ? this.scan(bytes, true) : bytes;
  }

  // One chunk of a stream: the bytes that are safe to pass on now.
  push(bytes) {
    if (!this.active) return bytes;
    let input = bytes;
    if (this.carry) {
      input = new Uint8Array(this.carry.length + bytes.length);
      input.set(this.carry);
      input.set(bytes, this.carry.length);
      this.carry = null;
    }
    return this.scan(input, false);
  }

  // The end of the stream: what was held back was not a secret after all.
  flush() {
    const rest = this.carry ?? new Uint8Array(0);
    this.carry = null;
    return rest;
  }

  scan(input, final) {
    const parts = [];
    let from = 0;
    let i = 0;
    while (i < input.length) {
      const p = this.matchAt(input, i);
      if (p) {
        parts.push(input.subarray(from, i), MARK);
        i += p.length;
        from = i;
      } else {
        i++;
      }
    }
    let end = input.length;
    if (!final) {
      // Hold back the longest tail that is the start of some secret.
      end -= this.heldTail(input, from);
      if (end < input.length) this.carry = input.slice(end);
    }
    if (parts.length === 0) return end === input.length ? input : input.subarray(0, end);
    parts.push(input.subarray(from, end));
    return concat(parts);
  }

  matchAt(input, i) {
    for (const p of this.patterns) {
      if (input[i] !== p[0] || i + p.length > input.length) continue;
      let k = 1;
      while (k < p.length && input[i + k] === p[k]) k++;
      if (k === p.length) return p;
    }
    return null;
  }

  // Length of the longest suffix of input[from..] that is a proper prefix of a secret.
  heldTail(input, from) {
    let best = 0;
    for (const p of this.patterns) {
      const longest = Math.min(p.length - 1, input.length - from);
      for (let n = longest; n > best; n--) {
        const start = input.length - n;
        let k = 0;
        while (k < n && input[start + k] === p[k]) k++;
        if (k === n) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
