/**
 * A rolling restart under load: two replicas of the BUILT visualization server behind HAProxy (Debian's haproxy,
 * started and stopped here, on 127.0.0.1), a steady load of aggregated and sample-level requests through it, and
 * each replica in turn sent SIGTERM, waited for, started again and waited for until HAProxy has it back. The goal
 * is zero failed requests: a replica that drains says so at /healthcheck (503) and answers what still reaches it
 * with 503 `server_draining`, which HAProxy retries on the other replica.
 *
 * Each replica also holds a silent TCP connection when it is told to stop, as a port scanner or a hung probe
 * leaves one: the restart must not wait for it.
 *
 * Prints requests, req/s and latency through HAProxy, the statuses clients saw, socket errors, each replica's
 * drain time (SIGTERM to exit; a replica that has not exited after 15 s is killed and the run fails) and the
 * time until HAProxy sent it traffic again.
 *
 * Run: npx -y pnpm@10 run build && node --import tsx/esm --conditions=source bench/rolling-restart.ts
 *      PP_ROLLING_SECONDS (default 30, at least 20) and PP_ROLLING_CONNECTIONS (default 16) tune it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createSigner, generateSecret } from '@pp-embed/dataset-token';
import autocannon from 'autocannon';
import { HAPROXY } from '../scale-out/topology.js';
import { freePort, generateDataset, startVizServer, type VizServer } from './measure.js';

const SECONDS = Math.max(20, Number(process.env.PP_ROLLING_SECONDS ?? 30));
const CONNECTIONS = Number(process.env.PP_ROLLING_CONNECTIONS ?? 16);
const ORIGIN = 'http://portal.rolling:3000';
const DS = 'Rolling';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function haproxyConfig(front: number, stats: number, replicas: readonly number[]): string {
  return `global
  maxconn 4096

defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  # A request that meets a replica going away is sent to the other one: a refused or dropped connection, or
  # a 503 (server_draining) from a replica that drains.
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response response-timeout 503

frontend front
  bind 127.0.0.1:${front}
  default_backend viz

frontend stats
  bind 127.0.0.1:${stats}
  stats enable
  stats uri /stats

backend viz
  balance roundrobin
  # HTTP/1.1 with a Host header: HAProxy's plain 'option httpchk' sends HTTP/1.0 without one, which the server
  # answers 400.
  option httpchk
  http-check send meth GET uri /healthcheck ver HTTP/1.1 hdr Host localhost
  http-check expect status 200
  # A replica that drains refuses connections: two failed checks take it out within a second. The check timeout
  # is longer than the interval, so that a replica busy under load is not taken for a dead one.
  timeout check 2s
  default-server inter 500ms fall 2 rise 2
${replicas.map((port, i) => `  server r${i} 127.0.0.1:${port} check`).join('\n')}
`;
}

/** The replicas HAProxy has UP, from its stats CSV. */
async function upReplicas(stats: number): Promise<Set<string>> {
  const csv = await (await fetch(`http://127.0.0.1:${stats}/stats;csv`)).text();
  const header = (csv.split('\n')[0] ?? '').replace(/^# /, '').split(',');
  const status = header.indexOf('status');
  const up = new Set<string>();
  for (const line of csv.split('\n').slice(1)) {
    const cells = line.split(',');
    if (cells[0] === 'viz' && cells[1] !== 'BACKEND' && cells[status] === 'UP') up.add(cells[1] as string);
  }
  return up;
}

/** HAProxy's stats rows of the replicas, for a message. */
async function backendRows(stats: number): Promise<string> {
  const csv = await (await fetch(`http://127.0.0.1:${stats}/stats;csv`)).text();
  return csv
    .split('\n')
    .filter((line) => line.startsWith('viz,'))
    .join('\n');
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < ms) {
    if (await check().catch(() => false)) return performance.now() - started;
    await sleep(50);
  }
  throw new Error(`not within ${ms} ms`);
}

async function main(): Promise<number> {
  if (HAPROXY === undefined) {
    console.error('haproxy is not installed (Debian: apt-get install haproxy)');
    return 2;
  }
  const dir = join(tmpdir(), `pp-embed-rolling-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const dataset = generateDataset(dir, 'rolling.db');
  const secret = generateSecret();
  writeFileSync(join(dir, 'ds-secret'), secret, { mode: 0o600 });
  const config = {
    datasets: [{ label: DS, genome: 'hg38', file: dataset }],
    dsCredentials: {
      [DS]: {
        termdb: { 'portal.rolling:3000': { type: 'jwt', secret: { file: 'ds-secret' }, looseIpCheck: true } },
      },
    },
  };
  const ports = [await freePort(), await freePort()];
  const replicas: VizServer[] = [];
  for (const port of ports) replicas.push(await startVizServer(dir, config, { port }));
  const front = await freePort();
  const statsPort = await freePort();
  writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig(front, statsPort, ports));
  const haproxy: ChildProcess = spawn(HAPROXY, ['-db', '-f', join(dir, 'haproxy.cfg')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let haproxyErrors = '';
  haproxy.stderr?.on('data', (chunk: Buffer) => (haproxyErrors += chunk.toString()));

  try {
    await waitFor(async () => (await upReplicas(statsPort)).size === 2, 10_000).catch(async () => {
      throw new Error(
        `HAProxy does not see both replicas:\n${await backendRows(statsPort)}\n${haproxyErrors}`,
      );
    });
    const token = createSigner({ algorithm: 'HS256', key: { secret }, ttlSeconds: 3600 }).sign({
      datasets: [DS],
      email: 'rolling@example.org',
    });
    const statuses = new Map<number, number>();
    let finished: (result: autocannon.Result) => void = () => undefined;
    const done = new Promise<autocannon.Result>((resolve) => (finished = resolve));
    const load = autocannon(
      {
        url: `http://127.0.0.1:${front}`,
        connections: CONNECTIONS,
        duration: SECONDS,
        requests: [
          { method: 'GET', path: `/termdb/barchart?dslabel=${DS}&term=sex`, headers: { origin: ORIGIN } },
          {
            method: 'GET',
            path: `/termdb/samples?dslabel=${DS}&term=sex&pageSize=50`,
            headers: { origin: ORIGIN, 'x-ds-access-token': token },
          },
        ],
      },
      (_error, result) => finished(result),
    );
    load.on('response', (_client: unknown, status: number) =>
      statuses.set(status, (statuses.get(status) ?? 0) + 1),
    );

    console.log(
      `# Rolling restart of 2 replicas behind HAProxy under load (${CONNECTIONS} connections, ${SECONDS} s)`,
    );
    const restarts: {
      replica: number;
      drainMs: number;
      exitCode: number | null | 'did not exit';
      backInMs: number;
    }[] = [];
    await sleep(3000);
    for (let i = 0; i < replicas.length; i++) {
      const replica = replicas[i] as VizServer;
      // A client that connected and said nothing (a port scanner, a probe that hung) must not hold the restart.
      const silent = connect(ports[i] as number, '127.0.0.1');
      silent.on('error', () => undefined);
      await new Promise((resolve) => silent.once('connect', resolve));
      const signalled = performance.now();
      replica.child.kill('SIGTERM');
      // Bounded: a server that does not drain is killed, and the run fails.
      const exitCode = await Promise.race([
        replica.exited,
        sleep(15_000).then(() => 'did not exit' as const),
      ]);
      if (exitCode === 'did not exit') {
        replica.child.kill('SIGKILL');
        await replica.exited;
      }
      const drainMs = performance.now() - signalled;
      silent.destroy();
      replicas[i] = await startVizServer(dir, config, { port: ports[i] as number });
      await waitFor(async () => (await upReplicas(statsPort)).has(`r${i}`), 15_000).catch(async () => {
        throw new Error(`r${i} is not back:\n${await backendRows(statsPort)}\n${haproxyErrors}`);
      });
      restarts.push({ replica: i, drainMs, exitCode, backInMs: performance.now() - signalled });
      await sleep(2000);
    }
    const result = await done;

    const failed = [...statuses].filter(([status]) => status !== 200).reduce((n, [, count]) => n + count, 0);
    const errors = result.errors + result.timeouts;
    console.log(
      `\nrequests              ${result.requests.total.toLocaleString('en-US')} in ${result.duration} s`,
    );
    console.log(
      `req/s                 average ${Math.round(result.requests.average).toLocaleString('en-US')}`,
    );
    console.log(
      `latency (ms)          p50 ${result.latency.p50}, p99 ${result.latency.p99}, max ${result.latency.max}`,
    );
    console.log(
      `statuses              ${[...statuses]
        .sort()
        .map(([status, count]) => `${status}×${count}`)
        .join(', ')}`,
    );
    console.log(
      `socket errors         ${result.errors} errors, ${result.timeouts} timeouts, ${result.resets} resets`,
    );
    for (const r of restarts) {
      console.log(
        `replica r${r.replica}            SIGTERM to exit ${Math.round(r.drainMs)} ms (exit ${r.exitCode}), back in HAProxy after ${(r.backInMs / 1000).toFixed(1)} s`,
      );
    }
    const drained = restarts.every((r) => r.exitCode === 0 && r.drainMs < 11_000);
    const ok = failed === 0 && errors === 0 && drained && restarts.length === 2;
    console.log(`\nfailed requests       ${failed + errors} (goal 0)  ${ok ? 'met' : 'NOT MET'}`);
    if (!ok) console.log(`\nhaproxy said:\n${haproxyErrors.trim()}`);
    return ok ? 0 : 1;
  } finally {
    haproxy.kill('SIGTERM');
    for (const replica of replicas) replica.child.kill('SIGTERM');
    await Promise.all(replicas.map((r) => r.exited));
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
