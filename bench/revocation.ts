/**
 * Revocation propagation across replicas: two portal replicas and three visualization server replicas behind
 * HAProxy, on PostgreSQL (the scale-out topology, built apps). Each round mints a token through one portal replica,
 * checks that every visualization replica serves it, revokes it by `jti` on the other portal replica's admin page,
 * and times how long each visualization replica takes to refuse it (polled every 5 ms). Prints p50, p99 and the
 * worst over every replica of every round: goal p99 <= 2000 ms.
 *
 * Run: pnpm build && node --import tsx/esm --conditions=source bench/revocation.ts
 */
import { ADMIN, HAPROXY, samples, startTopology, USER } from '../scale-out/topology.js';
import { pathToFileURL } from 'node:url';
import { ratio } from './measure.js';

const ROUNDS = Number(process.env.PP_BENCH_ROUNDS ?? 30);

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/**
 * Prints the propagation figures.
 *
 * @example
 * await benchRevocation();
 */
export async function benchRevocation(): Promise<void> {
  console.log('\n# Revocation propagation: 2 portal replicas, 3 visualization replicas, HAProxy, PostgreSQL');
  if (HAPROXY === undefined) {
    console.log('skipped: HAProxy is not installed');
    return;
  }
  const t = await startTopology({ portals: 2, viz: 3 });
  try {
    const user = await t.signIn(t.portals[0]!.url, USER);
    const admin = await t.signIn(t.portals[1]!.url, ADMIN);
    const times: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const token = await user.token();
      for (const viz of t.viz) {
        const ok = await samples(viz.url, t.portalOrigin, token);
        await ok.arrayBuffer();
        if (ok.status !== 200)
          throw new Error(`round ${round}: ${viz.name} answered ${ok.status} before the revocation`);
      }
      const jti = (
        JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { jti: string }
      ).jti;
      const started = performance.now();
      if ((await admin.revoke({ kind: 'token', jti })) !== 303) throw new Error('the admin page refused');
      const refused = await Promise.all(
        t.viz.map(async (viz) => {
          for (;;) {
            const response = await samples(viz.url, t.portalOrigin, token);
            await response.arrayBuffer();
            if (response.status === 401) return performance.now() - started;
            if (performance.now() - started > 10_000) throw new Error(`${viz.name} never refused the token`);
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        }),
      );
      times.push(...refused);
    }
    const p50 = percentile(times, 50);
    const p99 = percentile(times, 99);
    console.log(`${times.length} refusals (${ROUNDS} revocations x ${t.viz.length} replicas)`);
    console.log(
      `p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms, worst ${Math.max(...times).toFixed(0)} ms`,
    );
    console.log(ratio('revocation to refusal on every replica, p99 (s)', p99 / 1000, { atMost: 2 }));
  } finally {
    await t.stop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  await benchRevocation();
