/**
 * The visualization server at its maximum throughput under a mix of valid and hostile requests: valid tokens
 * (one reused, and a fresh one per request so that every signature is checked), forged and expired tokens,
 * `alg: none`, junk and oversized token headers, two token headers, tokens in the URL, unknown origins, bad
 * parameters and CORS preflights. Loopback only; the BUILT server runs as a child process.
 *
 * Prints req/s, latency percentiles, the error count (5xx and socket errors must be 0), answers that differ from
 * what each request should get, and the server's resident memory sampled from /proc/<pid>/status every second:
 * start, peak, end, and the growth over the second half of the run (flat means a bounded cache, no leak).
 *
 * Run: npx -y pnpm@10 run build && node --import tsx/esm --conditions=source bench/load-mixed.ts
 *      PP_LOAD_SECONDS (default 40, at most 45) and PP_LOAD_CONNECTIONS (default 32) tune it.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSigner, generateSecret } from '@pp-embed/dataset-token';
import autocannon from 'autocannon';
import { generateDataset, rssKiB, startVizServer } from './measure.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVER = join(ROOT, 'apps/viz-server/dist/main.js');
const SECONDS = Math.min(45, Math.max(5, Number(process.env.PP_LOAD_SECONDS ?? 40)));
const CONNECTIONS = Number(process.env.PP_LOAD_CONNECTIONS ?? 32);
const WARMUP_SECONDS = 3;
const ORIGIN = 'http://portal.load:3000';
const DS = 'Guarded';
const OPEN_DS = 'Aggregates';

interface Scenario {
  name: string;
  method: 'GET' | 'OPTIONS';
  path: () => string;
  headers: () => Record<string, string>;
  /** The status this request must get; anything else is counted as unexpected. */
  expect: number;
  /** Relative frequency in the mix. */
  weight: number;
}

const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
const b64u = (s: string | Buffer) => Buffer.from(s).toString('base64url');

function hs256(header: object, payload: object, secret: string): string {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

async function main(): Promise<number> {
  if (!existsSync(SERVER)) {
    console.error('build first: npx -y pnpm@10 run build');
    return 2;
  }
  const dir = join(tmpdir(), `pp-embed-load-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const dataset = generateDataset(dir, 'load.db');

  const secret = generateSecret();
  writeFileSync(join(dir, 'ds-secret'), secret, { mode: 0o600 });
  const entry = { type: 'jwt', secret: { file: 'ds-secret' }, looseIpCheck: true };
  const {
    child,
    url,
    events: logLines,
    logBytes,
  } = await startVizServer(dir, {
    datasets: [
      { label: DS, genome: 'hg38', file: dataset, minSampleSize: 5 },
      { label: OPEN_DS, genome: 'hg38', file: dataset, minSampleSize: 5 },
    ],
    dsCredentials: {
      [DS]: { '*': { 'portal.load:3000': entry } },
      [OPEN_DS]: { termdb: { 'portal.load:3000': entry } },
    },
  });
  const pid = child.pid as number;

  try {
    const signer = createSigner({ algorithm: 'HS256', key: { secret }, ttlSeconds: 3600 });
    const reused = signer.sign({ datasets: [DS, OPEN_DS], email: 'load@example.org' });
    // More fresh tokens than the verifier caches (5000), so that the cache churns the way it does under attack.
    const fresh = Array.from({ length: 20_000 }, () =>
      signer.sign({ datasets: [DS], email: 'load@example.org' }),
    );
    let nextFresh = 0;
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      datasets: [DS],
      email: 'load@example.org',
      iat: now - 600,
      exp: now - 300,
      jti: randomUUID(),
    };
    const expired = hs256({ alg: 'HS256', typ: 'JWT' }, claims, secret);
    const forged = hs256({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: now + 3600 }, generateSecret());
    const none = `${b64u('{"alg":"none"}')}.${b64u(JSON.stringify({ ...claims, exp: now + 3600 }))}.`;
    const oversized = `${reused.split('.')[0]}.${'A'.repeat(9000)}.${reused.split('.')[2]}`;
    const token = (t: string) => ({ origin: ORIGIN, 'x-ds-access-token': t });
    const barchart = `/termdb/barchart?dslabel=${DS}&term=race`;
    const samples = `/termdb/samples?dslabel=${DS}&term=sex&pageSize=100`;

    const scenarios: Scenario[] = [
      {
        name: 'valid token, reused',
        method: 'GET',
        path: () => barchart,
        headers: () => token(reused),
        expect: 200,
        weight: 4,
      },
      {
        name: 'valid token, fresh',
        method: 'GET',
        path: () => barchart,
        headers: () => token(fresh[nextFresh++ % fresh.length] as string),
        expect: 200,
        weight: 3,
      },
      {
        name: 'valid token, sample rows',
        method: 'GET',
        path: () => samples,
        headers: () => token(reused),
        expect: 200,
        weight: 2,
      },
      {
        name: 'open aggregate, no token',
        method: 'GET',
        path: () => `/termdb/barchart?dslabel=${OPEN_DS}&term=sex`,
        headers: () => ({ origin: ORIGIN }),
        expect: 200,
        weight: 1,
      },
      {
        name: 'forged signature',
        method: 'GET',
        path: () => barchart,
        headers: () => token(forged),
        expect: 401,
        weight: 2,
      },
      {
        name: 'expired',
        method: 'GET',
        path: () => barchart,
        headers: () => token(expired),
        expect: 401,
        weight: 1,
      },
      {
        name: 'alg none',
        method: 'GET',
        path: () => barchart,
        headers: () => token(none),
        expect: 401,
        weight: 1,
      },
      {
        name: 'junk token header',
        method: 'GET',
        path: () => barchart,
        headers: () => token(`junk-${randomUUID()}`),
        expect: 401,
        weight: 1,
      },
      {
        name: 'oversized token (9 kB)',
        method: 'GET',
        path: () => barchart,
        headers: () => token(oversized),
        expect: 401,
        weight: 1,
      },
      {
        name: 'two token headers',
        method: 'GET',
        path: () => barchart,
        headers: () => token(`${reused}, ${reused}`),
        expect: 400,
        weight: 1,
      },
      {
        name: 'token in the URL',
        method: 'GET',
        path: () => `${barchart}&access_token=${reused}`,
        headers: () => ({ origin: ORIGIN }),
        expect: 400,
        weight: 1,
      },
      {
        name: 'no token',
        method: 'GET',
        path: () => barchart,
        headers: () => ({ origin: ORIGIN }),
        expect: 401,
        weight: 1,
      },
      {
        name: 'unknown origin',
        method: 'GET',
        path: () => barchart,
        headers: () => ({ origin: 'http://evil.load', 'x-ds-access-token': reused }),
        expect: 403,
        weight: 1,
      },
      {
        name: 'bad parameters',
        method: 'GET',
        path: () => `/termdb/samples?dslabel=${DS}&term=sex&pageSize=99999`,
        headers: () => token(reused),
        expect: 400,
        weight: 1,
      },
      {
        name: 'unknown term (SQL-looking)',
        method: 'GET',
        path: () => `/termdb/barchart?dslabel=${DS}&term=${encodeURIComponent("x' OR 1=1 --")}`,
        headers: () => token(reused),
        expect: 404,
        weight: 1,
      },
      {
        name: 'CORS preflight',
        method: 'OPTIONS',
        path: () => barchart,
        headers: () => ({
          origin: ORIGIN,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'x-ds-access-token',
        }),
        expect: 204,
        weight: 1,
      },
    ];
    const deck = scenarios.flatMap((s) => Array.from({ length: s.weight }, () => s));
    const stats = new Map(
      scenarios.map((s) => [s.name, { sent: 0, unexpected: 0, statuses: new Map<number, number>() }]),
    );
    let dealt = 0;

    const run = (seconds: number, only?: Scenario) =>
      autocannon({
        url,
        connections: CONNECTIONS,
        duration: seconds,
        requests: [
          {
            setupRequest: (req, context) => {
              const scenario = only ?? (deck[dealt++ % deck.length] as Scenario);
              (context as { scenario?: Scenario }).scenario = scenario;
              return { ...req, method: scenario.method, path: scenario.path(), headers: scenario.headers() };
            },
            onResponse: (status, _body, context) => {
              const scenario = (context as { scenario?: Scenario }).scenario;
              if (scenario === undefined) return;
              const s = stats.get(scenario.name);
              if (s === undefined) return;
              s.sent++;
              s.statuses.set(status, (s.statuses.get(status) ?? 0) + 1);
              if (status !== scenario.expect) s.unexpected++;
            },
          },
        ],
      });

    console.log(
      `# Mixed valid and hostile load on the visualization server (loopback, ${CONNECTIONS} connections)`,
    );
    console.log(`server pid ${pid}, RSS idle ${mib(rssKiB(pid) ?? 0)}`);
    // Warm-up: first fill the verifier's cache of 5000 tokens with fresh ones, so that what the measurement sees
    // is the steady state (a full cache churning), then the mix.
    const freshScenario = scenarios.find((s) => s.name === 'valid token, fresh') as Scenario;
    while (nextFresh < 6000) await run(1, freshScenario);
    await run(WARMUP_SECONDS);
    console.log(
      `warmed up: ${nextFresh} fresh tokens verified, then ${WARMUP_SECONDS} s of the mix; RSS ${mib(rssKiB(pid) ?? 0)}`,
    );
    for (const s of stats.values()) {
      s.sent = 0;
      s.unexpected = 0;
      s.statuses.clear();
    }

    const samplesKiB: number[] = [];
    const sample = () => {
      const kib = rssKiB(pid);
      if (kib !== undefined) samplesKiB.push(kib);
    };
    sample();
    const timer = setInterval(sample, 1000);
    const bytesBefore = logBytes();
    const result = await run(SECONDS);
    clearInterval(timer);
    sample();
    const bytesAfter = logBytes();
    const perMinute = (stream: 'stderr' | 'stdout') =>
      ((bytesAfter[stream] - bytesBefore[stream]) / result.duration) * 60;

    const alive = child.exitCode === null && child.signalCode === null;
    const health = alive ? (await fetch(`${url}/healthcheck`)).status : 0;
    const errors = result.errors + result.timeouts;
    const fiveXx = result['5xx'];
    let unexpected = 0;

    console.log(`\nduration ${result.duration} s, ${result.requests.total.toLocaleString('en-US')} requests`);
    console.log(
      `req/s                 average ${Math.round(result.requests.average).toLocaleString('en-US')}, p50 ${result.requests.p50.toLocaleString('en-US')}, min ${result.requests.min.toLocaleString('en-US')}`,
    );
    console.log(
      `latency (ms)          p50 ${result.latency.p50}, p90 ${result.latency.p90}, p99 ${result.latency.p99}, max ${result.latency.max}`,
    );
    console.log(`status classes        2xx ${result['2xx']}, 4xx ${result['4xx']}, 5xx ${fiveXx}`);
    console.log(
      `socket errors         ${result.errors} errors, ${result.timeouts} timeouts, ${result.resets} resets`,
    );
    console.log('\nscenario                         sent   statuses              unexpected');
    for (const scenario of scenarios) {
      const s = stats.get(scenario.name);
      if (s === undefined) continue;
      unexpected += s.unexpected;
      const statuses = [...s.statuses].map(([code, n]) => `${code}×${n}`).join(' ');
      console.log(
        `${scenario.name.padEnd(30)} ${String(s.sent).padStart(7)}   ${statuses.padEnd(20)}  ${s.unexpected}`,
      );
    }

    const start = samplesKiB[0] ?? 0;
    const end = samplesKiB[samplesKiB.length - 1] ?? 0;
    const peak = Math.max(...samplesKiB);
    const mid = samplesKiB[Math.floor(samplesKiB.length / 2)] ?? start;
    const growth = end - mid;
    // Flat: the second half grows by less than 10% of the mid-run size (heap sizing and allocator noise, no trend).
    const flat = growth < mid * 0.1;
    console.log(
      `\nRSS (${samplesKiB.length} samples, 1/s)  start ${mib(start)}, peak ${mib(peak)}, end ${mib(end)}`,
    );
    console.log(
      `RSS growth, second half        ${growth >= 0 ? '+' : ''}${mib(growth)} (${((growth / mid) * 100).toFixed(1)}% of ${mib(mid)})  ${flat ? 'flat' : 'GROWING'}`,
    );
    const events = logLines();
    console.log(
      `server log lines by event      ${Object.entries(events)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    // Diagnostics are bounded (refusals are rate-limited per code, origin and address); the audit trail is not.
    const diagnosticsKiB = perMinute('stderr') / 1024;
    const bounded = diagnosticsKiB <= 256;
    console.log(
      `log volume per minute          diagnostics (stderr) ${diagnosticsKiB.toFixed(1)} KiB (goal <= 256 KiB)  ${bounded ? 'met' : 'NOT MET'}; audit trail (stdout) ${(perMinute('stdout') / 1024 / 1024).toFixed(1)} MiB`,
    );
    console.log(`server after the run           ${alive ? 'alive' : 'DEAD'}, /healthcheck ${health}`);

    const ok =
      fiveXx === 0 &&
      errors === 0 &&
      unexpected === 0 &&
      flat &&
      alive &&
      bounded &&
      health === 200 &&
      (events.internal_error ?? 0) === 0;
    console.log(
      `\n${ok ? 'PASS' : 'FAIL'}: 5xx ${fiveXx}, socket errors ${errors}, unexpected answers ${unexpected}, memory ${flat ? 'flat' : 'growing'}, diagnostics ${bounded ? 'bounded' : 'UNBOUNDED'}`,
    );
    return ok ? 0 : 1;
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
