// The official SDKs in a real browser, from a page on another origin, with no
// request interception: CORS preflights must allow what the SDKs send
// (x-stainless-*, anthropic-version, anthropic-dangerous-direct-browser-access)
// and responses must expose the gateway's headers to the page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { launchChromium } from '../support/browser.js';
import { startFakeUpstream } from '../support/fake_upstream.js';
import { startGateway } from '../support/gateway.js';

let upstream;
let gw;
let site;
let browser;
let page;
const consoleErrors = [];

before(async () => {
  upstream = await startFakeUpstream();
  gw = await startGateway({
    OPENAI_API_KEY: 'sk-openai-e2e', OPENAI_BASE_URL: upstream.url,
    ANTHROPIC_API_KEY: 'sk-ant-e2e', ANTHROPIC_BASE_URL: upstream.url,
  });
  const bundle = await esbuild.build({
    entryPoints: [fileURLToPath(new URL('./pages/sdk_clients.js', import.meta.url))],
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent',
  });
  const script = bundle.outputFiles[0].text;
  // The page's own origin: localhost on another port (the gateway is 127.0.0.1).
  site = http.createServer((req, res) => {
    if (req.url === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      return res.end(script);
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>app</title><script type="module" src="/app.js"></script>');
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  browser = await launchChromium();
  page = browser.page;
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  await page.goto(`http://localhost:${site.address().port}/`);
  await page.waitForFunction(() => typeof window.runOpenAI === 'function' && typeof window.runAnthropic === 'function');
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (site ? site.close(r) : r()));
  await gw?.close();
  await upstream?.close();
});

test('openai SDK from another origin: chat, stream, embeddings, errors and the gateway headers', async () => {
  // The embeddings upstream answers floats whatever it was asked (as vLLM does).
  await upstream.script([{}, {}, { floats: true }]);
  const out = await page.evaluate(([url, key]) => window.runOpenAI(url, key), [gw.url + '/v1', gw.key]);
  assert.equal(out.content, 'echo: from a browser');
  assert.ok(out.streamed.length > 0);
  assert.ok(out.vector.length > 0, 'the SDK decoded the base64 embedding');
  assert.match(out.headers['x-request-id'], /^aigw_/);
  assert.equal(out.headers['x-aigw-provider'], 'openai');
  assert.ok(out.headers['x-aigw-cost-usd'] !== null);
  assert.ok(out.headers['x-ratelimit-remaining-requests'] !== null, 'x-ratelimit-* are exposed');
  assert.ok(out.headers['server-timing'] !== null);
  assert.equal(out.refused.status, 401);
  assert.equal(out.refused.code, 'invalid_api_key');
  assert.match(out.refused.requestId ?? '', /^aigw_/);
});

test('anthropic SDK from another origin: messages, request-id and an Anthropic-shaped 401', async () => {
  const out = await page.evaluate(([url, key]) => window.runAnthropic(url, key), [gw.url, gw.key]);
  assert.equal(out.type, 'message');
  assert.ok(out.text.length > 0);
  assert.match(out.requestId ?? '', /^aigw_/);
  assert.equal(out.headers['x-aigw-provider'], 'anthropic');
  assert.equal(out.refused.status, 401);
  assert.equal(out.refused.type, 'authentication_error');
  assert.match(out.refused.requestId ?? '', /^aigw_/);
  assert.deepEqual(consoleErrors.filter((e) => /CORS|Access-Control/i.test(e)), []);
});
