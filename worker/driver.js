// The effect driver: runs one client request through a core session. It makes
// no gateway decision; it performs the effects the core asks for (running
// independent ones concurrently), feeds back what happened, and turns
// respond_* effects into the HTTP response.
import { Status } from '../bindings/gw_abi.js';
import { concat } from './bytes.js';
import { QueueBatcher } from './queue_batcher.js';
import { Redactor } from './redactor.js';
import * as vault from './vault.js';

const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);
const KEEP_ALIVE_MS = 600_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function errorResponse(status, message, code, requestId) {
  const body = JSON.stringify({ error: { message, type: 'server_error', param: null, code } });
  const headers = { 'content-type': 'application/json', 'access-control-allow-origin': '*' };
  if (requestId) headers['x-request-id'] = requestId;
  return new Response(body, { status, headers });
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
function hex(bytes) {
  let s = '';
  for (const b of bytes) s += HEX[b];
  return s;
}

// Past the limit an upload is still read to its end and thrown away, up to
// this much: workerd resets a keep-alive connection whose request body was
// left unread or cancelled, and the client's next request on it fails
// (measured: answering without reading does too). Beyond it the body is
// cancelled and the connection is lost.
const DRAIN_LIMIT = 64 << 20;

// The body, or `truncated` when it is over `limit`: buffered up to limit + 1
// bytes, the rest drained unbuffered; `size` is what the client sent.
async function readBody(request, limit) {
  if (!request.body) return { bytes: new Uint8Array(0), truncated: false, size: 0 };
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared <= limit) {
    // Declared and within the limit: one read (the runtime enforces the length).
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.length <= limit) return { bytes, truncated: false, size: bytes.length };
    return { bytes: bytes.subarray(0, limit + 1), truncated: true, size: bytes.length };
  }
  const reader = request.body.getReader();
  if (declared > DRAIN_LIMIT) {
    await reader.cancel().catch(() => {});
    return { bytes: new Uint8Array(0), truncated: true, size: declared };
  }
  const parts = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    if (size <= limit) parts.push(value);
    size += value.byteLength;
    if (size > DRAIN_LIMIT) {
      await reader.cancel().catch(() => {});
      break;
    }
  }
  const bytes = concat(parts);
  return { bytes: size > limit ? bytes.subarray(0, limit + 1) : bytes, truncated: size > limit, size };
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

class SessionDriver {
  constructor(host, sid, env, ctx) {
    this.host = host; // { core, onTrap }
    this.core = host.core;
    this.sid = sid;
    this.env = env;
    this.ctx = ctx;
    this.inflight = new Map();
    // The secrets this request's fetches carried, to scrub from its stored bodies.
    this.carried = new Set();
    this.closed = false;
    this.head = null;
    this.chunks = [];
    this.controller = null;
    this.requestId = null;
    this.response = new Promise((resolve) => (this.resolve = resolve));
    // Settles when the session ends. Registered with waitUntil, it keeps the
    // request's context alive past a client that went away, so what the core
    // does last (settle, the usage row) is not cut off with it.
    this.finished = new Promise((resolve) => (this.markFinished = resolve));
    // Work that runs past the response (the usage row's send, the log line,
    // detached ledger and D1 calls, jobs): `finished` waits for it too, so
    // the request's one waitUntil covers it all (each call into the runtime
    // costs, and a request makes several of these).
    this.background = [];
    this.armWake();
  }

  // Another request's session can give this one work (it waited for that
  // request's identical answer). The runtime runs this continuation in this
  // request's own context, whoever resolves it.
  armWake() {
    new Promise((resolve) => (this.wakeUp = resolve)).then(() => {
      clearTimeout(this.keepAlive);
      this.keepAlive = null;
      if (this.closed) return;
      this.armWake();
      this.pump();
    });
  }

  // Every call into the core goes through here: a trap fails this request
  // with a 502 and retires the instance; it never escapes to the isolate.
  guard(fn) {
    if (this.closed) return undefined;
    if (this.core.dead) return this.fail(new Error('gateway core instance was replaced after a fault'));
    try {
      return fn();
    } catch (err) {
      this.core.dead = true;
      this.host.onTrap?.(err);
      return this.fail(err);
    }
  }

  fail(err) {
    console.error(JSON.stringify({ level: 'error', event: 'core_fault', message: String(err?.message ?? err) }));
    const message = 'The gateway hit an internal fault while handling this request.';
    if (this.controller) {
      // The core handed over, with the stream's head, the event that ends it
      // in the client's dialect should it fault.
      try {
        if (this.faultEvent) this.controller.enqueue(encoder.encode(this.faultEvent));
        this.controller.close();
      } catch {}
    } else {
      this.resolve(errorResponse(502, message, 'gateway_fault', this.requestId));
    }
    this.finish();
  }

  // Keeps the request alive until `work` settles (see `background`).
  holdOpen(work) {
    if (this.closed) this.ctx?.waitUntil?.(work);
    else this.background.push(work);
  }

  finish() {
    if (this.closed) return;
    this.closed = true;
    this.markFinished(this.background.length ? Promise.allSettled(this.background) : undefined);
    this.host.drivers?.delete(this.sid);
    if (this.keepAlive) clearTimeout(this.keepAlive);
    for (const ac of this.inflight.values()) ac.abort();
    this.inflight.clear();
    if (!this.core.dead) {
      try {
        this.core.close(this.sid);
      } catch {}
    }
  }

  pump() {
    const batch = this.guard(() => this.core.poll(this.sid));
    if (!batch || this.closed) return;
    for (const effect of batch.effects) this.dispatch(effect, batch);
    for (const id of batch.wake ?? []) if (id !== this.sid) this.host.drivers?.get(id)?.wakeUp();
    if (batch.done) return this.finish();
    // Nothing asked and not done: the session may be waiting on another
    // request. The runtime cancels a request with nothing pending as hung,
    // so a timer stands in until the wake-up (the core bounds the wait).
    if (!batch.effects.length && !this.keepAlive) this.keepAlive = setTimeout(() => (this.keepAlive = null), KEEP_ALIVE_MS);
  }

  feed(meta, data) {
    if (this.closed) return;
    meta.now_ms = Date.now();
    const status = this.guard(() => this.core.feed(this.sid, meta, data));
    if (status === undefined) return;
    if (status !== Status.OK && status !== Status.NOT_FOUND) {
      console.error(JSON.stringify({ level: 'error', event: 'feed_rejected', status, type: meta.type }));
    }
    this.pump();
  }

  dispatch(effect, batch) {
    switch (effect.type) {
      case 'respond_head':
        this.requestId = effect.headers['x-request-id'] ?? this.requestId;
        if (effect.stream) {
          this.faultEvent = effect.fault_event;
          const stream = new ReadableStream({
            start: (controller) => (this.controller = controller),
            cancel: () => this.clientGone(),
          });
          this.resolve(new Response(stream, { status: effect.status, headers: effect.headers }));
        } else {
          this.head = effect;
        }
        break;
      case 'respond_chunk': {
        const bytes = batch.body(effect);
        if (this.controller) {
          try {
            this.controller.enqueue(bytes);
          } catch {
            this.clientGone();
          }
        } else {
          this.chunks.push(bytes);
        }
        break;
      }
      case 'respond_end':
        if (this.controller) {
          try {
            this.controller.close();
          } catch {}
        } else if (this.head) {
          const body = NULL_BODY_STATUS.has(this.head.status) ? null : concat(this.chunks);
          this.resolve(new Response(body, { status: this.head.status, headers: this.head.headers }));
        }
        break;
      case 'fetch':
        this.startFetch(effect, batch.body(effect));
        break;
      case 'abort':
        this.inflight.get(effect.id)?.abort();
        this.inflight.delete(effect.id);
        break;
      case 'kv_get':
        this.kvGet(effect);
        break;
      case 'kv_put':
      case 'kv_delete':
        this.kvWrite(effect, batch.body(effect));
        break;
      case 'kv_list':
        this.kvList(effect);
        break;
      case 'ledger':
        this.ledger(effect, batch.body(effect));
        break;
      case 'd1_exec':
        this.d1(effect);
        break;
      case 'queue_send':
        this.queueSend(effect, batch.body(effect));
        break;
      case 'schedule':
        this.schedule(effect);
        break;
      case 'blob_put':
        this.blobPut(effect, batch.body(effect));
        break;
      case 'blob_get':
      case 'blob_list':
      case 'blob_delete':
        this.blobCall(effect);
        break;
      case 'vault_seal':
      case 'vault_reseal':
        this.vaultSeal(effect, batch.body(effect));
        break;
      case 'log':
        this.holdOpen(deferLog(decoder.decode(batch.body(effect))));
        break;
      default:
        console.error(JSON.stringify({ level: 'error', event: 'unknown_effect', type: effect.type }));
    }
  }

  // The client went away. The core ends the session unless it had already
  // answered; then its remaining work (settle, the usage row) runs on.
  clientGone() {
    if (this.closed) return;
    this.guard(() => this.core.cancel(this.sid, Date.now()));
    this.pump();
  }

  async kvGet(effect) {
    const kv = this.env[effect.binding];
    let value = null;
    let error;
    try {
      if (!kv) throw new Error(`no KV binding ${effect.binding}`);
      value = await kv.get(effect.key, { type: 'arrayBuffer' });
    } catch (err) {
      error = String(err?.message ?? err);
      console.error(JSON.stringify({ level: 'error', event: 'kv_error', key: effect.key, message: error }));
    }
    // `error`: KV failed, which the core tells apart from a key not there.
    this.feed({ id: effect.id, type: 'kv_result', found: value !== null, error }, value ? new Uint8Array(value) : null);
  }

  // Seals a provider key for the vault, or seals a sealed one again under
  // the current master key (worker/vault.js).
  async vaultSeal(effect, body) {
    const text = decoder.decode(body);
    try {
      const { sealed, keyId } =
        effect.type === 'vault_seal' ? await vault.seal(this.env, text, effect.context) : await vault.reseal(this.env, text, effect.context);
      this.feed({ id: effect.id, type: 'vault_result', ok: true, key_id: keyId }, sealed);
    } catch (err) {
      this.feed({ id: effect.id, type: 'vault_result', ok: false, message: String(err?.message ?? err) }, null);
    }
  }

  async kvWrite(effect, body) {
    const kv = this.env[effect.binding];
    let ok = false;
    let message = '';
    try {
      if (!kv) throw new Error(`no KV binding ${effect.binding}`);
      if (effect.type === 'kv_delete') await kv.delete(effect.key);
      else await kv.put(effect.key, body, effect.expiration_ttl ? { expirationTtl: effect.expiration_ttl } : undefined);
      ok = true;
    } catch (err) {
      message = String(err?.message ?? err);
      console.error(JSON.stringify({ level: 'error', event: 'kv_error', key: effect.key, message }));
    }
    this.feed({ id: effect.id, type: 'kv_done', ok, message }, null);
  }

  async kvList(effect) {
    const kv = this.env[effect.binding];
    let ok = false;
    let listing = null;
    try {
      const page = await kv.list({ prefix: effect.prefix, limit: effect.limit });
      listing = JSON.stringify({ keys: page.keys.map((k) => k.name), complete: page.list_complete });
      ok = true;
    } catch (err) {
      console.error(JSON.stringify({ level: 'error', event: 'kv_error', prefix: effect.prefix, message: String(err) }));
    }
    this.feed({ id: effect.id, type: 'kv_list_result', ok }, listing);
  }

  // The request log's bodies (R2), written past the response. Scrubbed first
  // of every secret this request's fetches carried and every secret of the
  // deployment, as provider answers are: a key a client pasted into its
  // prompt, or a provider echoed, is not kept either.
  blobPut(effect, body) {
    const bucket = this.env[effect.binding];
    if (!bucket) return;
    const scrub = new Redactor([...this.carried, ...(this.host.secretValues ?? [])]);
    const put = bucket.put(effect.key, scrub.whole(body), { httpMetadata: { contentType: 'application/json' } });
    this.holdOpen(put.catch((err) => console.error(JSON.stringify({ level: 'error', event: 'r2_error', key: effect.key, message: String(err?.message ?? err) }))));
  }

  // A read, a page of keys, or a delete of the bodies' bucket.
  async blobCall(effect) {
    const bucket = this.env[effect.binding];
    try {
      if (!bucket) throw new Error(`no R2 binding ${effect.binding}`);
      if (effect.type === 'blob_get') {
        const object = await bucket.get(effect.key);
        const bytes = object ? new Uint8Array(await object.arrayBuffer()) : null;
        this.feed({ id: effect.id, type: 'blob_result', found: bytes !== null }, bytes);
      } else if (effect.type === 'blob_list') {
        const page = await bucket.list({ prefix: effect.prefix, limit: effect.limit });
        const listing = { objects: page.objects.map((o) => ({ key: o.key })), truncated: page.truncated };
        this.feed({ id: effect.id, type: 'blob_list_result', ok: true }, JSON.stringify(listing));
      } else {
        await bucket.delete(effect.keys);
        this.feed({ id: effect.id, type: 'blob_done', ok: true }, null);
      }
    } catch (err) {
      const message = String(err?.message ?? err);
      console.error(JSON.stringify({ level: 'error', event: 'r2_error', op: effect.type, message }));
      if (effect.type === 'blob_get') this.feed({ id: effect.id, type: 'blob_result', found: false, error: message }, null);
      else this.feed({ id: effect.id, type: effect.type === 'blob_list' ? 'blob_list_result' : 'blob_done', ok: false, message }, null);
    }
  }

  // One call to the tenant's ledger Durable Object. Without an id nobody
  // waits for it (settle, release): it runs past the response.
  ledger(effect, body) {
    const call = callLedger(this.env, effect.tenant, body);
    if (effect.id === undefined) {
      this.holdOpen(call.catch(() => {}));
      return;
    }
    call.then(
      (result) => this.feed({ id: effect.id, type: 'ledger_result', ok: true }, result),
      (err) => {
        console.error(JSON.stringify({ level: 'error', event: 'ledger_error', message: String(err?.message ?? err) }));
        this.feed({ id: effect.id, type: 'ledger_result', ok: false, message: 'ledger unavailable' }, null);
      },
    );
  }

  // One SQL statement on a D1 binding. Without an id nobody waits for it
  // (usage counters): it runs past the response.
  d1(effect) {
    const call = runSql(this.env[effect.binding], effect.sql, effect.params);
    if (effect.id === undefined) {
      this.holdOpen(call.catch((err) => logD1Error(err)));
      return;
    }
    call.then(
      (result) => this.feed({ id: effect.id, type: 'd1_result', ok: true }, result),
      (err) => {
        logD1Error(err);
        this.feed({ id: effect.id, type: 'd1_result', ok: false, message: 'database unavailable' }, null);
      },
    );
  }

  // One message to a queue, past the response, packed with those of the next
  // few milliseconds (queue_batcher.js); should the send fail, the core's
  // fallback job (the queue's consumer) runs on the pack instead.
  queueSend(effect, message) {
    const onFailure = { host: this.host, ctx: this.ctx, job: effect.fallback_job };
    this.holdOpen(queueBatcher.send(this.env, effect.binding, decoder.decode(message), onFailure, effect.pack_ms));
  }

  // A host job the core wants run later (a credit lease's report when it
  // stops admitting): a timer in this request's context, kept alive for it.
  schedule(effect) {
    const job = new Promise((resolve) => setTimeout(resolve, effect.delay_ms)).then(() =>
      runJob(this.host, effect.path, this.env, this.ctx),
    );
    this.holdOpen(
      job.catch((err) => console.error(JSON.stringify({ level: 'error', event: 'job_error', path: effect.path, message: String(err?.message ?? err) }))),
    );
  }

  async startFetch(effect, body) {
    const ac = new AbortController();
    this.inflight.set(effect.id, ac);
    if (effect.delay_ms > 0) await sleep(effect.delay_ms, ac.signal);
    if (ac.signal.aborted) return;
    const headers = { ...effect.headers };
    // A URL that is itself a secret (a webhook's token is in its path).
    const url = effect.url_secret ? this.env[effect.url_secret] : effect.url;
    if (typeof url !== 'string' || !url) {
      this.inflight.delete(effect.id);
      this.feed({ id: effect.id, type: 'fetch_error', reason: 'network', message: `${effect.url_secret} is not set` }, null);
      return;
    }
    // Every secret this call carries: whatever the provider sends back is
    // scrubbed of them before the core (and so any client, log or store) sees it.
    const secrets = [];
    if (effect.url_secret) secrets.push(url);
    if (effect.auth) {
      // The only place a provider key is touched: named by the core (or
      // handed over sealed, from the vault), read from the environment or
      // opened here, never passed into the core.
      let key;
      if (effect.auth.sealed) {
        try {
          key = await vault.open(this.env, effect.auth.sealed, effect.auth.context);
        } catch (err) {
          this.inflight.delete(effect.id);
          this.feed({ id: effect.id, type: 'fetch_error', reason: 'credential', message: String(err?.message ?? err) }, null);
          return;
        }
        if (ac.signal.aborted) return;
      } else {
        key = this.env[effect.auth.secret];
      }
      if (typeof key === 'string' && key) {
        secrets.push(key);
        if (effect.auth.style === 'bearer') headers.authorization = `Bearer ${key}`;
        else if (effect.auth.header) headers[effect.auth.header] = key;
      }
    }
    for (const s of secrets) this.carried.add(s);
    const scrub = new Redactor(secrets);
    // Three clocks: the whole call, the response head (first byte) and, in a
    // stream, the longest silence between chunks ("stalled").
    let timedOut = false;
    let stalled = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, effect.timeout_ms);
    let firstByteTimer =
      effect.first_byte_timeout_ms > 0
        ? setTimeout(() => {
            timedOut = true;
            ac.abort();
          }, effect.first_byte_timeout_ms)
        : null;
    let idleTimer = null;
    const armIdle = () => {
      if (idleTimer) clearTimeout(idleTimer);
      if (effect.idle_timeout_ms > 0)
        idleTimer = setTimeout(() => {
          stalled = true;
          ac.abort();
        }, effect.idle_timeout_ms);
    };
    try {
      const res = await fetch(url, {
        method: effect.method,
        headers,
        body: body.length ? body : undefined,
        signal: ac.signal,
      });
      if (firstByteTimer) clearTimeout(firstByteTimer);
      firstByteTimer = null;
      if (this.closed) return;
      const responseHeaders = {};
      for (const [name, value] of res.headers) responseHeaders[name] = scrub.text(value);
      if (!effect.stream || !res.body || !res.ok) {
        // One input for a whole buffered response: head, body and end.
        const bytes = scrub.whole(new Uint8Array(await res.arrayBuffer()));
        this.inflight.delete(effect.id);
        this.feed({ id: effect.id, type: 'fetch_response', status: res.status, headers: responseHeaders }, bytes);
        return;
      }
      this.feed({ id: effect.id, type: 'fetch_head', status: res.status, headers: responseHeaders }, null);
      const reader = res.body.getReader();
      armIdle();
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.closed) break;
        armIdle();
        const safe = scrub.push(value);
        if (safe.length) this.feed({ id: effect.id, type: 'fetch_chunk' }, safe);
      }
      this.inflight.delete(effect.id);
      const rest = scrub.flush();
      if (rest.length && !this.closed) this.feed({ id: effect.id, type: 'fetch_chunk' }, rest);
      this.feed({ id: effect.id, type: 'fetch_end' }, null);
    } catch (err) {
      if (ac.signal.aborted && !timedOut && !stalled) return; // aborted on the core's request
      this.inflight.delete(effect.id);
      const reason = stalled ? 'stalled' : timedOut ? 'timeout' : 'network';
      const message = scrub.text(String(err?.message ?? err));
      this.feed({ id: effect.id, type: 'fetch_error', reason, message }, null);
    } finally {
      // Only the timers that were set: each clearTimeout is a runtime call.
      clearTimeout(timer);
      if (firstByteTimer) clearTimeout(firstByteTimer);
      if (idleTimer) clearTimeout(idleTimer);
    }
  }
}

// A pack the queue refused: the core's fallback job (the queue's consumer)
// writes it, as the queue would have delivered it.
async function queueFallback(env, binding, body, { host, ctx, job }, err) {
  console.error(JSON.stringify({ level: 'error', event: 'queue_error', binding, message: String(err?.message ?? err) }));
  if (!job) return;
  const response = await runJob(host, job, env, ctx, body);
  if (response.status !== 200) {
    console.error(JSON.stringify({ level: 'error', event: 'queue_fallback_failed', binding, job, status: response.status }));
  }
}
const queueBatcher = new QueueBatcher(queueFallback);

// The core's log lines are written in the turn after the one that answered:
// a response the same batch resolved goes out first (under `wrangler dev`
// each console.log is a DevTools message, ~1.5 ms measured). Lines of
// several sessions share one timer; each keeps its request alive until then
// (the promise returned).
const pendingLines = [];
let linesWritten = null;
function deferLog(line) {
  pendingLines.push(line);
  linesWritten ??= new Promise((resolve) =>
    setTimeout(() => {
      linesWritten = null;
      for (const l of pendingLines.splice(0)) console.log(l);
      resolve();
    }, 0),
  );
  return linesWritten;
}

async function callLedger(env, tenant, op) {
  if (!env.LEDGER) throw new Error('no LEDGER Durable Object binding');
  const stub = env.LEDGER.get(env.LEDGER.idFromName(tenant));
  return stub.apply(tenant, new TextDecoder().decode(op));
}

async function runSql(db, sql, params) {
  if (!db) throw new Error('no D1 binding');
  const { results, meta } = await db.prepare(sql).bind(...params).all();
  return JSON.stringify({ rows: results ?? [], changes: meta?.changes ?? 0 });
}

function logD1Error(err) {
  console.error(JSON.stringify({ level: 'error', event: 'd1_error', message: String(err?.message ?? err) }));
}

// What every session's envelope carries from the host: the time and entropy.
function hostInputs() {
  const entropy = new Uint8Array(32);
  crypto.getRandomValues(entropy);
  return { now_ms: Date.now(), entropy: hex(entropy) };
}

// Opens a session and drives it to its end; answers its response. `signal`
// (Request.signal) aborts when the client goes away (workerd under
// miniflare raises it on the first failed write to that client); the core
// is told then, whether or not the response stream is being read.
function drive(host, envelope, bytes, env, ctx, signal) {
  const driver = new SessionDriver(host, 0, env, ctx);
  const sid = driver.guard(() => host.core.open(envelope, bytes));
  if (sid === undefined) return driver.response;
  if (sid <= 0) return errorResponse(503, `The gateway could not open a session (status ${sid}).`, 'gateway_busy');
  driver.sid = sid;
  host.drivers?.set(sid, driver);
  // The session's last writes (settle, the usage row, a job's records) run
  // after its answer and past a client that went away: keep the context alive.
  ctx?.waitUntil?.(driver.finished);
  signal?.addEventListener('abort', () => driver.clientGone(), { once: true });
  driver.pump();
  if (signal?.aborted) driver.clientGone();
  return driver.response;
}

// Runs one of the core's host jobs (the cron trigger, a queue's batch) as an
// internal session; `body` is the job's input, when it has one.
export async function runJob(host, path, env, ctx, body = null) {
  const bytes = body === null ? null : new TextEncoder().encode(body);
  return drive(host, { method: 'POST', path, headers: {}, ...hostInputs(), internal: true }, bytes, env, ctx);
}

// Serves one request through the core. `host` is { core, maxBodyBytes, onTrap }.
export async function serve(host, request, env, ctx) {
  const url = new URL(request.url);
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  const { bytes, truncated, size } = hasBody ? await readBody(request, host.maxBodyBytes) : { bytes: null, truncated: false, size: 0 };
  const envelope = {
    method: request.method,
    path: url.pathname,
    query: url.search,
    headers: Object.fromEntries(request.headers),
    ...hostInputs(),
    body_truncated: truncated,
    body_size: size,
  };
  return drive(host, envelope, bytes, env, ctx, request.signal);
}
