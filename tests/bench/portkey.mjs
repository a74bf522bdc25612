// Portkey's gateway as a peer in scripts/bench: its worker, from a checkout
// of its repository with its npm packages installed (PORTKEY_DIR), bundled by
// the same wrangler and run in miniflare's workerd like the gateway, or under
// `wrangler dev` by wrangler_dev.mjs. Portkey names the provider and its base
// URL in request headers.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Miniflare } from 'miniflare';

const ROOT = new URL('../../', import.meta.url).pathname;
const OFFLINE = { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_HIDE_BANNER: 'true' };

export const portkeyDir = () => {
  const dir = process.env.PORTKEY_DIR;
  return dir && existsSync(dir + '/node_modules') ? dir : null;
};

// The headers that send a chat request through Portkey to `upstream`.
export function portkeyHeaders(upstream) {
  return { 'content-type': 'application/json', authorization: 'Bearer bench', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': upstream.url };
}

// Portkey's worker in miniflare (its wrangler.toml's compatibility settings);
// resolves to { url, close }.
export async function startPortkey(dir) {
  const out = ROOT + 'build/portkey';
  execFileSync(ROOT + 'node_modules/.bin/wrangler', ['deploy', '--dry-run', '--outdir', out], { cwd: dir, env: { ...process.env, ...OFFLINE }, stdio: 'ignore' });
  const mf = new Miniflare({
    modules: true,
    scriptPath: out + '/index.js',
    modulesRoot: out,
    compatibilityDate: '2024-12-05',
    compatibilityFlags: ['nodejs_compat'],
    bindings: { ENVIRONMENT: 'dev' },
    host: '127.0.0.1',
    port: 0,
  });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  return { url, close: () => mf.dispose() };
}
