// The server over real HTTP on 127.0.0.1: the socket address feeds the strict IP check, node's header handling
// joins duplicate token headers, and a malformed request never takes the server down.
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, PORTAL } from '../test/harness.js';

const h = harness();
let server: ServerType;
let base: string;

beforeAll(async () => {
  await new Promise<void>((resolve) => {
    server = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function raw(path: string, headers: [string, string][]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${base}${path}`,
      { headers: headers.flat() as unknown as Record<string, string> },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('over HTTP on 127.0.0.1', () => {
  it('grants a token minted for 127.0.0.1 and refuses one minted for another address', async () => {
    const ok = await fetch(`${base}/termdb/samples?dslabel=PPDemo&term=sex`, {
      headers: { origin: PORTAL, 'x-ds-access-token': h.token({ ip: '127.0.0.1' }) },
    });
    expect(ok.status).toBe(200);
    const other = await fetch(`${base}/termdb/samples?dslabel=PPDemo&term=sex`, {
      headers: { origin: PORTAL, 'x-ds-access-token': h.token({ ip: '127.0.0.2' }) },
    });
    expect(other.status).toBe(403);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('ip_mismatch');
  });

  it('refuses two token headers sent as separate header lines', async () => {
    const token = h.token({ ip: '127.0.0.1' });
    const res = await raw('/termdb/samples?dslabel=PPDemo&term=sex', [
      ['origin', PORTAL],
      ['x-ds-access-token', token],
      ['x-ds-access-token', token],
    ]);
    expect(res.status).toBe(400);
  });

  it('answers malformed requests with 4xx and stays healthy', async () => {
    const paths = [
      '/termdb/barchart?dslabel=%E0%A4%A&term=sex',
      '/termdb/barchart?dslabel=PPDemo&term=%00',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/termdb/terms?dslabel=PPDemo&parent=' + 'x'.repeat(5000),
    ];
    for (const path of paths) {
      const res = await raw(path, [['origin', PORTAL]]);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
    }
    expect((await fetch(`${base}/healthcheck`)).status).toBe(200);
  });
});
