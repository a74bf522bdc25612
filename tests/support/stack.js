// What most end-to-end files start with: a fake upstream, a gateway whose
// providers point at it, and an openai SDK client on the test tenant's key.
import OpenAI from 'openai';
import { startFakeUpstream } from './fake_upstream.js';
import { startGateway } from './gateway.js';

// `bindings(url, upstream)`: the gateway's bindings, given the upstream's
// base URL (and the upstream, for providerBindings).
export async function startStack(bindings, { clientOptions = {}, ...gatewayOptions } = {}) {
  const upstream = await startFakeUpstream();
  try {
    const gw = await startGateway(bindings(upstream.url, upstream), gatewayOptions);
    const client = new OpenAI({ apiKey: gw.key, baseURL: gw.url + '/v1', maxRetries: 0, ...clientOptions });
    return { upstream, gw, client };
  } catch (err) {
    await upstream.close();
    throw err;
  }
}

export async function stopStack({ upstream, gw }) {
  await gw?.close();
  await upstream?.close();
}
