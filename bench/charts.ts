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
 * Beside each median, the server's CPU time per request (all threads, from /proc: what load from other processes
 * does not inflate). Answers under a rule are kept by the server for the same question: the first answer of each
 * case (its tables worked out) is printed apart, and one case asks a new question of the same tables every round.
 *
 * With PP_CHARTS_BASELINE=<another checkout>/apps/viz-server/dist/main.js, that build serves the same file too, and
 * every request is asked of both in turn (which first alternating by round): before and after in one run.
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
  /** A new question each round (from round 0; the warm-up round is -1), in place of `path`. */
  vary?: (round: number) => string;
}

const DIAGNOSES = ['ALL', 'AML', 'HL', 'NHL', 'CNS', 'WT', 'NB', 'OS', 'EWS', 'RMS', 'RB', 'CML'];

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
    name: 'the same, no token, a new filter each round (tables known, answer new)',
    path: '',
    as: 'none',
    vary: (round) => {
      const at = (round + DIAGNOSES.length) % DIAGNOSES.length;
      const pick = [
        DIAGNOSES[at],
        DIAGNOSES[(at + 1 + Math.floor(round / DIAGNOSES.length)) % DIAGNOSES.length],
      ];
      return q('barchart', {
        term: 'diaggrp',
        term2: 'race',
        term0: 'treatment_arm',
        filter: JSON.stringify([{ term: 'diaggrp', values: [...new Set(pick)] }]),
      });
    },
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

/** A server under test: the build measured, or the baseline beside it. */
interface Served {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
}

export async function benchCharts(): Promise<void> {
  const file = benchDataset(1_000_000);
  console.log('\n# Charts on 1,000,000 samples (built server, loopback, one request at a time)');
  const secret = generateSecret();
  const dir = join(BENCH_DIR, `charts-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  // Served under a name of this run (a link, not a copy), so that the swap at the end leaves the kept file alone.
  const path = join(dir, 'Big.db');
  linkSync(file, path);
  const config = (at: string) => ({
    datasets: [{ label: 'Big', genome: 'hg38', file: at, minSampleSize: 5 }],
    dsCredentials: {
      Big: { termdb: { 'portal.bench:3000': { type: 'jwt', secret, looseIpCheck: true } } },
    },
  });
  const baselineMain = process.env.PP_CHARTS_BASELINE;
  // The baseline's own link, made before either server starts: a new link changes the file's ctime, which a
  // server watching it would take for a new file.
  const baseDir = join(BENCH_DIR, `charts-${process.pid}-baseline`);
  const basePath = join(baseDir, 'Big.db');
  if (baselineMain !== undefined) {
    mkdirSync(baseDir, { recursive: true });
    linkSync(file, basePath);
  }
  const server = await startVizServer(dir, config(path), { keep: ['dataset_ready'] });
  let baseline: Awaited<ReturnType<typeof startVizServer>> | undefined;
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
    const served = async (url = server.url) => {
      const health = (await (await fetch(`${url}/healthcheck`)).json()) as Health;
      return health.checks.datasets[0];
    };
    const checked = performance.now();
    while ((await served())?.version === null) await new Promise((resolve) => setTimeout(resolve, 100));
    console.log(
      `  then the file's hash and integrity check, in a worker thread: ${((performance.now() - checked) / 1000).toFixed(1)} s (requests are measured after it)`,
    );
    const servers: Served[] = [{ name: 'this build', url: server.url, pid: server.child.pid ?? 0 }];
    if (baselineMain !== undefined) {
      baseline = await startVizServer(baseDir, config(basePath), { main: baselineMain });
      while ((await served(baseline.url))?.version === null) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      servers.unshift({ name: 'baseline', url: baseline.url, pid: baseline.child.pid ?? 0 });
      console.log(`  baseline: ${baselineMain}, measured in the same rounds`);
    }
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
    /** One request: its latency, and the CPU time the server spent meanwhile. */
    const request = async (to: Served, c: Case, round = -1): Promise<{ ms: number; cpu: number }> => {
      const headers: Record<string, string> = { origin: ORIGIN };
      const token = tokens[c.as];
      if (token !== undefined) headers['x-ds-access-token'] = token;
      const cpuBefore = cpuMs(to.pid) ?? Number.NaN;
      const start = performance.now();
      const res = await fetch(`${to.url}${c.vary?.(round) ?? c.path}`, { headers });
      await res.arrayBuffer();
      const ms = performance.now() - start;
      if (!res.ok) throw new Error(`${to.name}, ${c.name}: ${res.status}`);
      return { ms, cpu: (cpuMs(to.pid) ?? Number.NaN) - cpuBefore };
    };
    // One warm-up round (for a rule, the first answer works out its tables), then rounds of every case in turn.
    const first = servers.map(() => CASES.map(() => ({ ms: 0, cpu: 0 })));
    for (const [i, c] of CASES.entries()) {
      for (const [s, to] of servers.entries())
        (first[s] as { ms: number; cpu: number }[])[i] = await request(to, c);
    }
    const times = servers.map(() => CASES.map(() => [] as number[]));
    const cpu = servers.map(() => CASES.map(() => 0));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, c] of CASES.entries()) {
        const order = round % 2 === 0 ? servers.entries() : [...servers.entries()].reverse();
        for (const [s, to] of order) {
          const { ms, cpu: spent } = await request(to, c, round);
          (times[s]?.[i] as number[]).push(ms);
          (cpu[s] as number[])[i] = ((cpu[s] as number[])[i] as number) + spent;
        }
      }
    }
    const me = servers.length - 1;
    const baselineMs = median(times[me]?.[0] as number[]);
    for (const [i, c] of CASES.entries()) {
      const ms = median(times[me]?.[i] as number[]);
      console.log(ratio(`${c.name}, median ms`, ms, { atMost: GOAL_MS }));
      const perRequest = (s: number) => (((cpu[s] as number[])[i] as number) / ROUNDS).toFixed(1);
      const firstMs = (s: number) => {
        const one = first[s]?.[i] as { ms: number; cpu: number };
        return `${one.ms.toFixed(0)} ms (CPU ${one.cpu.toFixed(0)} ms)`;
      };
      if (i > 0) console.log(`  ${(ms / baselineMs).toFixed(2)} × the unrestricted barchart`);
      console.log(`  server CPU per request ${perRequest(me)} ms; first answer ${firstMs(me)}`);
      if (servers.length > 1) {
        const before = median(times[0]?.[i] as number[]);
        console.log(
          `  baseline: median ${before.toFixed(1)} ms, server CPU per request ${perRequest(0)} ms, first answer ${firstMs(0)}`,
        );
      }
    }
    console.log(
      `dataset columns in memory${' '.repeat(35)}${String(ready.megabytes)} MB for ${Number(ready.samples).toLocaleString('en-US')} samples`,
    );
    console.log(
      `server resident memory after the run${' '.repeat(24)}${((rssKiB(server.child.pid ?? 0) ?? Number.NaN) / 1024).toFixed(0)} MB`,
    );
    if (baseline !== undefined) {
      console.log(
        `  baseline's${' '.repeat(48)}${((rssKiB(baseline.child.pid ?? 0) ?? Number.NaN) / 1024).toFixed(0)} MB`,
      );
      baseline.child.kill();
      baseline = undefined;
    }

    // A new file (a copy of the same bytes: another inode) renamed over the served one.
    // The same bytes give the same version: the swap shows as a new `since`.
    const before = (await served())?.since;
    copyFileSync(file, `${path}.next`);
    renameSync(`${path}.next`, path);
    const swapStart = performance.now();
    const during: number[] = [];
    while ((await served())?.since === before) {
      during.push((await request(servers[me] as Served, CASES[0] as Case)).ms);
      if (performance.now() - swapStart > 300_000) throw new Error('the new file was not swapped in');
    }
    console.log(
      `file swapped in after ${((performance.now() - swapStart) / 1000).toFixed(1)} s; the unrestricted barchart meanwhile: median ${median(during).toFixed(1)} ms, slowest ${Math.max(...during).toFixed(0)} ms (${during.length} requests; before: median ${baselineMs.toFixed(1)} ms, slowest ${Math.max(...(times[me]?.[0] as number[])).toFixed(0)} ms)`,
    );
  } finally {
    server.child.kill();
    baseline?.child.kill();
    rmSync(dir, { recursive: true, force: true });
    rmSync(baseDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchCharts();
