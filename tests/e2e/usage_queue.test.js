// End to end: usage rows through the Cloudflare Queue (miniflare runs it as
// wrangler.toml declares it). Rows reach D1 in batches, once each, through a
// consumer that fails while D1 cannot take them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { providerBindings } from '../support/fake_upstream.js';
import { startStack, stopStack } from '../support/stack.js';

let upstream;
let gw;
let openai;

before(async () => {
  ({ upstream, gw, client: openai } = await startStack((url, up) => providerBindings(up)));
});
after(() => stopStack({ upstream, gw }));

async function rowsFor(conversation, expected, tries = 150) {
  let rows = [];
  for (let i = 0; i < tries; i++) {
    rows = await gw.sql('SELECT request_id FROM gateway_usage_logs WHERE conversation_id = ?', [conversation]);
    if (rows.length >= expected) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return rows;
}

const ask = (conversation) =>
  openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }, { headers: { 'x-aigw-conversation-id': conversation } });

test('40 concurrent requests: 40 rows, written through the queue', async () => {
  const conversation = `queue-${Date.now()}`;
  const answers = await Promise.all(Array.from({ length: 40 }, () => ask(conversation).withResponse()));
  const ids = new Set(answers.map(({ response }) => response.headers.get('x-request-id')));
  const rows = await rowsFor(conversation, 40);
  assert.equal(rows.length, 40);
  assert.deepEqual(new Set(rows.map((r) => r.request_id)), ids);
});

test('while D1 refuses the rows the batches are delivered again; once it takes them, every row arrives once', async () => {
  const conversation = `outage-${Date.now()}`;
  // The table gone: every batch the consumer writes fails, and is retried.
  await gw.sql('ALTER TABLE gateway_usage_logs RENAME TO gateway_usage_logs_away');
  try {
    await Promise.all(Array.from({ length: 20 }, () => ask(conversation)));
    await new Promise((r) => setTimeout(r, 2500)); // two deliveries or so fail
    const kept = await gw.sql('SELECT COUNT(*) AS n FROM gateway_usage_logs_away WHERE conversation_id = ?', [conversation]);
    assert.equal(kept[0].n, 0, 'nothing written while the table was away');
  } finally {
    await gw.sql('ALTER TABLE gateway_usage_logs_away RENAME TO gateway_usage_logs');
  }
  const rows = await rowsFor(conversation, 20);
  assert.equal(rows.length, 20);
  assert.equal(new Set(rows.map((r) => r.request_id)).size, 20, 'each row once');
});
