/**
 * Visualization server throughput and latency, on loopback, with autocannon as the load generator. Runs the built
 * server (apps/viz-server/dist) as a child process, exactly as operators run it.
 *
 * - req/s of /termdb/barchart on a dataset behind a `*` credential (one valid HS256 token reused) divided by the
 *   same route on a dataset without credentials: goal >= 0.90;
 * - the same with a fresh token on every request: goal >= 0.35;
 * - the same ratio on the cheapest route, /termdb/terms, where the access decision is most of the work: goal
 *   >= 0.95;
 * - the median latency of a categorical barchart on a generated 1,000,000-sample dataset: goal <= 100 ms.
 *
 * Run: pnpm build && node --import tsx/esm --conditions=source bench/viz-server.ts
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSigner, generateSecret } from '@pp-embed/dataset-token';
import autocannon from 'autocannon';
import { median, ratio, startVizServer } from './measure.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVER = join(ROOT, 'apps/viz-server/dist/main.js');
const GENERATOR = join(ROOT, 'apps/viz-server/dist/termdb/generate-cli.js');
const WORK = join(tmpdir(), 'pp-embed-bench');
const ORIGIN = 'http://portal.bench:3000';
const SECONDS = Number(process.env.PP_BENCH_SECONDS ?? 6);

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', env });
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}`)),
    );
  });
}

/** A generated dataset, made once and kept between runs (same seed, same file). */
async function dataset(samples: number): Promise<string> {
  mkdirSync(WORK, { recursive: true });
  const file = join(WORK, `bench-${samples}.db`);
  if (!existsSync(file)) {
    console.log(`generating ${samples.toLocaleString('en-US')} samples into ${file} ...`);
    await run(process.execPath, [GENERATOR, '--out', file, '--samples', String(samples), '--seed', '1']);
  }
  return file;
}

/** The built server with `config`, in a folder of this run. */
function startServer(config: unknown): ReturnType<typeof startVizServer> {
  const dir = join(WORK, `config-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return startVizServer(dir, config);
}

async function load(url: string, headers: () => Record<string, string>): Promise<number> {
  const result = await autocannon({
    url,
    connections: 16,
    duration: SECONDS,
    requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, ...headers() } }) }],
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${result.non2xx} non-2xx, ${result.errors} errors at ${url}`);
  return result.requests.average;
}

export async function benchVizServer(): Promise<void> {
  if (!existsSync(SERVER)) throw new Error('build first: pnpm build');
  console.log('\n# Visualization server: protected vs open barchart (autocannon, 16 connections, loopback)');
  const small = await dataset(5000);
  const secret = generateSecret();
  const { url, child } = await startServer({
    datasets: [
      { label: 'Open', genome: 'hg38', file: small },
      { label: 'Guarded', genome: 'hg38', file: small },
    ],
    dsCredentials: { Guarded: { '*': { 'portal.bench:3000': { type: 'jwt', secret, looseIpCheck: true } } } },
  });
  try {
    const signer = createSigner({ algorithm: 'HS256', key: { secret } });
    const reused = signer.sign({ datasets: ['Guarded'], email: 'bench@example.org' });
    const fresh = Array.from({ length: 200_000 }, () =>
      signer.sign({ datasets: ['Guarded'], email: 'bench@example.org' }),
    );
    let next = 0;
    const open = `${url}/termdb/barchart?dslabel=Open&term=sex`;
    const guarded = `${url}/termdb/barchart?dslabel=Guarded&term=sex`;
    const openTerms = `${url}/termdb/terms?dslabel=Open`;
    const guardedTerms = `${url}/termdb/terms?dslabel=Guarded`;
    // Alternate open and protected runs so that load from other processes hits both alike.
    const rounds = {
      open: [] as number[],
      reused: [] as number[],
      fresh: [] as number[],
      openTerms: [] as number[],
      reusedTerms: [] as number[],
    };
    for (let round = 0; round < 3; round++) {
      rounds.open.push(await load(open, () => ({ origin: ORIGIN })));
      rounds.reused.push(await load(guarded, () => ({ origin: ORIGIN, 'x-ds-access-token': reused })));
      rounds.fresh.push(
        await load(guarded, () => ({
          origin: ORIGIN,
          'x-ds-access-token': fresh[next++ % fresh.length] as string,
        })),
      );
      rounds.openTerms.push(await load(openTerms, () => ({ origin: ORIGIN })));
      rounds.reusedTerms.push(
        await load(guardedTerms, () => ({ origin: ORIGIN, 'x-ds-access-token': reused })),
      );
    }
    const o = median(rounds.open);
    console.log(
      `open dataset                                 ${Math.round(o).toLocaleString('en-US').padStart(12)} req/s`,
    );
    console.log(
      `protected, one token reused                  ${Math.round(median(rounds.reused)).toLocaleString('en-US').padStart(12)} req/s`,
    );
    console.log(
      `protected, a fresh token per request         ${Math.round(median(rounds.fresh)).toLocaleString('en-US').padStart(12)} req/s`,
    );
    console.log(ratio('protected (token reused) / open', median(rounds.reused) / o, { atLeast: 0.9 }));
    console.log(ratio('protected (fresh token) / open', median(rounds.fresh) / o, { atLeast: 0.35 }));
    const t = median(rounds.openTerms);
    console.log(
      `terms, open dataset                          ${Math.round(t).toLocaleString('en-US').padStart(12)} req/s`,
    );
    console.log(
      ratio('terms, protected (token reused) / open', median(rounds.reusedTerms) / t, { atLeast: 0.95 }),
    );
  } finally {
    child.kill();
  }

  console.log('\n# Categorical barchart latency on 1,000,000 samples');
  const big = await dataset(1_000_000);
  const server = await startServer({ datasets: [{ label: 'Big', genome: 'hg38', file: big }] });
  try {
    const times: number[] = [];
    for (let i = 0; i < 40; i++) {
      const term = ['sex', 'race', 'diaggrp', 'treatment_arm'][i % 4] as string;
      const start = performance.now();
      const res = await fetch(`${server.url}/termdb/barchart?dslabel=Big&term=${term}`);
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`barchart answered ${res.status}`);
      if (i >= 4) times.push(performance.now() - start);
    }
    console.log(ratio('median barchart latency, ms (1M samples)', median(times), { atMost: 100 }));
  } finally {
    server.child.kill();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchVizServer();
