import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  const ratios: number[] = [];
  const as: number[] = [];
  const bs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const ra = (await rate('a', a, ms)).opsPerSecond;
    const rb = (await rate('b', b, ms)).opsPerSecond;
    as.push(ra);
    bs.push(rb);
    ratios.push(rb / ra);
  }
  return { a: median(as), b: median(bs), ratio: median(ratios) };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** A port that is free on 127.0.0.1 right now, for a server the benchmark starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

const VIZ_SERVER = fileURLToPath(new URL('../apps/viz-server/dist/main.js', import.meta.url));
const GENERATOR = fileURLToPath(new URL('../apps/viz-server/dist/termdb/generate-cli.js', import.meta.url));

/** Where benchmarks keep their generated datasets and configurations between runs. */
export const BENCH_DIR = join(tmpdir(), 'pp-embed-bench');

// Part of a generated dataset's file name: a change to what the generator writes gets a new file, never a
// stale one from an earlier run (2: survival terms).
const GENERATED_VERSION = 2;

/** Runs a command to completion, its output shown. */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', env });
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}`)),
    );
  });
}

/** A generated dataset (seed 1), made by the built generator once and kept between runs. */
export async function benchDataset(samples: number): Promise<string> {
  mkdirSync(BENCH_DIR, { recursive: true });
  const file = join(BENCH_DIR, `bench-v${GENERATED_VERSION}-${samples}.db`);
  if (!existsSync(file)) {
    console.log(`generating ${samples.toLocaleString('en-US')} samples into ${file} ...`);
    await run(process.execPath, [GENERATOR, '--out', file, '--samples', String(samples), '--seed', '1']);
  }
  return file;
}

/**
 * Starts the built visualization server with `config` (written to `dir`) on a free loopback port, as operators run
 * it, and waits for its healthcheck. Its log lines are read as they come (a full pipe would stall the server) and
 * counted by event; nothing they hold is kept, except the lines of the events named in `keep`. `startedMs` is the
 * time from spawning the process to its first healthy answer.
 */
export async function startVizServer(
  dir: string,
  config: unknown,
  keep: readonly string[] = [],
): Promise<{
  child: ChildProcess;
  url: string;
  events: () => Record<string, number>;
  kept: () => Record<string, unknown>[];
  startedMs: number;
}> {
  writeFileSync(join(dir, 'serverconfig.json'), JSON.stringify(config));
  const port = await freePort();
  const spawned = performance.now();
  const child = spawn(
    process.execPath,
    [VIZ_SERVER, '--config', join(dir, 'serverconfig.json'), '--port', String(port)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const counts: Record<string, number> = {};
  const kept: Record<string, unknown>[] = [];
  const count = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    for (const match of text.matchAll(/"event":"([a-z_]+)"/g)) {
      const event = match[1] as string;
      counts[event] = (counts[event] ?? 0) + 1;
    }
    if (keep.length === 0) return;
    for (const line of text.split('\n')) {
      const event = /"event":"([a-z_]+)"/.exec(line)?.[1];
      if (event !== undefined && keep.includes(event)) kept.push(JSON.parse(line) as Record<string, unknown>);
    }
  };
  child.stdout?.on('data', count);
  child.stderr?.on('data', count);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 2000; i++) {
    try {
      if ((await fetch(`${url}/healthcheck`)).ok) {
        const startedMs = performance.now() - spawned;
        return { child, url, events: () => ({ ...counts }), kept: () => [...kept], startedMs };
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  child.kill();
  throw new Error('the visualization server did not start');
}

/** Resident memory of a process, in MB (Linux), or NaN where /proc is not there. */
export function residentMegabytes(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? Number.NaN : Number(kb) / 1024;
  } catch {
    return Number.NaN;
  }
}
