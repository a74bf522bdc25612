// Packs the queue messages that this isolate's sessions send within the
// core's window (the first message's pack_ms) into one message per queue
// binding: a JSON array of them, which the core's consumer reads as their
// rows. Under load that is one producer call, one stored message and one
// delivery for many usage rows (Queues bill per 64 KB message) instead of
// one each. Every sender keeps its request alive (waitUntil) until the pack
// is sent, so a row outlives the isolate as before; should the send fail,
// the pack's text and the fallback given with its messages (the same for
// one binding) go to onFailure.
const MAX_MESSAGES = 100;
// A message may be 128 KB; UTF-8 takes at most three bytes per UTF-16 unit.
const MAX_UNITS = 40 * 1024;

export class QueueBatcher {
  constructor(onFailure) {
    this.onFailure = onFailure; // (env, binding, body, fallback, err) => Promise
    this.pending = new Map(); // binding -> { env, texts, units, fallback, done, timer }
  }

  // Resolves once the message is sent (or its fallback ran); the caller keeps
  // its request alive with waitUntil until then.
  send(env, binding, text, fallback, windowMs) {
    let pack = this.pending.get(binding);
    if (pack && pack.units + text.length + 1 > MAX_UNITS) {
      this.flush(binding, pack);
      pack = undefined;
    }
    if (!pack) {
      pack = { env, texts: [], units: 2, fallback };
      pack.done = new Promise((resolve) => (pack.resolve = resolve));
      pack.timer = windowMs > 0 ? setTimeout(() => this.flush(binding, pack), windowMs) : null;
      this.pending.set(binding, pack);
    }
    pack.texts.push(text);
    pack.units += text.length + 1;
    if (pack.texts.length >= MAX_MESSAGES || !pack.timer) this.flush(binding, pack);
    return pack.done;
  }

  flush(binding, pack) {
    if (pack.timer) clearTimeout(pack.timer);
    if (this.pending.get(binding) !== pack) return;
    this.pending.delete(binding);
    const queue = pack.env[binding];
    const body = `[${pack.texts.join(',')}]`;
    const sent = queue ? queue.send(body, { contentType: 'text' }) : Promise.reject(new Error('no queue binding'));
    pack.resolve(sent.catch((err) => this.onFailure(pack.env, binding, body, pack.fallback, err)));
  }
}
