#!/usr/bin/env node
import { existsSync } from 'node:fs';

// In a fresh checkout of the repository the command is linked before anything is built: say so, rather than
// fail with a module-resolution stack trace. An installed package always has dist/.
const entry = new URL('../dist/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('pp-token is not built: run `npx -y pnpm@10 run build` in the pp-embed repository.\n');
  process.exit(2);
}
const { main } = await import(entry.href);

process.exitCode = await main(process.argv.slice(2));
