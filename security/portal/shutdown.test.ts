/**
 * The BUILT portal at SIGTERM: silent and slow clients cannot keep it alive, a request on a kept-alive connection
 * gets a clean 503 in the portal's own error shape, a held revocation feed request is answered at once, and it
 * exits 0 once its requests are done.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSecret } from '@pp-embed/dataset-token';
import { afterAll, describe, expect, it } from 'vitest';
import { type ChildServer, expectCleanLogs, LOOPBACK, send } from '../harness.js';
import { PORTAL_EVENTS, startBuiltPortal } from './lab.js';

const dir = mkdtempSync(join(tmpdir(), 'pp-security-portal-shutdown-'));
const secret = generateSecret();
const servers: ChildServer[] = [];

afterAll(async () => {
  for (const server of servers) await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function startPortal(): Promise<ChildServer> {
  writeFileSync(join(dir, 'ds-secret'), secret, { mode: 0o600 });
  const server = await startBuiltPortal({
    db: join(dir, `portal-${servers.length}.db`),
    secretFile: join(dir, 'ds-secret'),
    args: ['--drain-seconds', '10'],
  });
  servers.push(server);
  return server;
}

function exited(server: ChildServer): Promise<{ code: number | null; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) =>
    server.child.once('exit', (code) => resolve({ code, ms: performance.now() - started })),
  );
}

function rawSocket(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, LOOPBACK, () =>
      resolve({ socket, closed: new Promise((done) => socket.once('close', () => done())) }),
    );
    socket.on('error', () => undefined);
    socket.once('error', reject);
  });
}

describe('the portal at SIGTERM', () => {
  it('exits 0 at once when a silent socket and a client sending its headers slowly are all it has', async () => {
    const server = await startPortal();
    const silent = await rawSocket(server.port);
    const slow = await rawSocket(server.port);
    slow.socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => slow.socket.writable && slow.socket.write('X-Slow: 1\r\n'), 100);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const exit = exited(server);
    server.child.kill('SIGTERM');
    const { code, ms } = await exit;
    clearInterval(drip);
    await Promise.all([silent.closed, slow.closed]);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(2000);
  });

  it('answers a request on a kept-alive connection 503 server_draining with Connection: close, says draining, and exits 0', async () => {
    const server = await startPortal();
    const api = new Agent({ keepAlive: true, maxSockets: 1 });
    const health = new Agent({ keepAlive: true, maxSockets: 1 });
    expect((await send(server.port, { path: '/login', agent: api })).status).toBe(200);
    expect((await send(server.port, { path: '/healthcheck', agent: health })).status).toBe(200);
    const exit = exited(server);
    server.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));

    const late = await send(server.port, { method: 'POST', path: '/api/dataset-token', agent: api });
    expect(late.status).toBe(503);
    expect(late.json).toEqual({
      error: { code: 'server_draining', message: 'The portal is restarting. Send the request again.' },
    });
    expect(late.headers.connection).toBe('close');
    const draining = await send(server.port, { path: '/healthcheck', agent: health });
    expect(draining.status).toBe(503);
    expect(draining.json).toEqual({ status: 'draining' });
    await expect(send(server.port, { path: '/healthcheck' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const { code, ms } = await exit;
    expect(code).toBe(0);
    expect(ms).toBeLessThan(8000);
    api.destroy();
    health.destroy();
  });

  it('answers a revocation feed request it holds at once, 304 with Connection: close, and exits long before the drain time', async () => {
    const server = await startPortal();
    const first = await send(server.port, { path: '/.well-known/pp-revocations' });
    expect(first.status).toBe(200);
    const etag = first.headers.etag as string;
    // What every visualization replica keeps open: a conditional GET held until a revocation or 25 s.
    const held = send(server.port, {
      path: '/.well-known/pp-revocations',
      headers: [
        ['if-none-match', etag],
        ['prefer', 'wait=25'],
      ],
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const exit = exited(server);
    server.child.kill('SIGTERM');
    const answer = await held;
    expect(answer.status).toBe(304);
    expect(answer.headers.connection).toBe('close');
    const { code, ms } = await exit;
    expect(code).toBe(0);
    // Held to the drain deadline it would take the whole 10 s, and be cut.
    expect(ms).toBeLessThan(3000);
    expect(server.stderr()).not.toContain('the drain time ran out');
  });

  it('left no secret or unknown event in its logs', () => {
    expectCleanLogs(
      servers.flatMap((s) => [
        { stream: 'stdout', text: s.stdout() },
        { stream: 'stderr', text: s.stderr() },
      ]),
      { tokens: [], secrets: [secret] },
      PORTAL_EVENTS,
    );
  });
});
