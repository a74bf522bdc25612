// Coalesces the queue messages that sessions of this isolate send in the
// same turn of the event loop into one sendBatch per queue binding (up to
// the platform's 100 messages per batch): one producer call for many usage
// rows instead of one each. The messages are the core's text, sent as it
// is; should a batch fail, each message's fallback (the core's bytes) is
// handed to onFailure.
const MAX_BATCH = 100;

export class QueueBatcher {
  constructor(onFailure) {
    this.onFailure = onFailure; // (env, binding, fallbacks, err) => Promise
    this.pending = new Map(); // binding -> { env, messages, fallbacks, done }
  }

  // Resolves once the message is sent (or its fallback ran); the caller keeps
  // its request alive with waitUntil until then.
  send(env, binding, text, fallback) {
    let batch = this.pending.get(binding);
    if (!batch) {
      batch = { env, messages: [], fallbacks: [] };
      batch.done = new Promise((resolve) => (batch.resolve = resolve));
      batch.timer = setTimeout(() => this.flush(binding, batch), 0);
      this.pending.set(binding, batch);
    }
    batch.messages.push({ body: text, contentType: 'text' });
    batch.fallbacks.push(fallback);
    if (batch.messages.length >= MAX_BATCH) {
      clearTimeout(batch.timer);
      this.flush(binding, batch);
    }
    return batch.done;
  }

  flush(binding, batch) {
    if (this.pending.get(binding) === batch) this.pending.delete(binding);
    const queue = batch.env[binding];
    const sent = queue ? queue.sendBatch(batch.messages) : Promise.reject(new Error('no queue binding'));
    batch.resolve(sent.catch((err) => this.onFailure(batch.env, binding, batch.fallbacks, err)));
  }
}
