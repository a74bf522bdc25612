// The vault's cryptography (README: Provider keys). A provider key is sealed
// with AES-256-GCM under a fresh data key, bound to its context (which
// scope and provider it is for) as additional data; the data key is wrapped
// with AES-256-GCM by a master key. GATEWAY_ENCRYPTION_KEY holds the master
// keys as `id:base64` entries separated by commas, the first one sealing, the
// others only opening (rotation). The core decides what is sealed, where it
// is stored and which key a call uses; this module only does the crypto.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const VERSION = 1;
const ID = /^[A-Za-z0-9_-]{1,32}$/;
const OPENED_MAX = 256;

function toBase64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s);
}

function fromBase64(text) {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

// The master keys of one value of the variable: { ids, raw: Map(id -> 32 bytes), error }.
export function parseMasterKeys(text) {
  const raw = new Map();
  if (typeof text !== 'string' || !text.trim()) return { ids: [], raw, error: null };
  for (const entry of text.split(',')) {
    const colon = entry.indexOf(':');
    const id = entry.slice(0, colon).trim();
    if (colon < 0 || !ID.test(id)) return { ids: [], raw: new Map(), error: 'each entry must be <id>:<base64 of 32 bytes>, the id of letters, digits, - or _' };
    let bytes;
    try {
      bytes = fromBase64(entry.slice(colon + 1).trim());
    } catch {
      bytes = null;
    }
    if (!bytes || bytes.length !== 32) return { ids: [], raw: new Map(), error: `key ${id} is not 32 bytes of base64` };
    if (raw.has(id)) return { ids: [], raw: new Map(), error: `key id ${id} appears twice` };
    raw.set(id, bytes);
  }
  return { ids: [...raw.keys()], raw, error: null };
}

// Per isolate: the parsed variable, its imported keys, and keys opened lately.
let masters = null;
const opened = new Map();

function mastersOf(env) {
  const text = env.GATEWAY_ENCRYPTION_KEY ?? '';
  if (!masters || masters.text !== text) {
    masters = { text, ...parseMasterKeys(text), imported: new Map() };
    opened.clear();
  }
  return masters;
}

// The master key ids the core is told of (the sealing one first); none when
// the variable is unset or malformed.
export function vaultKeyIds(env) {
  const m = mastersOf(env);
  if (m.error) console.error(JSON.stringify({ level: 'error', event: 'invalid_encryption_key', message: `GATEWAY_ENCRYPTION_KEY: ${m.error}` }));
  return m.ids;
}

function masterKey(m, id) {
  let key = m.imported.get(id);
  if (!key) {
    const raw = m.raw.get(id);
    if (!raw) throw new Error(`the master key '${id}' it was sealed under is not in GATEWAY_ENCRYPTION_KEY`);
    key = crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
    m.imported.set(id, key);
  }
  return key;
}

function withIv(iv, cipher) {
  const out = new Uint8Array(iv.length + cipher.byteLength);
  out.set(iv);
  out.set(new Uint8Array(cipher), iv.length);
  return toBase64(out);
}

async function encrypt(key, plain, aad) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  return withIv(iv, await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: encoder.encode(aad) }, key, plain));
}

async function decrypt(key, sealed, aad) {
  const bytes = fromBase64(sealed);
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: bytes.subarray(0, 12), additionalData: encoder.encode(aad) }, key, bytes.subarray(12));
  return new Uint8Array(plain);
}

// The data key's wrap is bound to its master key id and the context too.
const wrapAad = (kid, context) => `aigw-vault-key:${kid}:${context}`;

// Seals `plain` (a string) for `context`: { sealed (JSON text), keyId }.
export async function seal(env, plain, context) {
  const m = mastersOf(env);
  if (!m.ids.length) throw new Error('GATEWAY_ENCRYPTION_KEY is not set');
  const kid = m.ids[0];
  const dataKeyBytes = crypto.getRandomValues(new Uint8Array(32));
  const dataKey = await crypto.subtle.importKey('raw', dataKeyBytes, 'AES-GCM', false, ['encrypt']);
  const ct = await encrypt(dataKey, encoder.encode(plain), context);
  const wk = await encrypt(await masterKey(m, kid), dataKeyBytes, wrapAad(kid, context));
  dataKeyBytes.fill(0);
  return { sealed: JSON.stringify({ v: VERSION, kid, wk, ct }), keyId: kid };
}

// Opens a sealed key for `context` (kept per isolate while the variable stays the same).
export async function open(env, sealed, context) {
  const m = mastersOf(env);
  const cacheKey = `${context}\n${sealed}`;
  const hit = opened.get(cacheKey);
  if (hit !== undefined) return hit;
  let doc;
  try {
    doc = JSON.parse(sealed);
  } catch {
    throw new Error('the stored key is not a sealed key');
  }
  if (doc?.v !== VERSION || typeof doc.kid !== 'string' || typeof doc.wk !== 'string' || typeof doc.ct !== 'string') {
    throw new Error('the stored key is not a sealed key');
  }
  let plain;
  try {
    const dataKeyBytes = await decrypt(await masterKey(m, doc.kid), doc.wk, wrapAad(doc.kid, context));
    const dataKey = await crypto.subtle.importKey('raw', dataKeyBytes, 'AES-GCM', false, ['decrypt']);
    dataKeyBytes.fill(0);
    plain = decoder.decode(await decrypt(dataKey, doc.ct, context));
  } catch (err) {
    if (String(err?.message).includes('GATEWAY_ENCRYPTION_KEY')) throw err;
    throw new Error('the stored key does not open with its master key here (tampered, or stored for another place)');
  }
  if (opened.size >= OPENED_MAX) opened.clear();
  opened.set(cacheKey, plain);
  return plain;
}

// Opens a sealed key and seals it again under the current master key.
export async function reseal(env, sealed, context) {
  return seal(env, await open(env, sealed, context), context);
}
