/**
 * Dataset passwords: what a login costs. A right password through `decide` (throttle, scrypt at the default cost,
 * token issued) beside a bare scrypt of the same cost, alternated so that load from other processes hits both
 * alike; and 16 tries at once, which the throttle runs two at a time, so memory stays near two scrypt buffers.
 * Run: pnpm bench  (or: node --import tsx/esm --conditions=source bench/password.ts)
 */
import { randomBytes, scrypt } from 'node:crypto';
import { decide, hashPassword, loadPolicy } from '@pp-embed/access-policy';
import { generateSecret } from '@pp-embed/dataset-token';
import { ROUTES } from '@pp-embed/viz-api';
import { median, ratio } from './measure.js';

const PASSWORD = 'a dataset password for the benchmark';
const COST = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

const passwordHash = await hashPassword(PASSWORD);
const policy = loadPolicy(
  { Bench: { '*': { '*': { type: 'basic', passwordHash, tokenSecret: generateSecret() } } } },
  { baseDir: '.', env: {}, loginThrottle: { maxFailures: 1_000_000 } },
);
const login = (i: number) =>
  decide(policy, {
    dataset: 'Bench',
    route: ROUTES.samples,
    clientIp: `198.51.100.${i % 250}`,
    header: () => undefined,
    password: PASSWORD,
  });
const bare = () =>
  new Promise<void>((resolve, reject) =>
    scrypt(PASSWORD, randomBytes(16), 32, COST, (error) => (error ? reject(error) : resolve())),
  );

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

console.log('\n# Dataset passwords: a login through decide vs a bare scrypt (N=2^15, r=8, p=1), alternated');
await login(0);
await bare();
const logins: number[] = [];
const bares: number[] = [];
for (let i = 0; i < 15; i++) {
  logins.push(await timed(() => login(i)));
  bares.push(await timed(bare));
}
const [loginMs, bareMs] = [median(logins), median(bares)];
console.log(
  `login through decide, median of 15                           ${loginMs.toFixed(1).padStart(8)} ms`,
);
console.log(
  `bare scrypt of the same cost, median of 15                   ${bareMs.toFixed(1).padStart(8)} ms`,
);
console.log(
  ratio('bare scrypt time / login time (the rest of the login is cheap)', bareMs / loginMs, { atLeast: 0.9 }),
);

const before = process.memoryUsage().rss;
let peak = before;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
const burst = await timed(() => Promise.all(Array.from({ length: 16 }, (_, i) => login(i))));
clearInterval(sampler);
console.log(
  `16 logins at once (two scrypt at a time): ${burst.toFixed(0)} ms in all, resident memory +${((peak - before) / 2 ** 20).toFixed(0)} MiB at most`,
);
