// The ABI, exercised on both built modules (clang wasm32-wasi and Emscripten).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { GatewayCore, Status } from '../../bindings/gw_abi.js';
import { CONFIG_TEXT, MODULES, ROOT, defaultAnswer, drive, envelope, loadCore, pollPastStores } from '../support/modules.js';

const CHAT = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
const BAD = JSON.parse(readFileSync(ROOT + 'tests/fixtures/bad_requests.json', 'utf8'));

for (const which of Object.keys(MODULES)) {
  describe(`${which} module`, () => {
    test('exports the ABI version and configures from the bundled config', () => {
      const { core, result } = loadCore(which);
      assert.equal(core.exports.gw_abi_version_10(), 10);
      assert.equal(result.ok, true);
      assert.equal(result.max_body_bytes, 1048576);
      const names = core.envNames(CONFIG_TEXT);
      assert.ok(names.vars.includes('OPENAI_BASE_URL'));
      assert.ok(names.secrets.includes('OPENAI_API_KEY'));
      assert.ok(!names.vars.includes('OPENAI_API_KEY'), 'a secret is never asked for as a value');
    });

    test('allocation ownership: host buffers are freed by the host, output stays valid until the next call', () => {
      const { core } = loadCore(which);
      const p = core.exports.gw_alloc(1024);
      assert.ok(p > 0);
      core.exports.gw_free(p);
      const q = core.exports.gw_alloc(1024);
      assert.equal(q, p, 'freed memory is reused');
      core.exports.gw_free(q);
      assert.ok(core.exports.gw_alloc(0) > 0, 'zero-size allocation is a valid pointer');
      core.exports.gw_free(0); // freeing null is harmless
      drive(core, envelope('GET', '/v1/models'), null); // first request reads the KV config override
      const sid = core.open(envelope('GET', '/v1/models'), null);
      const batch = core.poll(sid);
      const chunk = batch.effects.find((e) => e.type === 'respond_chunk');
      const body = batch.body(chunk);
      core.close(sid);
      core.open(envelope('GET', '/api/v1/ai/health'), null); // overwrites the core's output buffer
      assert.equal(JSON.parse(new TextDecoder().decode(body)).object, 'list', 'polled bodies are copies');
    });

    test('two interleaved sessions keep their own state', () => {
      const { core } = loadCore(which);
      drive(core, envelope('GET', '/v1/models'), null); // first request reads the KV config override
      const a = core.open(envelope('POST', '/v1/chat/completions'), CHAT);
      const b = core.open(envelope('POST', '/v1/chat/completions'), JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'yo' }], stream: true }));
      assert.ok(a > 0 && b > 0 && a !== b);
      const fa = pollPastStores(core, a).effects.find((e) => e.type === 'fetch');
      const fb = pollPastStores(core, b).effects.find((e) => e.type === 'fetch');
      assert.equal(fa.stream, false);
      assert.equal(fb.stream, true);
      core.feed(b, { id: fb.id, type: 'fetch_head', status: 200, headers: {}, now_ms: 1 }, null);
      core.feed(a, { id: fa.id, type: 'fetch_head', status: 200, headers: {}, now_ms: 1 }, null);
      const headB = core.poll(b).effects.find((e) => e.type === 'respond_head');
      assert.equal(headB.stream, true);
      assert.equal(core.poll(a).effects.length, 0, 'a waits for its body');
      core.feed(a, { id: fa.id, type: 'fetch_chunk', now_ms: 2 }, defaultAnswer().chunks[0]);
      core.feed(a, { id: fa.id, type: 'fetch_end', now_ms: 3 }, null);
      const done = core.poll(a);
      assert.equal(done.done, true);
      assert.equal(done.effects.find((e) => e.type === 'respond_head').status, 200);
      assert.equal(core.close(a), Status.OK);
      assert.equal(core.liveSessions(), 1);
      assert.equal(core.close(b), Status.OK);
      assert.equal(core.liveSessions(), 0);
    });

    test('a bad session id answers a status, never a trap', () => {
      const { core } = loadCore(which);
      assert.equal(core.poll(4242).status, Status.NOT_FOUND);
      assert.equal(core.feed(4242, { id: 1, type: 'fetch_end' }, null), Status.NOT_FOUND);
      assert.equal(core.cancel(4242, 0), Status.NOT_FOUND);
      assert.equal(core.close(4242), Status.NOT_FOUND);
      assert.equal(core.open('not json', null), Status.BAD_ARGUMENT);
      const sid = core.open(envelope('POST', '/v1/chat/completions'), CHAT);
      assert.equal(core.feed(sid, 'garbage{', null), Status.INVALID_STATE);
      assert.equal(core.feed(sid, { id: 99, type: 'fetch_end' }, null), Status.INVALID_STATE);
      core.close(sid);
    });

    test('the shared bad-request table gives the same errors in wasm', () => {
      const { core } = loadCore(which);
      for (const row of BAD) {
        const body = row.latin1 ? Uint8Array.from(row.body, (c) => c.charCodeAt(0)) : row.body;
        const res = drive(core, envelope('POST', '/v1/chat/completions'), body);
        assert.equal(res.status, row.status, row.name);
        const err = JSON.parse(res.body).error;
        assert.equal(err.param, row.param, row.name);
        assert.equal(err.code, row.code, row.name);
      }
    });

    test('an invalid config is reported, and requests get a 500 naming the field', () => {
      const { core, result } = loadCore(which, { vars: { AI_GATEWAY_REQUEST_TIMEOUT: 'soon' } });
      assert.equal(result.ok, false);
      assert.match(result.error, /AI_GATEWAY_REQUEST_TIMEOUT/);
      const res = drive(core, envelope('POST', '/v1/chat/completions'), CHAT);
      assert.equal(res.status, 500);
      assert.match(JSON.parse(res.body).error.message, /AI_GATEWAY_REQUEST_TIMEOUT/);
    });

    test('a non-stream round trip through the module', () => {
      const { core } = loadCore(which);
      const res = drive(core, envelope('POST', '/v1/chat/completions'), CHAT);
      assert.equal(res.status, 200);
      assert.equal(JSON.parse(res.body).usage.total_tokens, 21);
      assert.equal(JSON.parse(res.upstreamBody).max_tokens, 2000);
      assert.match(res.headers['x-request-id'], /^aigw_[0-9a-f]{24}$/);
    });

    test('text reaches the core as UTF-8 whatever its width, as strings or as bytes', () => {
      const { core } = loadCore(which);
      // Three- and four-byte characters: the input buffer, sized for one byte per
      // character, has to grow and encode again; then a short ASCII request reuses it.
      for (const content of ['€'.repeat(700) + ' 😀 ' + 'ü'.repeat(300), 'olá, 世界', 'plain']) {
        const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] });
        for (const sent of [body, new TextEncoder().encode(body), new TextEncoder().encode(body).buffer]) {
          const res = drive(core, envelope('POST', '/v1/chat/completions'), sent);
          assert.equal(res.status, 200);
          assert.equal(JSON.parse(res.upstreamBody).messages[0].content, content);
        }
      }
    });

    test('d1 effects carry the SQL and its parameters, and their rows come back through the module', () => {
      const { core } = loadCore(which);
      core.testD1Log = [];
      core.testD1 = (sql) =>
        sql.startsWith('SELECT provider') ? { rows: [{ provider: 'openai', model: 'gpt-4o' }], changes: 0 } : { rows: [], changes: 1 };
      const routed = drive(core, envelope('POST', '/v1/chat/completions', { headers: { ...envelope('POST', '/').headers, 'x-aigw-routing': 'preference' } }), CHAT);
      assert.equal(routed.status, 200);
      assert.equal(JSON.parse(routed.upstreamBody).model, 'gpt-4o');
      const [read, counted] = core.testD1Log;
      assert.match(read.sql, /^SELECT provider, model FROM user_preferences WHERE/);
      assert.deepEqual(read.params, ['acme', 'alice', 'default']);
      assert.match(counted.sql, /^UPDATE user_preferences SET usage_count = usage_count \+ 1/);
      assert.deepEqual(counted.params.slice(1), ['acme', 'alice', 'default']);
      const deleted = drive(core, envelope('DELETE', '/api/v1/ai/preferences/default'), null);
      assert.deepEqual(JSON.parse(deleted.body), { object: 'preference.deleted', context: 'default', deleted: 1 });
    });

    test('100k requests without memory growth or leaked sessions', () => {
      const { core } = loadCore(which);
      const env = envelope('POST', '/v1/chat/completions');
      for (let i = 0; i < 2000; i++) drive(core, env, CHAT); // warm up the allocator
      const before = core.memoryBytes();
      for (let i = 0; i < 100000; i++) {
        const res = drive(core, env, i % 10 === 0 ? '{"model":1}' : CHAT);
        if (res.status !== (i % 10 === 0 ? 400 : 200)) assert.fail(`request ${i} answered ${res.status}`);
      }
      assert.equal(core.liveSessions(), 0);
      assert.equal(core.memoryBytes(), before, 'linear memory did not grow');
    });
  });
}

test('both toolchains expose exactly the same exports', () => {
  const names = (p) =>
    WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(p)))
      .map((e) => e.name)
      .filter((n) => n.startsWith('gw_'))
      .sort();
  assert.deepEqual(names(MODULES.clang), names(MODULES.emscripten));
});

test('a trap inside the core surfaces as a JS error the host can catch', () => {
  const module = new WebAssembly.Module(readFileSync(MODULES.clang));
  const core = new GatewayCore(module);
  assert.throws(() => core.exports.gw_session_open(0xfffffff0, 64, 0, 0), WebAssembly.RuntimeError);
});
