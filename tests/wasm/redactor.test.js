// The worker's scrubbing of provider bytes (worker/redactor.js): a secret is
// replaced wherever it appears, however a stream splits it, and nothing else
// is changed or held back longer than it must be.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from '../../worker/redactor.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const KEY = 'sk-live-0123456789abcdefXYZ';
const URL_SECRET = 'https://hooks.example/T0KEN-abcdef';

function streamed(r, pieces) {
  let out = '';
  for (const p of pieces) out += decoder.decode(r.push(encoder.encode(p)));
  return out + decoder.decode(r.flush());
}

test('every secret of a call is replaced in text, whole bodies and headers', () => {
  const r = new Redactor([KEY, URL_SECRET, '', 'ab', undefined]);
  assert.equal(r.text(`key ${KEY} and ${URL_SECRET}/x, ${KEY}`), 'key [redacted] and [redacted]/x, [redacted]');
  assert.equal(decoder.decode(r.whole(encoder.encode(`{"error":"bad ${KEY}"}`))), '{"error":"bad [redacted]"}');
  // Values too short to be secrets are not matched everywhere.
  assert.equal(r.text('ab abc'), 'ab abc');
  const none = new Redactor([]);
  const bytes = encoder.encode('unchanged');
  assert.equal(none.push(bytes), bytes);
  assert.equal(none.whole(bytes), bytes);
});

test('a secret split across stream chunks at any point is still replaced', () => {
  const text = `data: {"error":{"message":"overloaded for key ${KEY}, retry"}}\n\ndata: ${URL_SECRET}\n\n`;
  const expected = text.replaceAll(KEY, '[redacted]').replaceAll(URL_SECRET, '[redacted]');
  for (let a = 0; a <= text.length; a++) {
    assert.equal(streamed(new Redactor([KEY, URL_SECRET]), [text.slice(0, a), text.slice(a)]), expected, `cut at ${a}`);
    const b = Math.min(text.length, a + 5);
    assert.equal(streamed(new Redactor([KEY, URL_SECRET]), [text.slice(0, a), text.slice(a, b), text.slice(b)]), expected);
  }
  // One byte at a time.
  assert.equal(streamed(new Redactor([KEY]), [...text]), text.replaceAll(KEY, '[redacted]'));
});

test('only a tail that could begin a secret is held back: an event passes at once', () => {
  const r = new Redactor([KEY]);
  const event = 'data: {"choices":[{"delta":{"content":"hi"}}]}\n\n';
  assert.equal(decoder.decode(r.push(encoder.encode(event))), event);
  // "sk-li" could be the key's start: held until the next chunk says otherwise.
  assert.equal(decoder.decode(r.push(encoder.encode('data: sk-li'))), 'data: ');
  assert.equal(decoder.decode(r.push(encoder.encode('mit\n\n'))), 'sk-limit\n\n');
  assert.equal(r.flush().length, 0);
  // A stream that ends on a held tail gives it back at the end.
  assert.equal(decoder.decode(r.push(encoder.encode('x sk-'))), 'x ');
  assert.equal(decoder.decode(r.flush()), 'sk-');
});

test('a secret after broken UTF-8, next to multi-byte text or at the very start is still replaced', () => {
  const r = new Redactor([KEY, 'ключ-секрет-42']);
  const around = (bytes) => decoder.decode(r.whole(bytes));
  const parts = (...xs) => {
    const chunks = xs.map((x) => (typeof x === 'string' ? encoder.encode(x) : Uint8Array.from(x)));
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) out.set(c, (at += c.length) - c.length);
    return out;
  };
  // A lead byte with no continuation, a stray continuation, a truncated 3-byte sequence before the key.
  for (const junk of [[0xe2], [0x80], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xff]]) {
    const out = around(parts('x', junk, KEY, 'y'));
    assert.ok(!out.includes(KEY) && out.includes('[redacted]'), `after ${junk}`);
  }
  assert.equal(around(parts(KEY, ' é')), '[redacted] é');
  const keepBom = new TextDecoder('utf-8', { ignoreBOM: true });
  assert.equal(keepBom.decode(r.whole(parts([0xef, 0xbb, 0xbf], 'ключ-секрет-42!'))), '\ufeff[redacted]!');
  // A near miss passes unchanged and is the very same bytes.
  const miss = encoder.encode(`{"k":"${KEY.slice(0, -1)}"}`);
  assert.equal(r.whole(miss), miss);
});
