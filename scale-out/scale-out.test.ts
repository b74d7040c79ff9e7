import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, HAPROXY, samples, startTopology, type Topology, USER } from './topology.js';

const code = async (response: Response) =>
  ((await response.json()) as { error?: { code: string } }).error?.code;

describe.skipIf(HAPROXY === undefined)(
  'two portal replicas and three visualization server replicas behind HAProxy, on PostgreSQL',
  () => {
    let t: Topology;
    beforeAll(async () => {
      t = await startTopology({ portals: 2, viz: 3 });
    }, 120_000);
    afterAll(async () => {
      await t?.stop();
    });

    it('a user signed in through one portal replica is signed in on the other (the session lives in the store)', async () => {
      const session = await t.signIn(t.portals[0]!.url, USER);
      const page = await fetch(`${t.portals[1]!.url}/`, { headers: { cookie: session.cookie() } });
      expect(await page.text()).toContain(USER);
    });

    it('a token minted by one portal replica works on every visualization replica; an administrator revokes through the other portal replica; every visualization replica refuses it within 2 s', async () => {
      const user = await t.signIn(t.portals[0]!.url, USER);
      const token = await user.token();
      for (const viz of t.viz) expect((await samples(viz.url, t.portalOrigin, token)).status).toBe(200);

      const admin = await t.signIn(t.portals[1]!.url, ADMIN);
      const revokedAt = performance.now();
      expect(await admin.revoke({ kind: 'user', email: USER })).toBe(303);
      const refusedAfter = await Promise.all(
        t.viz.map(async (viz) => {
          for (;;) {
            const response = await samples(viz.url, t.portalOrigin, token);
            if (response.status === 401) {
              expect(await code(response)).toBe('token_revoked');
              return performance.now() - revokedAt;
            }
            await response.body?.cancel();
            if (performance.now() - revokedAt > 5000) return Infinity;
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
        }),
      );
      for (const ms of refusedAfter) expect(ms).toBeLessThan(2000);

      // A new sign-in after the revocation gets a token that works again, everywhere.
      const again = await (await t.signIn(t.portals[1]!.url, USER)).token();
      for (const viz of t.viz) expect((await samples(viz.url, t.portalOrigin, again)).status).toBe(200);
      for (const viz of t.viz) {
        const health = (await (await fetch(`${viz.url}/healthcheck`)).json()) as {
          checks: { revocationFeeds: { state: string }[] };
        };
        expect(health.checks.revocationFeeds[0]?.state).toBe('fresh');
      }
    });

    it('killing one visualization replica under load loses no request the balancer could retry', async () => {
      const token = await (await t.signIn(t.portalBalancer, USER)).token();
      const statuses = new Map<number, number>();
      let errors = 0;
      const until = performance.now() + 4000;
      const worker = async () => {
        while (performance.now() < until) {
          try {
            const response = await samples(t.vizBalancer, t.portalOrigin, token);
            await response.arrayBuffer();
            statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          } catch {
            errors++;
          }
        }
      };
      const load = Promise.all(Array.from({ length: 8 }, worker));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      t.viz[1]!.kill('SIGKILL');
      await load;
      const total = [...statuses.values()].reduce((a, b) => a + b, 0);
      expect(errors).toBe(0);
      expect(Object.fromEntries(statuses)).toEqual({ 200: total });
      expect(total).toBeGreaterThan(100);
    });
  },
);
