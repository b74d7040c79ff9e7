/**
 * Every aggregated answer on 1,000,000 samples, over HTTP from the built server, beside the unrestricted barchart
 * measured in the same run: barcharts restricted to a token's cohort, filtered, with an overlay and a divide-by
 * term, numeric bins; summaries and survival curves split by a term, with and without suppression; term search.
 * Goal: every median <= 30 ms. Also the server's start-up on that dataset (spawn to its first healthy answer, goal
 * <= 2 s, and the CPU time it took on all threads, which load from other processes does not inflate), the time it
 * took to open the dataset, and the memory the dataset's columns take. Last, a new file is renamed over the served
 * one, and the unrestricted barchart is asked for until it is swapped in: its latencies while the new file is
 * checked and read (on worker threads) against its median before.
 *
 * Requests go one at a time, the cases in turn within each round, so load from other processes hits all alike.
 *
 * Run: pnpm build && node --import tsx/esm --conditions=source bench/charts.ts
 */
import { copyFileSync, linkSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createSigner, generateSecret } from '@pp-embed/dataset-token';
import type { Health } from '@pp-embed/viz-api';
import { BENCH_DIR, benchDataset, cpuMs, median, ratio, rssKiB, startVizServer } from './measure.js';

const ORIGIN = 'http://portal.bench:3000';
const ROUNDS = Number(process.env.PP_BENCH_ROUNDS ?? 25);
const GOAL_MS = 30;

const female = JSON.stringify([{ term: 'sex', values: ['2'] }]);
const filter = JSON.stringify([
  { term: 'sex', values: ['2'] },
  { term: 'agedx', gte: 5, lt: 15 },
]);

interface Case {
  name: string;
  path: string;
  /** `all`: a token without cohorts; `cohort`: a token restricted to one cohort; `none`: no token (suppressed). */
  as: 'all' | 'cohort' | 'none';
}

const q = (route: string, params: Record<string, string>) =>
  `/termdb/${route}?${new URLSearchParams({ dslabel: 'Big', ...params })}`;

const CASES: Case[] = [
  { name: 'barchart, unrestricted (the baseline)', path: q('barchart', { term: 'diaggrp' }), as: 'all' },
  { name: 'barchart, one cohort', path: q('barchart', { term: 'diaggrp' }), as: 'cohort' },
  {
    name: 'barchart, one cohort, filtered (2 clauses)',
    path: q('barchart', { term: 'diaggrp', filter }),
    as: 'cohort',
  },
  {
    name: 'barchart, no token (small counts suppressed)',
    path: q('barchart', { term: 'race', filter: female }),
    as: 'none',
  },
  {
    name: 'barchart, overlay, one cohort',
    path: q('barchart', { term: 'diaggrp', term2: 'race' }),
    as: 'cohort',
  },
  {
    name: 'barchart, overlay and divide-by, filtered, no token',
    path: q('barchart', { term: 'diaggrp', term2: 'race', term0: 'treatment_arm', filter: female }),
    as: 'none',
  },
  {
    name: 'barchart of numeric bins, overlay of bins, filtered',
    path: q('barchart', { term: 'bmi', term2: 'agedx', filter }),
    as: 'cohort',
  },
  {
    name: 'summary, split by diagnosis, one cohort',
    path: q('summary', { term: 'bmi', term2: 'diaggrp' }),
    as: 'cohort',
  },
  {
    name: 'summary, split by race, filtered, no token',
    path: q('summary', { term: 'agedx', term2: 'race', filter: female }),
    as: 'none',
  },
  {
    name: 'survival, split by diagnosis, one cohort',
    path: q('survival', { term: 'os', term2: 'diaggrp' }),
    as: 'cohort',
  },
  {
    name: 'survival, split by arm, filtered, no token',
    path: q('survival', { term: 'efs', term2: 'treatment_arm', filter }),
    as: 'none',
  },
  { name: 'term search', path: q('search', { q: 'diagnosis' }), as: 'none' },
];

export async function benchCharts(): Promise<void> {
  const file = benchDataset(1_000_000);
  console.log('\n# Charts on 1,000,000 samples (built server, loopback, one request at a time)');
  const secret = generateSecret();
  const dir = join(BENCH_DIR, `charts-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  // Served under a name of this run (a link, not a copy), so that the swap at the end leaves the kept file alone.
  const path = join(dir, 'Big.db');
  linkSync(file, path);
  const server = await startVizServer(
    dir,
    {
      datasets: [{ label: 'Big', genome: 'hg38', file: path, minSampleSize: 5 }],
      dsCredentials: {
        Big: { termdb: { 'portal.bench:3000': { type: 'jwt', secret, looseIpCheck: true } } },
      },
    },
    { keep: ['dataset_ready'] },
  );
  try {
    const startCpu = cpuMs(server.child.pid ?? 0) ?? Number.NaN;
    const ready = server.kept()[0] ?? {};
    console.log(ratio('server start-up to its first healthy answer, ms', server.startedMs, { atMost: 2000 }));
    console.log(`  CPU time of the process by then, all threads: ${startCpu.toFixed(0)} ms`);
    console.log(
      `  of which opening the dataset (read every term into columns): ${String(ready.openMilliseconds)} ms, ${String(ready.loadThreads)} thread(s)`,
    );
    // The server hashes and checks the file in a worker thread once it listens (the registry's start check); on
    // two cores that thread competes with requests, so they are measured once it is done.
    const served = async () => {
      const health = (await (await fetch(`${server.url}/healthcheck`)).json()) as Health;
      return health.checks.datasets[0];
    };
    const checked = performance.now();
    while ((await served())?.version === null) await new Promise((resolve) => setTimeout(resolve, 100));
    console.log(
      `  then the file's hash and integrity check, in a worker thread: ${((performance.now() - checked) / 1000).toFixed(1)} s (requests are measured after it)`,
    );
    const signer = createSigner({ algorithm: 'HS256', key: { secret } });
    const tokens = {
      all: signer.sign({ datasets: ['Big'], email: 'bench@example.org' }),
      cohort: signer.sign({
        datasets: ['Big'],
        email: 'bench@example.org',
        clientAuthResult: { cohorts: ['ALPHA'] },
      }),
      none: undefined,
    };
    const request = async (c: Case): Promise<number> => {
      const headers: Record<string, string> = { origin: ORIGIN };
      const token = tokens[c.as];
      if (token !== undefined) headers['x-ds-access-token'] = token;
      const start = performance.now();
      const res = await fetch(`${server.url}${c.path}`, { headers });
      await res.arrayBuffer();
      const ms = performance.now() - start;
      if (!res.ok) throw new Error(`${c.name}: ${res.status}`);
      return ms;
    };
    // One warm-up round, then rounds of every case in turn.
    for (const c of CASES) await request(c);
    const times = CASES.map(() => [] as number[]);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, c] of CASES.entries()) (times[i] as number[]).push(await request(c));
    }
    const baseline = median(times[0] as number[]);
    for (const [i, c] of CASES.entries()) {
      const ms = median(times[i] as number[]);
      console.log(ratio(`${c.name}, median ms`, ms, { atMost: GOAL_MS }));
      if (i > 0) console.log(`  ${(ms / baseline).toFixed(2)} × the unrestricted barchart`);
    }
    console.log(
      `dataset columns in memory${' '.repeat(35)}${String(ready.megabytes)} MB for ${Number(ready.samples).toLocaleString('en-US')} samples`,
    );
    console.log(
      `server resident memory after the run${' '.repeat(24)}${((rssKiB(server.child.pid ?? 0) ?? Number.NaN) / 1024).toFixed(0)} MB`,
    );

    // A new file (a copy of the same bytes: another inode) renamed over the served one.
    // The same bytes give the same version: the swap shows as a new `since`.
    const before = (await served())?.since;
    copyFileSync(file, `${path}.next`);
    renameSync(`${path}.next`, path);
    const swapStart = performance.now();
    const during: number[] = [];
    while ((await served())?.since === before) {
      during.push(await request(CASES[0] as Case));
      if (performance.now() - swapStart > 300_000) throw new Error('the new file was not swapped in');
    }
    console.log(
      `file swapped in after ${((performance.now() - swapStart) / 1000).toFixed(1)} s; the unrestricted barchart meanwhile: median ${median(during).toFixed(1)} ms, slowest ${Math.max(...during).toFixed(0)} ms (${during.length} requests; before: median ${baseline.toFixed(1)} ms, slowest ${Math.max(...(times[0] as number[])).toFixed(0)} ms)`,
    );
  } finally {
    server.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchCharts();
