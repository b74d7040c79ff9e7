// Opening on two threads, through the built module: the worker thread runs compiled JavaScript, so this runs
// against apps/viz-server/dist (the workspace build, which the README's test command runs first).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Database from 'better-sqlite3';
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

// Opens the file on this thread, then in the background while a timer counts the turns of the event loop, and
// prints what both answer; or, given a file that cannot serve, the error the background open rejects with.
const BACKGROUND = `
const { openDataset, openDatasetInBackground } = await import(process.argv[1]);
const file = process.argv[2];
const options = { label: 'P', genome: 'hg38', file };
const rule = { threshold: 5, hiddenAs: '<5', rounding: 1, noise: 0, complementary: true, preset: null };
const exact = (cohorts) => ({ cohorts, tier: 'granted', rule: null, beneath: [] });
const charts = (ds) => ({
  bars: ds.barchart('diaggrp', { cohorts: ['ALPHA'], tier: 'anonymous', rule, beneath: [] }, { term2: 'sex', filter: [{ term: 'treatment_arm', values: ['A'] }] }),
  summary: ds.summary('bmi', exact(null), { term2: 'race' }),
  survival: ds.survival('os', exact(['BETA']), { term2: 'diaggrp' }),
  samples: ds.samples('bmi', exact(null), { page: 3, pageSize: 20 }),
});
let out;
let turns = 0;
const timer = setInterval(() => turns++, 1);
try {
  const background = await openDatasetInBackground(options).finally(() => clearInterval(timer));
  const here = openDataset({ ...options, parallelLoad: false });
  out = { turns, same: JSON.stringify(charts(background)) === JSON.stringify(charts(here)), samples: background.stats().samples };
  background.close();
  here.close();
} catch (error) {
  out = { error: error.name, code: error.code, reason: error.reason };
}
process.stdout.write(JSON.stringify(out));
`;

function run(script: string, ...args: string[]): Record<string, unknown> {
  const text = execFileSync(process.execPath, ['--input-type=module', '-e', script, BUILT, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return JSON.parse(text) as Record<string, unknown>;
}

function open(file: string, parallel: boolean): { threads: number } & Record<string, unknown> {
  const text = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', SCRIPT, BUILT, file, String(parallel)],
    { encoding: 'utf8', timeout: 120_000 },
  );
  return JSON.parse(text) as { threads: number } & Record<string, unknown>;
}

describe.skipIf(!built)(
  built ? 'opening on two threads' : 'opening on two threads (skipped: build apps/viz-server first)',
  () => {
    it('reads part of the file on a worker thread and answers exactly as one thread does', () => {
      const file = join(dir, 'p.db');
      generateDataset({ file, samples: 4000, seed: 13 });
      const one = open(file, false);
      const two = open(file, true);
      expect(one.threads).toBe(1);
      expect(two.threads).toBe(2);
      expect({ ...two, threads: 1 }).toEqual(one);
    });

    it('reads a file in the background while the event loop goes on turning, and answers as a foreground open does', () => {
      const file = join(dir, 'background.db');
      generateDataset({ file, samples: 6000, seed: 17 });
      const out = run(BACKGROUND, file);
      expect(out).toMatchObject({ same: true, samples: 6000 });
      // A foreground open would hold the thread from start to end: not one timer would fire.
      expect(out.turns).toBeGreaterThan(0);
    });

    it('rejects with the reason a foreground open gives for a file it cannot read', () => {
      const file = join(dir, 'bad-ids.db');
      generateDataset({ file, samples: 500, seed: 18 });
      const db = new Database(file);
      db.pragma('foreign_keys = OFF');
      // A sample id that is not an integer: the loader's own check, made on the worker thread.
      db.prepare(
        "UPDATE anno_categorical SET sample = 'S-1' WHERE rowid = (SELECT min(rowid) FROM anno_categorical)",
      ).run();
      db.close();
      expect(run(BACKGROUND, file)).toEqual({
        error: 'DatasetInvalidError',
        code: 'dataset_invalid',
        reason: 'a sample id is not an integer',
      });
    });
  },
);
