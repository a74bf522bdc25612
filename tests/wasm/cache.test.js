// The cache key in the built modules: for the golden requests the key the
// core reads from KV is the runtime's WebCrypto SHA-256 of the expected
// canonical document, and form-only differences share it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { drive, envelope, loadCore } from '../support/modules.js';

const KEYS = JSON.parse(readFileSync(new URL('../fixtures/cache/keys.json', import.meta.url), 'utf8'));

async function webCryptoHex(text) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

// The cache key the core looked up for one request.
function keyRead(core, body) {
  core.testKvReads = [];
  const res = drive(core, envelope('POST', '/v1/chat/completions'), body);
  assert.equal(res.status, 200, res.body);
  const read = core.testKvReads.find((k) => k.startsWith('cache:'));
  assert.ok(read, 'the core looked the request up in the cache');
  return read;
}

for (const which of ['clang', 'emscripten']) {
  test(`${which}: the key is WebCrypto's SHA-256 of the canonical document`, async () => {
    const { core } = loadCore(which, { vars: { AI_CACHE_ENABLED: 'true', AI_CACHE_MEMORY_MS: '0' } });
    for (const c of KEYS.canonical) {
      const expected = await webCryptoHex(c.document);
      assert.equal(expected, c.key, 'the fixture agrees with WebCrypto');
      assert.equal(keyRead(core, c.request), `cache:${KEYS.target.scope}:${expected}`, c.why);
    }
  });

  test(`${which}: requests that differ only in form share a key`, () => {
    const { core } = loadCore(which, { vars: { AI_CACHE_ENABLED: 'true', AI_CACHE_MEMORY_MS: '0' } });
    for (const c of KEYS.same) assert.equal(keyRead(core, c.b), keyRead(core, c.a), c.why);
    // Changes in what decides the answer (those this tenant and target can express) do not.
    for (const c of KEYS.different.filter((d) => !d.scope_b && !d.provider_b && !d.upstream_model_b))
      assert.notEqual(keyRead(core, c.b), keyRead(core, c.a), c.why);
  });
}
