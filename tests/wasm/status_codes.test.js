// The ABI's status codes are one list (bindings/status_codes.json): the JS
// Status comes from it, the module answers with its codes, and ABI.md's
// table says the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Status } from '../../bindings/gw_abi.js';
import { loadCore } from '../support/modules.js';

const ROOT = new URL('../../', import.meta.url);
const list = JSON.parse(readFileSync(new URL('bindings/status_codes.json', ROOT), 'utf8')).codes;

test('Status is the list, and the module answers with its codes', () => {
  assert.deepEqual(Object.keys(Status), list.map((c) => c.js));
  for (const c of list) assert.equal(Status[c.js], c.code);
  const { core } = loadCore('clang');
  assert.equal(core.close(987654), Status.NOT_FOUND);
});

test("ABI.md's table of status codes is the list", () => {
  const doc = readFileSync(new URL('bindings/ABI.md', ROOT), 'utf8');
  const section = doc.slice(doc.indexOf('## Status codes'), doc.indexOf('## Memory ownership'));
  const rows = [...section.matchAll(/^\| (-?\d+) \| `(\w+)` \| (.+) \|$/gm)].map((m) => ({ code: Number(m[1]), c: m[2], meaning: m[3] }));
  assert.deepEqual(rows, list.map(({ code, c, meaning }) => ({ code, c, meaning })));
});
