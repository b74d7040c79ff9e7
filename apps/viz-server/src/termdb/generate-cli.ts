import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { generateDataset, MAX_GENERATED_SAMPLES } from './generate.js';

const USAGE = `Usage: node dist/termdb/generate-cli.js --out FILE [--samples N] [--seed S] [--force]

Writes a demo ProteinPaint termdb SQLite file, the same for the same seed.

  --out FILE      the file to write (required)
  --samples N     number of samples, 1 to ${MAX_GENERATED_SAMPLES} (default 10000)
  --seed S        integer seed (default 1)
  --force         replace FILE if it exists
  -h, --help      show this help
`;

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

function integer(raw: string | undefined, fallback: number): number | null {
  if (raw === undefined) return fallback;
  return /^-?\d+$/.test(raw) && Number.isSafeInteger(Number(raw)) ? Number(raw) : null;
}

/**
 * Runs the generator CLI on `argv` (arguments after the script name) and returns the exit code.
 *
 * @example
 * const code = runGenerateCli(['--out', 'demo.db', '--samples', '1000000', '--seed', '7']);
 */
export function runGenerateCli(
  argv: readonly string[],
  io: CliIo = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) },
): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        out: { type: 'string' },
        samples: { type: 'string' },
        seed: { type: 'string' },
        force: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    io.err(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (values.out === undefined || values.out === '') {
    io.err(`--out is required.\n\n${USAGE}`);
    return 2;
  }
  const samples = integer(values.samples, 10_000);
  if (samples === null || samples < 1 || samples > MAX_GENERATED_SAMPLES) {
    io.err(`--samples must be an integer from 1 to ${MAX_GENERATED_SAMPLES}.`);
    return 2;
  }
  const seed = integer(values.seed, 1);
  if (seed === null) {
    io.err('--seed must be an integer.');
    return 2;
  }

  if (existsSync(values.out) && !values.force) {
    io.err(`${values.out} already exists; pass --force to replace it.`);
    return 1;
  }

  try {
    const s = generateDataset({ file: values.out, samples, seed, overwrite: values.force });
    io.out(`Wrote ${s.file}: ${s.samples} samples, ${s.rows} rows, seed ${s.seed}, in ${s.milliseconds} ms.`);
    return 0;
  } catch (e) {
    io.err(`Could not write ${values.out}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) process.exitCode = runGenerateCli(process.argv.slice(2));
