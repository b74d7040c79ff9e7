import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSecret } from '@pp-embed/dataset-token';
import { generateDataset } from './termdb/generate.js';

/** The demo configuration shipped with the server (works from src/ and dist/ alike). */
export const DEMO_CONFIG = fileURLToPath(new URL('../demo/serverconfig.json', import.meta.url));

/** Where the demo keeps what it makes: the repository's `.demo/` folder, ignored by git. */
export const DEMO_DIR = fileURLToPath(new URL('../../../.demo/', import.meta.url));

export const DEMO_SAMPLES = 5000;
export const DEMO_SEED = 20_261_123;

/**
 * Makes what the demo configuration points at, when it is missing: the generated PPDemo dataset and a random
 * HS256 secret shared with the demo portal (a file readable only by its owner; never printed).
 *
 * @example
 * ensureDemoAssets(); // then loadConfig(DEMO_CONFIG)
 */
export function ensureDemoAssets(dir: string = DEMO_DIR): { created: string[] } {
  const created: string[] = [];
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const dataset = join(dir, 'PPDemo.db');
  if (!existsSync(dataset)) {
    generateDataset({ file: dataset, samples: DEMO_SAMPLES, seed: DEMO_SEED });
    created.push(dataset);
  }
  const secret = join(dir, 'ds-secret');
  if (!existsSync(secret)) {
    writeFileSync(secret, `${generateSecret()}\n`, { mode: 0o600, flag: 'wx' });
    created.push(secret);
  }
  return { created };
}
