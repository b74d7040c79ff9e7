import { afterAll, describe, expect, it } from 'vitest';
import { type PostgresCluster, startPostgres } from '../../../scripts/postgres-cluster.js';
import { openStore } from '../src/db/store.js';
import { Browser, setup, USERS } from './helpers.js';
import { STORE_KIND } from './store.js';

describe.runIf(STORE_KIND === 'postgres')('PostgreSQL going away under the portal', () => {
  let cluster: PostgresCluster | undefined;
  afterAll(() => cluster?.stop());

  it('answers 503 store_unavailable while it is down, never crashes, and recovers when it returns', async () => {
    // A cluster of its own: the suite's shared one must stay up for the other files.
    cluster = await startPostgres({ maxConnections: 50 });
    const store = await openStore({ kind: 'postgres', url: cluster.url });
    const s = await setup({ store });
    const { addUser } = await import('./helpers.js');
    await addUser(store, USERS.ana.email, USERS.ana.grants, s.clock());
    const browser = new Browser(s.app);
    await browser.signIn(USERS.ana.email);
    expect((await browser.token()).status).toBe(200);

    cluster.pause();
    const page = await browser.get('/');
    expect(page.status).toBe(503);
    expect(page.headers.get('retry-after')).toBe('5');
    expect(await page.text()).toContain('cannot reach its database');
    const api = await browser.postApi('/api/dataset-token?dataset=PPDemo', { 'x-csrf-token': 'x' });
    expect(api.status).toBe(503);
    expect(await api.json()).toEqual({
      error: {
        code: 'store_unavailable',
        message: 'The portal cannot reach its database. Try again shortly.',
      },
    });
    expect(s.logs.some((l) => l.includes('"event":"store_unavailable"'))).toBe(true);

    cluster.resume();
    await expect
      .poll(async () => (await browser.get('/')).status, { timeout: 15_000, interval: 250 })
      .toBe(200);
    expect((await browser.token()).status).toBe(200);
    await store.close();
  }, 60_000);
});
