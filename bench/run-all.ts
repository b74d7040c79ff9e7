/**
 * Runs every benchmark, one process each, in sequence, after checking the workspace is built. Each prints its
 * figures beside the floor it is measured against, from the same run.
 * Run: npx -y pnpm@10 run build && npx -y pnpm@10 bench
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const benches = [
  'token.ts',
  'password.ts',
  'viz-server.ts',
  'termdb-engine.ts',
  'charts.ts',
  'portal-mint.ts',
  'exchange.ts',
  'export.ts',
  'viewer-bundle.ts',
  'load-mixed.ts',
  'rolling-restart.ts',
  'jwks-flood.ts',
  'revocation.ts',
  'registry.ts',
  'replicas.ts',
  'fuzz.ts',
];

if (!existsSync(fileURLToPath(new URL('../apps/viz-server/dist/main.js', import.meta.url)))) {
  console.error('Build first: npx -y pnpm@10 run build');
  process.exit(1);
}
let failed = 0;
for (const bench of benches) {
  if (!existsSync(`${here}${bench}`)) continue;
  console.log(`\n==> ${bench}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx/esm', '--conditions=source', bench], {
    cwd: here,
    stdio: 'inherit',
  });
  if (result.status !== 0) failed++;
}
process.exitCode = failed === 0 ? 0 : 1;
