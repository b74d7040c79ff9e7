/**
 * Throughput of 1 vs 3 visualization server replicas behind HAProxy (the scale-out topology, built apps, one
 * protected barchart token reused as a widget does), measured with wrk in alternating rounds, and a per-request cost
 * model checked against it.
 *
 * The model: each request costs CPU time in the replica (c_viz), in HAProxy (c_lb) and in the load generator
 * (c_gen), read from /proc for each process over each run. A replica is one Node.js thread, so it serves at most
 * 1 / c_viz requests per second; on C cores shared by everything, the total is at most C / (c_viz + c_lb + c_gen).
 * On this 2-core machine: X(1) = min(1 / c_viz, 2 / c) and X(3) = 2 / c with c = c_viz + c_lb + c_gen. With N
 * replicas on N cores of their own (balancer and clients elsewhere): X(N) = N / c_viz, until the balancer's
 * 1 / c_lb per core.
 *
 * Run: pnpm build && node --import tsx/esm --conditions=source bench/replicas.ts
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { HAPROXY, type Replica, startTopology, USER } from '../scale-out/topology.js';
import { median } from './measure.js';

const WRK = ['/usr/bin/wrk', '/usr/local/bin/wrk'].find((path) => existsSync(path));
const SECONDS = Number(process.env.PP_BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.PP_BENCH_ROUNDS ?? 5);
const TICKS = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in these

/** CPU seconds a process has used (user + system), from /proc. */
function cpu(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

interface Run {
  rps: number;
  requests: number;
  /** CPU seconds per request: the replicas, the balancer, the load generator, and the machine in all. */
  cViz: number;
  cLb: number;
  cGen: number;
  cAll: number;
}

/** Busy CPU seconds of the whole machine (every core), from /proc/stat: the kernel's network work included. */
function machineBusy(): number {
  const [, ...fields] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
  const ticks = fields.map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return (ticks.slice(0, 8).reduce((a, b) => a + b, 0) - idle) / TICKS;
}

function wrk(
  url: string,
  headers: Record<string, string>,
): Promise<{ out: string; pid: number | undefined; cpu: () => number }> {
  const args = ['-t2', '-c32', `-d${SECONDS}s`];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  const child = spawn(WRK as string, [...args, url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  let last = 0;
  const timer = setInterval(() => {
    try {
      last = cpu(child.pid);
    } catch {
      // exited
    }
  }, 100);
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      clearInterval(timer);
      if (code !== 0) reject(new Error(`wrk exited with ${code}`));
      else resolve({ out, pid: child.pid, cpu: () => last });
    });
  });
}

async function run(
  balancer: Replica,
  replicas: readonly Replica[],
  headers: Record<string, string>,
): Promise<Run> {
  const before = replicas.map((r) => cpu(r.child.pid));
  const lbBefore = cpu(balancer.child.pid);
  const busyBefore = machineBusy();
  const { out, cpu: genCpu } = await wrk(`${balancer.url}/termdb/barchart?dslabel=PPDemo&term=sex`, headers);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  if (/Non-2xx|Socket errors/.test(out) || !(rps > 0)) throw new Error(`wrk at ${balancer.url}:\n${out}`);
  const cViz = replicas.reduce((sum, r, i) => sum + cpu(r.child.pid) - (before[i] as number), 0) / requests;
  return {
    rps,
    requests,
    cViz,
    cLb: (cpu(balancer.child.pid) - lbBefore) / requests,
    cGen: genCpu() / requests,
    cAll: (machineBusy() - busyBefore) / requests,
  };
}

const us = (seconds: number) => `${(seconds * 1e6).toFixed(0)} µs`;

/**
 * Prints throughput behind the balancer with 1 and 3 replicas, their ratio, the per-request costs and the model's
 * predictions beside the measurements.
 *
 * @example
 * await benchReplicas();
 */
export async function benchReplicas(): Promise<void> {
  console.log(
    '\n# 1 vs 3 visualization replicas behind HAProxy (protected barchart, wrk, alternating rounds)',
  );
  if (HAPROXY === undefined || WRK === undefined) {
    console.log('skipped: needs HAProxy and wrk');
    return;
  }
  const t = await startTopology({ portals: 1, viz: 3 });
  try {
    const token = await (await t.signIn(t.portals[0]!.url, USER)).token();
    const headers = { origin: t.portalOrigin, 'x-ds-access-token': token };
    const one = await t.balancer([t.viz[0]!]);
    const three = await t.balancer(t.viz);
    await run(three, t.viz, headers); // warm-up: JIT, verifier caches, connections
    const ones: Run[] = [];
    const threes: Run[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      ones.push(await run(one, [t.viz[0]!], headers));
      threes.push(await run(three, t.viz, headers));
    }
    const m = (runs: Run[], key: keyof Run) => median(runs.map((r) => r[key]));
    const x1 = m(ones, 'rps');
    const x3 = m(threes, 'rps');
    const ratios = ones.map((o, i) => (threes[i] as Run).rps / o.rps);
    console.log(
      `1 replica:  ${x1.toFixed(0)} req/s   3 replicas: ${x3.toFixed(0)} req/s   ratio ${median(ratios).toFixed(2)}`,
    );
    // Costs measured with one replica predict the three-replica run: a check of the model, not a restatement.
    const cores = 2;
    const cViz = m(ones, 'cViz');
    const cLb = m(ones, 'cLb');
    const cGen = m(ones, 'cGen');
    const cOther = Math.max(0, m(ones, 'cAll') - cViz - cLb - cGen);
    console.log(
      `per request (1-replica runs): replica ${us(cViz)}, HAProxy ${us(cLb)}, wrk ${us(cGen)}, the rest of the machine ${us(cOther)} (kernel network work, the portal and PostgreSQL idling, other users)`,
    );
    const predicted1 = Math.min(1 / cViz, cores / (cViz + cLb + cGen + cOther));
    const predicted3 = cores / (cViz + cLb + cGen + cOther);
    const error = (measured: number, predicted: number) =>
      `${(((measured - predicted) / predicted) * 100).toFixed(0)} %`;
    console.log(
      `model on ${cores} cores: X(1) = min(1/c_viz, ${cores}/c) = ${predicted1.toFixed(0)} req/s, measured ${x1.toFixed(0)} (${error(x1, predicted1)})`,
    );
    console.log(
      `                 X(3) = ${cores}/c = ${predicted3.toFixed(0)} req/s, measured ${x3.toFixed(0)} (${error(x3, predicted3)})`,
    );
    console.log(`replica cost with 3 replicas sharing ${cores} cores: ${us(m(threes, 'cViz'))} per request`);
    console.log(
      'N replicas on N cores of their own (balancer and clients elsewhere): X(N) = min(N / c_viz, cores_lb / c_lb)',
    );
    for (const n of [1, 2, 4, 8, 16]) {
      console.log(
        `  N=${String(n).padStart(2)}: ${(n / cViz).toFixed(0)} req/s from the replicas; one HAProxy core carries ${(1 / cLb).toFixed(0)}`,
      );
    }
  } finally {
    await t.stop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  await benchReplicas();
