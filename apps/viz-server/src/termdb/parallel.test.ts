// Opening on two threads, through the built module: the worker thread runs compiled JavaScript, so this runs
// against apps/viz-server/dist (the workspace build, which the README's test command runs first).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { generateDataset } from './generate.js';

const BUILT = fileURLToPath(new URL('../../dist/termdb/dataset.js', import.meta.url));
const built = existsSync(BUILT);
const dir = mkdtempSync(join(tmpdir(), 'pp-parallel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Opens the dataset on one or two threads in a child process and prints what every kind of chart answers.
const SCRIPT = `
const { openDataset } = await import(process.argv[1]);
const [file, parallelLoad] = [process.argv[2], process.argv[3] === 'true'];
const ds = openDataset({ label: 'P', genome: 'hg38', file, parallelLoad });
const alpha = { cohorts: ['ALPHA'], tier: 'granted', rule: null, beneath: [] };
const rule = { threshold: 5, hiddenAs: '<5', rounding: 1, noise: 0, complementary: true, preset: null };
const anonymous = (cohorts) => ({ cohorts, tier: 'anonymous', rule, beneath: [] });
const filter = [{ term: 'agedx', gte: 3, lt: 12 }];
const out = {
  threads: ds.stats().loadThreads,
  charts: ['sex', 'race', 'diaggrp', 'treatment_arm', 'agedx', 'bmi', 'followup_years'].map((t) => ds.barchart(t, alpha, { filter })),
  overlay: ds.barchart('diaggrp', anonymous(null), { term2: 'sex', term0: 'treatment_arm' }),
  summary: ds.summary('bmi', alpha, { term2: 'race', filter }),
  survival: [ds.survival('os', alpha, { term2: 'diaggrp' }), ds.survival('efs', anonymous(['BETA']))],
  samples: ds.samples('bmi', alpha, { page: 2, pageSize: 50 }, filter),
};
ds.close();
process.stdout.write(JSON.stringify(out));
`;

function open(file: string, parallel: boolean): { threads: number } & Record<string, unknown> {
  const text = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', SCRIPT, BUILT, file, String(parallel)],
    {
      encoding: 'utf8',
    },
  );
  return JSON.parse(text) as { threads: number } & Record<string, unknown>;
}

describe.skipIf(!built)(
  built ? 'opening on two threads' : 'opening on two threads (skipped: build apps/viz-server first)',
  () => {
    it('reads half of the file on a worker thread and answers exactly as one thread does', () => {
      const file = join(dir, 'p.db');
      generateDataset({ file, samples: 4000, seed: 13 });
      const one = open(file, false);
      const two = open(file, true);
      expect(one.threads).toBe(1);
      expect(two.threads).toBe(2);
      expect({ ...two, threads: 1 }).toEqual(one);
    });
  },
);
