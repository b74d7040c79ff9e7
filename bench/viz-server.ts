/**
 * Visualization server throughput and latency, on loopback, with autocannon as the load generator. Runs the built
 * server (apps/viz-server/dist) as a child process, exactly as operators run it.
 *
 * - req/s of /termdb/barchart on a dataset behind a `*` credential (one valid HS256 token reused) divided by the
 *   same route on a dataset without credentials: goal >= 0.90;
 * - the same with a fresh token on every request: goal >= 0.35;
 * - the same ratio on the cheapest route, /termdb/terms, where the access decision is most of the work, with the
 *   token header sent to the open dataset too (as a widget does), so that both sides carry the same bytes: goal
 *   >= 0.95; and, for reference, against the open route without the header (the header's transport included);
 * - the median latency of a categorical barchart on a generated 1,000,000-sample dataset: goal <= 100 ms.
 *
 * Run: pnpm build && node --import tsx/esm --conditions=source bench/viz-server.ts
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSigner, generateSecret } from '@pp-embed/dataset-token';
import autocannon from 'autocannon';
import { BENCH_DIR as WORK, benchDataset as dataset, median, ratio, startVizServer } from './measure.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVER = join(ROOT, 'apps/viz-server/dist/main.js');
const ORIGIN = 'http://portal.bench:3000';
const SECONDS = Number(process.env.PP_BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.PP_BENCH_ROUNDS ?? 5);

/** The built server with `config`, in a folder of this run. */
function startServer(config: unknown): ReturnType<typeof startVizServer> {
  const dir = join(WORK, `config-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return startVizServer(dir, config);
}

const WRK = ['/usr/bin/wrk', '/usr/local/bin/wrk'].find((path) => existsSync(path));

/**
 * Requests per second at `url` with `headers` on every request, over 16 connections for SECONDS; with `rotate`,
 * that header takes each of its values in turn, one per request. wrk (Debian's `wrk`) when installed: it costs
 * the client little, so on a 2-core machine the server is what is measured; else autocannon, which is slower than
 * the server on cheap routes, so its ratios understate the server's costs.
 */
async function load(
  url: string,
  headers: Record<string, string>,
  rotate?: { header: string; values: readonly string[] },
): Promise<number> {
  if (WRK !== undefined) {
    const args = ['-t1', '-c16', `-d${SECONDS}s`];
    for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
    if (rotate !== undefined) args.push('-s', rotationScript(rotate.header, rotate.values));
    const out = await capture(WRK, [...args, url]);
    const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1];
    if (/Non-2xx|Socket errors/.test(out) || rps === undefined) throw new Error(`wrk at ${url}:\n${out}`);
    return Number(rps);
  }
  let next = 0;
  const result = await autocannon({
    url,
    connections: 16,
    duration: SECONDS,
    requests: [
      {
        setupRequest: (req) => ({
          ...req,
          headers: {
            ...req.headers,
            ...headers,
            ...(rotate && { [rotate.header]: rotate.values[next++ % rotate.values.length] as string }),
          },
        }),
      },
    ],
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${result.non2xx} non-2xx, ${result.errors} errors at ${url}`);
  return result.requests.average;
}

const scripts = new Map<string, string>();

/** A wrk Lua script that sends `header` with each of `values` in turn (written once per value list). */
function rotationScript(header: string, values: readonly string[]): string {
  const key = `${header}\n${values.length}\n${values[0] ?? ''}`;
  let file = scripts.get(key);
  if (file === undefined) {
    file = join(WORK, `rotate-${process.pid}-${scripts.size}.lua`);
    const list = values.map((v) => JSON.stringify(v)).join(',\n');
    writeFileSync(
      file,
      `local values = {\n${list}\n}\nlocal i = 0\nrequest = function()\n  i = i + 1\n` +
        `  wrk.headers[${JSON.stringify(header)}] = values[(i % #values) + 1]\n  return wrk.format(nil)\nend\n`,
    );
    scripts.set(key, file);
  }
  return file;
}

function capture(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} exited with ${code}`)),
    );
  });
}

/** Median over rounds of b/a, a and b measured back to back in each round, so that drift hits both alike. */
function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, i) => (b[i] as number) / x));
}

export async function benchVizServer(): Promise<void> {
  if (!existsSync(SERVER)) throw new Error('build first: pnpm build');
  console.log('\n# Visualization server: protected vs open (16 connections, loopback)');
  const small = dataset(5000);
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
    // More than the verifier's cache holds (5,000), cycled: every request is a signature check.
    const fresh = Array.from({ length: 20_000 }, () =>
      signer.sign({ datasets: ['Guarded'], email: 'bench@example.org' }),
    );
    const open = `${url}/termdb/barchart?dslabel=Open&term=sex`;
    const guarded = `${url}/termdb/barchart?dslabel=Guarded&term=sex`;
    const openTerms = `${url}/termdb/terms?dslabel=Open`;
    const guardedTerms = `${url}/termdb/terms?dslabel=Guarded`;
    const withToken = { origin: ORIGIN, 'x-ds-access-token': reused };
    console.log(
      `load generator: ${WRK === undefined ? 'autocannon (install wrk for server-bound figures)' : WRK}`,
    );
    // Each round measures every side once, back to back; ratios are paired within a round.
    const r = {
      open: [],
      reused: [],
      fresh: [],
      openTerms: [],
      openTermsToken: [],
      reusedTerms: [],
    } as Record<'open' | 'reused' | 'fresh' | 'openTerms' | 'openTermsToken' | 'reusedTerms', number[]>;
    for (let round = 0; round < ROUNDS; round++) {
      r.open.push(await load(open, { origin: ORIGIN }));
      r.reused.push(await load(guarded, withToken));
      r.fresh.push(await load(guarded, { origin: ORIGIN }, { header: 'x-ds-access-token', values: fresh }));
      r.openTerms.push(await load(openTerms, { origin: ORIGIN }));
      // A widget sends its token on every request, to open datasets too: the same bytes as the protected side.
      r.openTermsToken.push(await load(openTerms, withToken));
      r.reusedTerms.push(await load(guardedTerms, withToken));
    }
    const show = (name: string, values: readonly number[]) =>
      console.log(
        `${name.padEnd(60)} ${Math.round(median(values)).toLocaleString('en-US').padStart(8)} req/s`,
      );
    show('barchart, open dataset', r.open);
    show('barchart, protected, one token reused', r.reused);
    show('barchart, protected, a fresh token per request', r.fresh);
    console.log(
      ratio('barchart, protected (token reused) / open', pairedRatio(r.open, r.reused), { atLeast: 0.9 }),
    );
    console.log(
      ratio('barchart, protected (fresh token) / open', pairedRatio(r.open, r.fresh), { atLeast: 0.35 }),
    );
    show('terms, open dataset', r.openTerms);
    show('terms, open dataset, the token sent all the same', r.openTermsToken);
    show('terms, protected, one token reused', r.reusedTerms);
    console.log(
      ratio(
        'terms, protected (token reused) / open, same request',
        pairedRatio(r.openTermsToken, r.reusedTerms),
        {
          atLeast: 0.95,
        },
      ),
    );
    console.log(
      ratio('terms, protected / open without the token header', pairedRatio(r.openTerms, r.reusedTerms), {}),
    );
  } finally {
    child.kill();
  }

  console.log('\n# Categorical barchart latency on 1,000,000 samples');
  const big = dataset(1_000_000);
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
