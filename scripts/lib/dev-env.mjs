// Writes the env file for `wrangler dev`: every variable and secret the core
// says it reads (asked of the built module, so the list has one source),
// taken from the caller's environment. Prints how many were passed.
import { readFileSync, writeFileSync } from 'node:fs';
import { GatewayCore } from '../../bindings/gw_abi.js';
import { composeConfig } from '../../config/compose.js';

const [, , wasmPath, configDir, outPath] = process.argv;
const readJson = (name) => JSON.parse(readFileSync(`${configDir}/${name}`, 'utf8'));
const core = new GatewayCore(new WebAssembly.Module(readFileSync(wasmPath)));
const names = core.envNames(composeConfig(readJson('gateway.json'), readJson('providers.json'), readJson('models.json')));
const lines = [];
for (const name of [...names.vars, ...names.secrets, ...(names.digests ?? [])]) {
  const value = process.env[name];
  if (value !== undefined && value !== '') lines.push(`${name}=${JSON.stringify(value)}`);
}
writeFileSync(outPath, lines.join('\n') + '\n', { mode: 0o600 });
const secretsSet = names.secrets.filter((n) => process.env[n]);
console.log(`dev: passing ${lines.length} variable(s) from the environment${secretsSet.length ? ` (secrets: ${secretsSet.join(', ')})` : ''}`);
