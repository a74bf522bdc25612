// Bundles the dashboard with esbuild into build/assets/dashboard/ (served by
// Workers static assets at /dashboard/): app.js, app.css, index.html.
// Prints the first-load size (gzip), which must stay under 150 KB.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OUT = ROOT + 'build/assets/dashboard/';
mkdirSync(OUT, { recursive: true });
await build({
  entryPoints: { app: ROOT + 'dashboard/src/main.tsx' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: OUT,
  logLevel: 'warning',
});
copyFileSync(ROOT + 'dashboard/index.html', OUT + 'index.html');
const total = ['index.html', 'app.js', 'app.css'].reduce((n, f) => n + gzipSync(readFileSync(OUT + f), { level: 9 }).length, 0);
console.log(`dashboard: first load ${(total / 1024).toFixed(1)} KB gzip`);
if (total > 150 * 1024) {
  console.error('dashboard: over the 150 KB first-load budget');
  process.exit(1);
}
