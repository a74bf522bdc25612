// Scrubs the secrets a fetch carried (a provider key, a secret URL) out of
// everything the provider sends back: headers, buffered bodies and streamed
// chunks, before the core sees any of it. A stream may split a key across
// chunks, so the end of a chunk that could begin a secret is held back until
// the next chunk shows whether it does; any other byte passes at once (an SSE
// event is never delayed by the scrubbing).
import { concat } from './bytes.js';

const encoder = new TextEncoder();
// Keeps a leading U+FEFF, so a decoded body is the bytes' exact text.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const MARK = encoder.encode('[redacted]');
// Shorter values are not secrets worth matching (and would match everywhere).
const MIN_SECRET = 4;

// The compiled form of a list of secrets, kept per isolate: every fetch of a
// provider carries the same key, and encoding it anew cost each request.
const compiled = new Map();
const MAX_COMPILED = 64;
function compile(secrets) {
  const id = secrets.join('\u0000');
  let c = compiled.get(id);
  if (!c) {
    const unique = [...new Set(secrets.filter((s) => typeof s === 'string' && s.length >= MIN_SECRET))];
    const patterns = unique.map((s) => encoder.encode(s));
    // Each pattern as the decoder gives it back (a lone surrogate in a
    // variable's value is encoded as U+FFFD).
    c = { secrets: unique, patterns, needles: patterns.map((p) => decoder.decode(p)) };
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(id, c);
  }
  return c;
}

export class Redactor {
  constructor(secrets) {
    const { secrets: unique, patterns, needles } = compile(secrets);
    this.secrets = unique;
    this.patterns = patterns;
    this.needles = needles;
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

  // Whether any secret may occur in the bytes, by the runtime's native decode
  // and search (the byte loop below costs ~10x more on a 1 KB answer, and
  // almost every answer holds no secret). A secret's bytes anywhere decode to
  // the secret itself: the decoder starts afresh at every byte that cannot
  // continue a sequence, and a secret begins with such a byte. So a miss here
  // is a sure miss; a hit is confirmed byte by byte.
  mayContain(input) {
    const text = decoder.decode(input);
    return this.needles.some((n) => text.includes(n));
  }

  scan(input, final) {
    if (!this.mayContain(input)) return this.passAll(input, final);
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

  // No secret inside: everything passes but, mid-stream, a tail that could
  // begin one.
  passAll(input, final) {
    if (final) return input;
    const end = input.length - this.heldTail(input, 0);
    if (end === input.length) return input;
    this.carry = input.slice(end);
    return input.subarray(0, end);
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
