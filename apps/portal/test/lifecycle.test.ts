import { Lifecycle, silentLogger } from '@pp-embed/server-runtime';
import { describe, expect, it } from 'vitest';
import { listen } from '../src/server.js';
import { setup } from './helpers.js';

describe('while the portal drains', () => {
  it('says "draining" with a 503 at /healthcheck, so that a load balancer stops sending requests', async () => {
    const { app } = await setup({ lifecycle: { draining: true } });
    const response = await app.request('/healthcheck');
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'draining' });
    expect(response.headers.get('retry-after')).toBe('1');
  });

  it('refuses a new API request with 503 server_draining in the portal`s error shape, and a page with a sentence', async () => {
    const { app } = await setup({ lifecycle: { draining: true } });
    const api = await app.request('/api/dataset-token', { method: 'POST' });
    expect(api.status).toBe(503);
    expect(api.headers.get('cache-control')).toBe('no-store');
    expect(await api.json()).toEqual({
      error: { code: 'server_draining', message: 'The portal is restarting. Send the request again.' },
    });
    const page = await app.request('/');
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('The portal is restarting');
  });

  it('answers normally until then', async () => {
    const { app } = await setup();
    expect(await (await app.request('/healthcheck')).json()).toEqual({ status: 'ok' });
  });

  it('stops over real HTTP within the keep-alive time of an idle connection, and takes no new connection', async () => {
    const lifecycle = new Lifecycle({ log: silentLogger });
    const s = await setup({ lifecycle });
    const server = await listen(s.app, {
      host: '127.0.0.1',
      port: 0,
      lifecycle,
      timeouts: { keepAliveMs: 200 },
    });
    expect((await fetch(`${server.url}/healthcheck`)).status).toBe(200);
    const t0 = performance.now();
    await server.close();
    expect(performance.now() - t0).toBeLessThan(2000);
    await expect(fetch(`${server.url}/healthcheck`)).rejects.toThrow();
  });
});

describe('logs under a flood of refused requests', () => {
  it('write a bounded number of lines per refusal, origin and address', async () => {
    const s = await setup();
    for (let i = 0; i < 100; i++) {
      const response = await s.app.request('/api/dataset-token', {
        method: 'POST',
        headers: { origin: 'https://evil.test', 'sec-fetch-site': 'cross-site' },
      });
      expect(response.status).toBe(403);
    }
    const lines = s.logs.map((l) => JSON.parse(l) as { event: string; status?: number });
    expect(lines.filter((l) => l.event === 'cross_origin_post')).toHaveLength(10);
    expect(lines.filter((l) => l.event === 'request' && l.status === 403)).toHaveLength(10);
  });
});
