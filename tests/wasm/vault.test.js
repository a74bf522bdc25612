// worker/vault.js: provider keys sealed and opened with WebCrypto, bound to
// their place, rotated to a new master key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, parseMasterKeys, reseal, seal, vaultKeyIds } from '../../worker/vault.js';

const master = (fill) => Buffer.alloc(32, fill).toString('base64');
const K1 = `k1:${master(1)}`;
const K2 = `k2:${master(2)}`;
const KEY = 'sk-proj-0123456789abcdefXYZW';

test('a sealed key opens to itself, and its text holds nothing of it', async () => {
  const env = { GATEWAY_ENCRYPTION_KEY: K1 };
  const { sealed, keyId } = await seal(env, KEY, 'tenant:acme/openai');
  assert.equal(keyId, 'k1');
  assert.ok(!sealed.includes(KEY));
  assert.ok(!sealed.includes(Buffer.from(KEY).toString('base64')));
  assert.equal(JSON.parse(sealed).kid, 'k1');
  assert.equal(await open(env, sealed, 'tenant:acme/openai'), KEY);
  // Two seals of one key differ (fresh data key and IVs).
  assert.notEqual((await seal(env, KEY, 'tenant:acme/openai')).sealed, sealed);
});

test('a sealed key does not open in another place, tampered, or without its master key', async () => {
  const env = { GATEWAY_ENCRYPTION_KEY: K1 };
  const { sealed } = await seal(env, KEY, 'tenant:acme/openai');
  await assert.rejects(open(env, sealed, 'tenant:globex/openai'), /does not open/);
  await assert.rejects(open(env, sealed, 'tenant:acme/anthropic'), /does not open/);
  const doc = JSON.parse(sealed);
  const ct = Buffer.from(doc.ct, 'base64');
  ct[ct.length - 1] ^= 1;
  await assert.rejects(open(env, JSON.stringify({ ...doc, ct: ct.toString('base64') }), 'tenant:acme/openai'), /does not open/);
  await assert.rejects(open(env, 'not json', 'tenant:acme/openai'), /not a sealed key/);
  await assert.rejects(open({ GATEWAY_ENCRYPTION_KEY: K2 }, sealed, 'tenant:acme/openai'), /GATEWAY_ENCRYPTION_KEY/);
  await assert.rejects(seal({}, KEY, 'gateway/openai'), /not set/);
});

test('rotation: the new master seals, the old one still opens until resealed', async () => {
  const old = { GATEWAY_ENCRYPTION_KEY: K1 };
  const { sealed } = await seal(old, KEY, 'gateway/openai');
  const both = { GATEWAY_ENCRYPTION_KEY: `${K2},${K1}` };
  assert.deepEqual(vaultKeyIds(both), ['k2', 'k1']);
  assert.equal(await open(both, sealed, 'gateway/openai'), KEY);
  const again = await reseal(both, sealed, 'gateway/openai');
  assert.equal(again.keyId, 'k2');
  const onlyNew = { GATEWAY_ENCRYPTION_KEY: K2 };
  assert.equal(await open(onlyNew, again.sealed, 'gateway/openai'), KEY);
  await assert.rejects(open(onlyNew, sealed, 'gateway/openai'), /k1/);
});

test('a malformed GATEWAY_ENCRYPTION_KEY turns the vault off and says why', () => {
  assert.deepEqual(parseMasterKeys('').ids, []);
  assert.match(parseMasterKeys('k1').error, /<id>:<base64/);
  assert.match(parseMasterKeys(`k1:${Buffer.alloc(16).toString('base64')}`).error, /32 bytes/);
  assert.match(parseMasterKeys(`${K1},${K1}`).error, /twice/);
  assert.match(parseMasterKeys(`bad id:${master(3)}`).error, /<id>/);
  assert.deepEqual(parseMasterKeys(` ${K1} , ${K2} `).ids, ['k1', 'k2']);
});
