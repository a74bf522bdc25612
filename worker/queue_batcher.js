// Coalesces the queue messages that sessions of this isolate send in the
// same turn of the event loop into one sendBatch per queue binding (up to
// the platform's 100 messages per batch): one producer call for many usage
// rows instead of one each. The order and content of messages are the
// core's; should a batch fail, each of its messages' fallback statements runs.
const MAX_BATCH = 100;

export class QueueBatcher {
  constructor(onFailure) {
    this.onFailure = onFailure; // (env, effects, err) => Promise
    this.pending = new Map(); // binding -> { env, effects, done }
  }

  // Resolves once the message is sent (or its fallback ran); the caller keeps
  // its request alive with waitUntil until then.
  send(env, effect) {
    let batch = this.pending.get(effect.binding);
    if (!batch) {
      batch = { env, effects: [] };
      batch.done = new Promise((resolve) => (batch.resolve = resolve));
      batch.timer = setTimeout(() => this.flush(effect.binding, batch), 0);
      this.pending.set(effect.binding, batch);
    }
    batch.effects.push(effect);
    if (batch.effects.length >= MAX_BATCH) {
      clearTimeout(batch.timer);
      this.flush(effect.binding, batch);
    }
    return batch.done;
  }

  flush(binding, batch) {
    if (this.pending.get(binding) === batch) this.pending.delete(binding);
    const queue = batch.env[binding];
    const messages = batch.effects.map((e) => ({ body: JSON.stringify(e.message), contentType: 'text' }));
    const sent = queue ? queue.sendBatch(messages) : Promise.reject(new Error('no queue binding'));
    batch.resolve(sent.catch((err) => this.onFailure(batch.env, batch.effects, err)));
  }
}
