import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../scripts/free-port.js';

/** Small helpers shared by the benchmarks: rates, ratios, and the built visualization server under test. */

export interface Rate {
  name: string;
  opsPerSecond: number;
}

/** Runs `fn` repeatedly for about `ms` milliseconds (after a short warm-up) and returns operations per second. */
export async function rate(name: string, fn: (i: number) => unknown, ms = 1000): Promise<Rate> {
  for (let i = 0; i < 200; i++) await fn(i);
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let j = 0; j < 100; j++) await fn(count++);
    elapsed = performance.now() - start;
  }
  return { name, opsPerSecond: (count / elapsed) * 1000 };
}

export function formatRate(r: Rate): string {
  return `${r.name.padEnd(44)} ${Math.round(r.opsPerSecond).toLocaleString('en-US').padStart(12)} ops/s`;
}

export function ratio(name: string, value: number, goal: { atLeast?: number; atMost?: number }): string {
  const ok =
    (goal.atLeast === undefined || value >= goal.atLeast) &&
    (goal.atMost === undefined || value <= goal.atMost);
  const target =
    goal.atLeast !== undefined
      ? `goal >= ${goal.atLeast}`
      : goal.atMost !== undefined
        ? `goal <= ${goal.atMost}`
        : '';
  const verdict = target === '' ? '' : ok ? '  met' : '  NOT MET';
  return `${name.padEnd(60)} ${value.toFixed(2).padStart(8)}   ${target}${verdict}`;
}

/**
 * The ratio of two rates measured in alternation (a, b, a, b, …) so that load from other processes on a shared
 * machine hits both alike; returns the median ratio b/a over the rounds.
 */
export async function interleavedRatio(
  a: (i: number) => unknown,
  b: (i: number) => unknown,
  rounds = 7,
  ms = 250,
): Promise<{ a: number; b: number; ratio: number }> {
  const { rates, ratios } = await interleavedRates({ a, b }, rounds, ms);
  return { a: rates.a, b: rates.b, ratio: ratios.b };
}

/**
 * Several rates measured in alternation (each in turn, round after round), so that load from other processes hits
 * them alike: the median rate of each, and the median over the rounds of each one's ratio to the first.
 */
export async function interleavedRates<K extends string>(
  fns: Record<K, (i: number) => unknown>,
  rounds = 7,
  ms = 250,
): Promise<{ rates: Record<K, number>; ratios: Record<K, number> }> {
  const names = Object.keys(fns) as K[];
  const first = names[0] as K;
  const seen = new Map<K, { rates: number[]; ratios: number[] }>(
    names.map((name) => [name, { rates: [], ratios: [] }]),
  );
  for (let r = 0; r < rounds; r++) {
    const round = new Map<K, number>();
    for (const name of names) round.set(name, (await rate(name, fns[name], ms)).opsPerSecond);
    for (const name of names) {
      const mine = seen.get(name) as { rates: number[]; ratios: number[] };
      mine.rates.push(round.get(name) as number);
      mine.ratios.push((round.get(name) as number) / (round.get(first) as number));
    }
  }
  const pick = (which: 'rates' | 'ratios') =>
    Object.fromEntries(names.map((name) => [name, median(seen.get(name)?.[which] ?? [])])) as Record<
      K,
      number
    >;
  return { rates: pick('rates'), ratios: pick('ratios') };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export { freePort } from '../scripts/free-port.js';

const VIZ_SERVER = fileURLToPath(new URL('../apps/viz-server/dist/main.js', import.meta.url));
const GENERATOR = fileURLToPath(new URL('../apps/viz-server/dist/termdb/generate-cli.js', import.meta.url));

/**
 * Writes a generated termdb dataset with the built generator (2000 samples, seed 1 unless told otherwise) to
 * `dir/name` and returns its path.
 */
export function generateDataset(dir: string, name: string, samples = 2000, seed = 1): string {
  const file = join(dir, name);
  execFileSync(
    process.execPath,
    [GENERATOR, '--out', file, '--samples', String(samples), '--seed', String(seed)],
    {
      stdio: 'ignore',
    },
  );
  return file;
}

/** Where benchmarks keep their generated datasets and configurations between runs. */
export const BENCH_DIR = join(tmpdir(), 'pp-embed-bench');

// Part of a generated dataset's file name: a change to what the generator writes gets a new file, never a
// stale one from an earlier run (2: survival terms).
const GENERATED_VERSION = 2;

/** A generated dataset (seed 1) in {@link BENCH_DIR}, made by the built generator once and kept between runs. */
export function benchDataset(samples: number): string {
  mkdirSync(BENCH_DIR, { recursive: true });
  const name = `bench-v${GENERATED_VERSION}-${samples}.db`;
  const file = join(BENCH_DIR, name);
  if (!existsSync(file)) {
    console.log(`generating ${samples.toLocaleString('en-US')} samples into ${file} ...`);
    // Written under another name and renamed: an interrupted run leaves no half-written file under this one.
    const partial = generateDataset(BENCH_DIR, `${name}.${process.pid}.partial`, samples, 1);
    renameSync(partial, file);
  }
  return file;
}

/** The built visualization server, started by {@link startVizServer}. */
export interface VizServer {
  child: ChildProcess;
  url: string;
  port: number;
  /** Log lines written so far, by event. */
  events: () => Record<string, number>;
  /** The log lines of the events named in `keep`, parsed. */
  kept: () => Record<string, unknown>[];
  /** Bytes written so far on stderr (diagnostics) and stdout (the audit trail). */
  logBytes: () => { stderr: number; stdout: number };
  /** From spawning the process to its first healthy answer. */
  startedMs: number;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

/**
 * Starts the built visualization server with `config` (written to `dir`) on a loopback port (a free one unless
 * given), as operators run it, and waits for its healthcheck. Its log lines are read as they come (a full pipe
 * would stall the server) and counted by event; nothing they hold is kept, except the lines of the events named
 * in `keep`. `main` runs another build of the server (an older checkout's, to compare with).
 */
export async function startVizServer(
  dir: string,
  config: unknown,
  options: { port?: number; keep?: readonly string[]; main?: string } = {},
): Promise<VizServer> {
  writeFileSync(join(dir, 'serverconfig.json'), JSON.stringify(config));
  const port = options.port ?? (await freePort());
  const keep = options.keep ?? [];
  const spawned = performance.now();
  const child = spawn(
    process.execPath,
    [options.main ?? VIZ_SERVER, '--config', join(dir, 'serverconfig.json'), '--port', String(port)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const counts: Record<string, number> = {};
  const bytes = { stderr: 0, stdout: 0 };
  const kept: Record<string, unknown>[] = [];
  // A chunk may end inside a line: the tail waits for the next chunk before its line is read.
  const partial = { stderr: '', stdout: '' };
  const count = (stream: 'stderr' | 'stdout') => (chunk: Buffer) => {
    bytes[stream] += chunk.length;
    const lines = (partial[stream] + chunk.toString('utf8')).split('\n');
    partial[stream] = lines.pop() ?? '';
    for (const line of lines) {
      const event = /"event":"([a-z_]+)"/.exec(line)?.[1];
      if (event === undefined) continue;
      counts[event] = (counts[event] ?? 0) + 1;
      if (keep.includes(event)) kept.push(JSON.parse(line) as Record<string, unknown>);
    }
  };
  child.stdout?.on('data', count('stdout'));
  child.stderr?.on('data', count('stderr'));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 2000; i++) {
    try {
      if ((await fetch(`${url}/healthcheck`)).ok) {
        const startedMs = performance.now() - spawned;
        return {
          child,
          url,
          port,
          events: () => ({ ...counts }),
          kept: () => [...kept],
          logBytes: () => ({ ...bytes }),
          startedMs,
          exited,
        };
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  child.kill();
  throw new Error('the visualization server did not start');
}

/** Resident memory of a process, from /proc/<pid>/status, in KiB; undefined once it is gone. */
export function rssKiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

let ticksPerSecond: number | undefined;

/** CPU time a process has used so far, every thread, user and system, from /proc/<pid>/stat, in ms; undefined once it is gone. */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name (which may hold spaces) in parentheses; utime and stime are 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    return ((Number(fields[11]) + Number(fields[12])) / ticksPerSecond) * 1000;
  } catch {
    return undefined;
  }
}
