// The wire-format fixtures on both built modules: Anthropic and Gemini
// answers and streams (each stream split at every byte offset) reach an
// OpenAI client identically to the native layer, priced from the registry;
// OpenAI's Responses stream reaches a Responses client as it came.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MODULES, ROOT, drive, envelope, loadCore } from '../support/modules.js';

const fixture = (name) => readFileSync(ROOT + 'tests/fixtures/' + name, 'utf8');
const SECRETS = ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GEMINI_API_KEY'];
const ask = (model, extra = {}) => JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });

// Concatenated delta contents of an OpenAI SSE body.
function streamedText(body) {
  let text = '';
  for (const event of body.split('\n\n')) {
    if (!event.startsWith('data: {')) continue;
    const chunk = JSON.parse(event.slice(6));
    text += chunk.choices?.[0]?.delta?.content ?? '';
  }
  return text;
}

const CASES = [
  { model: 'claude-sonnet-4-5', file: 'anthropic/stream.sse', text: 'Hello from Claude éè 😀!' },
  { model: 'gemini-2.5-flash', file: 'gemini/stream.sse', text: 'Hello from Gemini éè 😀!' },
];

for (const which of Object.keys(MODULES)) {
  describe(`${which} module: wire formats`, () => {
    test('non-stream answers are translated and priced exactly', () => {
      const { core } = loadCore(which, { secrets: SECRETS });
      const res = drive(core, envelope('POST', '/v1/chat/completions'), ask('claude-sonnet-4-5'), () => ({
        status: 200,
        headers: { 'content-type': 'application/json' },
        chunks: [fixture('anthropic/message.json')],
      }));
      assert.equal(res.status, 200);
      assert.equal(JSON.parse(res.body).choices[0].message.content, 'Hi! My name is Claude.');
      assert.equal(res.headers['x-aigw-cost-usd'], '0.014505');
      assert.equal(res.headers['x-aigw-cost-brl'], '0.078327');
    });

    for (const c of CASES) {
      test(`${c.file} gives the same OpenAI stream at every split point`, () => {
        const { core } = loadCore(which, { secrets: SECRETS });
        const bytes = new TextEncoder().encode(fixture(c.file));
        let reference = null;
        for (let cut = 0; cut <= bytes.length; cut += 1) {
          const res = drive(core, envelope('POST', '/v1/chat/completions'), ask(c.model, { stream: true }), () => ({
            status: 200,
            headers: { 'content-type': 'text/event-stream' },
            chunks: [bytes.slice(0, cut), bytes.slice(cut)],
          }));
          assert.equal(res.status, 200);
          reference ??= res.body;
          assert.equal(res.body, reference, `split at ${cut}`);
        }
        assert.equal(streamedText(reference), c.text);
        assert.ok(reference.endsWith('data: [DONE]\n\n'));
        assert.equal(core.liveSessions(), 0);
      });
    }

    test("a Responses stream from OpenAI's own Responses API goes as it came at every split, priced", () => {
      const { core } = loadCore(which, { secrets: SECRETS });
      const stream = fixture('openai/responses_stream.sse');
      const bytes = new TextEncoder().encode(stream);
      const body = JSON.stringify({ model: 'o4-mini', input: 'Weather in SF?', stream: true, store: false });
      for (let cut = 0; cut <= bytes.length; cut += 5) {
        const res = drive(core, envelope('POST', '/v1/responses'), body, () => ({
          status: 200,
          headers: { 'content-type': 'text/event-stream' },
          chunks: [bytes.slice(0, cut), bytes.slice(cut)],
        }));
        assert.equal(res.status, 200);
        assert.ok(res.body.startsWith(stream), `split at ${cut}`);
        // o4-mini: 56 new input tokens at $1.10/M, 64 cached at $0.275/M, 90 output (64 of them reasoning) at $4.40/M.
        assert.equal(res.body.slice(stream.length), ': x-aigw-cost-usd=0.0004752 x-aigw-cost-brl=0.00256608\n\n', `split at ${cut}`);
      }
      assert.equal(core.liveSessions(), 0);
    });
  });
}
