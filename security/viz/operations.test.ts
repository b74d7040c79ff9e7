/**
 * An operator's bad day, against the BUILT server: shutdown with silent, slow and kept-alive clients; a dataset
 * file replaced under load, by rename and in place; a key rotation during a flood of made-up kids; a 300 MiB JWKS;
 * a key the server cannot use; a flood of refusals. Each case starts its own server (a shutdown ends it, a file
 * swap changes it) with a configuration written at test time.
 */
import {
  copyFileSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  closeSync,
  writeSync,
} from 'node:fs';
import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { Agent, createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSecret, publicJwk } from '@pp-embed/dataset-token';
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  barchartPath,
  ChildServer,
  expectCleanLogs,
  generatedDataset,
  LOOPBACK,
  PORTAL_HOST,
  PORTAL_ORIGIN,
  type Reply,
  samplesPath,
  send,
  VIZ_EVENTS,
  VIZ_MAIN,
} from '../harness.js';
import { forge } from '../jws.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Everything every server of this file wrote must be clean of these. */
const tokens = new Set<string>();
const secrets: string[] = [];
const servers: ChildServer[] = [];
const keyServers: KeyServer[] = [];

/** A JWKS endpoint on loopback whose answer a test controls, counting the requests it gets. */
class KeyServer {
  keys: unknown[] = [];
  delayMs = 0;
  /** Answer 300 MiB of JSON-looking bytes instead, as fast as the client reads them. */
  huge = false;
  requests = 0;
  hugeBytesSent = 0;
  url = '';
  readonly #server: Server;

  constructor() {
    this.#server = createServer((_req, res) => {
      this.requests++;
      res.on('error', () => undefined);
      if (this.huge) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"keys":[');
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        const pump = () => {
          while (this.hugeBytesSent < 300 * 1024 * 1024 && !res.destroyed) {
            this.hugeBytesSent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
        return;
      }
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
        res.end(JSON.stringify({ keys: this.keys }));
      }, this.delayMs);
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, LOOPBACK, resolve));
    this.url = `http://${LOOPBACK}:${(this.#server.address() as { port: number }).port}/jwks.json`;
    keyServers.push(this);
    return this;
  }

  close(): void {
    this.#server.closeAllConnections();
    this.#server.close();
  }
}

interface EcKey {
  kid: string;
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
}

function ecKey(kid: string): EcKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  secrets.push(...pem.split('\n').filter((line) => line.length >= 40 && !line.startsWith('-----')));
  return { kid, privateKey, jwk: publicJwk(publicKey, 'ES256', kid) as Record<string, unknown> };
}

/** A server with `Live` (a copy the test may replace, open aggregated routes) and `Keyed` (ES256 from a JWKS URL). */
interface Ops {
  server: ChildServer;
  /** The file of `Live`. */
  file: string;
  secret: string;
  keys: KeyServer;
  /** An HS256 token for Live's sample-level route, for the loopback client. */
  liveToken(): string;
  /** An ES256 token for Keyed, signed with `key`, with its kid. */
  keyedToken(key: EcKey): string;
}

async function startOps(options: { drainSeconds?: number; keys?: EcKey[] } = {}): Promise<Ops> {
  const dir = mkdtempSync(join(tmpdir(), 'pp-security-ops-'));
  const file = join(dir, 'Live.db');
  copyFileSync(generatedDataset(), file);
  const secret = generateSecret();
  secrets.push(secret);
  writeFileSync(join(dir, 'hs.secret'), secret, { mode: 0o600 });
  const keys = await new KeyServer().start();
  keys.keys = (options.keys ?? []).map((k) => k.jwk);
  const config = {
    host: LOOPBACK,
    drainSeconds: options.drainSeconds ?? 5,
    datasets: [
      { label: 'Live', genome: 'hg38', file },
      { label: 'Keyed', genome: 'hg38', file: generatedDataset() },
    ],
    dsCredentials: {
      Live: { termdb: { [PORTAL_HOST]: { type: 'jwt', secret: { file: 'hs.secret' } } } },
      Keyed: { '*': { [PORTAL_HOST]: { type: 'jwt', jwks: keys.url } } },
    },
  };
  writeFileSync(join(dir, 'serverconfig.json'), JSON.stringify(config));
  const server = await ChildServer.start(VIZ_MAIN, {
    args: ['--config', join(dir, 'serverconfig.json'), '--port', '0', '--host', LOOPBACK],
    listening: (line) => (line.event === 'listening' && typeof line.url === 'string' ? line.url : undefined),
  });
  servers.push(server);
  const claims = (dataset: string) => {
    const now = Math.floor(Date.now() / 1000);
    return {
      datasets: [dataset],
      email: 'ana@example.org',
      ip: LOOPBACK,
      iat: now,
      exp: now + 300,
      jti: randomUUID(),
    };
  };
  const track = (token: string) => (tokens.add(token), token);
  return {
    server,
    file,
    secret,
    keys,
    liveToken: () =>
      track(
        forge({
          header: { alg: 'HS256', typ: 'JWT' },
          payload: claims('Live'),
          signWith: 'HS256',
          key: secret,
        }),
      ),
    keyedToken: (key) =>
      track(
        forge({
          header: { alg: 'ES256', typ: 'JWT', kid: key.kid },
          payload: claims('Keyed'),
          signWith: 'ES256',
          key: key.privateKey,
        }),
      ),
  };
}

const origin: [string, string] = ['origin', PORTAL_ORIGIN];

function exited(server: ChildServer): Promise<{ code: number | null; ms: number }> {
  const started = performance.now();
  if (!server.alive()) return Promise.resolve({ code: server.child.exitCode, ms: 0 });
  return new Promise((resolve) =>
    server.child.once('exit', (code) => resolve({ code, ms: performance.now() - started })),
  );
}

function rawSocket(port: number): Promise<{ socket: Socket; text: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect(port, LOOPBACK, () =>
      resolve({
        socket,
        text: () => text,
        closed: new Promise((done) => socket.once('close', () => done())),
      }),
    );
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.once('error', reject);
  });
}

/** Runs `connections` clients against `path` in a loop until `during` is done and `tailMs` more have passed. */
async function underLoad(
  port: number,
  path: () => string,
  during: () => Promise<void>,
  options: { connections?: number; tailMs?: number; headers?: () => [string, string][] } = {},
): Promise<{ replies: Reply[]; errors: unknown[] }> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections ?? 4 });
  const replies: Reply[] = [];
  const errors: unknown[] = [];
  let running = true;
  const loop = async () => {
    while (running) {
      try {
        replies.push(
          await send(port, { path: path(), headers: [origin, ...(options.headers?.() ?? [])], agent }),
        );
      } catch (error) {
        errors.push(error);
      }
    }
  };
  const loops = Array.from({ length: options.connections ?? 4 }, loop);
  await sleep(300);
  await during();
  await sleep(options.tailMs ?? 300);
  running = false;
  await Promise.all(loops);
  agent.destroy();
  return { replies, errors };
}

const total = (reply: Reply) => (reply.json as { total?: number | null } | undefined)?.total;
const code = (reply: Reply) => (reply.json as { error?: { code?: string } } | undefined)?.error?.code;

async function health(port: number): Promise<Record<string, unknown>> {
  return (await send(port, { path: '/healthcheck' })).json as Record<string, unknown>;
}

/** Waits until `check` holds, polling, for at most `ms`. */
async function until(check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (await check()) return;
    await sleep(100);
  }
  expect.fail(`not within ${ms} ms`);
}

function lines(server: ChildServer): Record<string, unknown>[] {
  return server
    .stderr()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

afterAll(async () => {
  for (const server of servers) await server.stop();
  for (const keys of keyServers) keys.close();
});

describe('shutdown (the issue: SIGTERM left the process alive for minutes, and closed datasets under requests)', () => {
  it('exits at once when a silent socket and a client sending its headers slowly are all it has', async () => {
    const ops = await startOps({ drainSeconds: 10 });
    const silent = await rawSocket(ops.server.port);
    const slow = await rawSocket(ops.server.port);
    slow.socket.write('GET /healthcheck HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => slow.socket.writable && slow.socket.write('X-Slow: 1\r\n'), 100);
    await sleep(300);
    const exit = exited(ops.server);
    ops.server.child.kill('SIGTERM');
    const { code: status, ms } = await exit;
    clearInterval(drip);
    await Promise.all([silent.closed, slow.closed]);
    expect(status).toBe(0);
    expect(ms).toBeLessThan(2000);
  });

  it('finishes a request in flight on its open dataset, answers a request on a kept-alive connection 503 server_draining, says draining, refuses new connections, and exits 0', async () => {
    const slowKey = ecKey('slow');
    const ops = await startOps();
    const port = ops.server.port;
    const keptAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    const healthAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    expect(
      (await send(port, { path: barchartPath('Live'), headers: [origin], agent: keptAlive })).status,
    ).toBe(200);
    expect((await send(port, { path: '/healthcheck', agent: healthAgent })).status).toBe(200);

    // A request held in the access check for 1.5 s: its kid is new, and the key server answers slowly.
    ops.keys.keys = [slowKey.jwk];
    ops.keys.delayMs = 1500;
    const inFlight = send(port, {
      path: samplesPath('Keyed'),
      headers: [origin, ['x-ds-access-token', ops.keyedToken(slowKey)]],
    });
    await sleep(300);
    const exit = exited(ops.server);
    ops.server.child.kill('SIGTERM');
    await sleep(200);

    const late = await send(port, { path: barchartPath('Live'), headers: [origin], agent: keptAlive });
    expect(late.status).toBe(503);
    expect(code(late)).toBe('server_draining');
    expect(late.headers.connection).toBe('close');
    expect(late.headers['retry-after']).toBe('1');
    expect(late.headers['access-control-allow-origin']).toBe(PORTAL_ORIGIN);
    const draining = await send(port, { path: '/healthcheck', agent: healthAgent });
    expect(draining.status).toBe(503);
    expect(draining.json).toMatchObject({ status: 'draining' });
    await expect(send(port, { path: '/healthcheck' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    const finished = await inFlight;
    expect(finished.status).toBe(200);
    expect((finished.json as { rows: unknown[] }).rows.length).toBeGreaterThan(0);
    expect(finished.headers.connection).toBe('close');
    const { code: status, ms } = await exit;
    expect(status).toBe(0);
    expect(ms).toBeLessThan(5000);
    keptAlive.destroy();
    healthAgent.destroy();
    const events = lines(ops.server).map((l) => l.event);
    expect(events).toEqual(expect.arrayContaining(['draining', 'stopped']));
    expect(events).not.toContain('internal_error');
  });

  it('cuts a request still running at the drain deadline and exits', async () => {
    const never = ecKey('never');
    const ops = await startOps({ drainSeconds: 1 });
    ops.keys.keys = [never.jwk];
    ops.keys.delayMs = 4000;
    const inFlight = send(ops.server.port, {
      path: samplesPath('Keyed'),
      headers: [origin, ['x-ds-access-token', ops.keyedToken(never)]],
    }).catch((error: unknown) => error);
    await sleep(300);
    const exit = exited(ops.server);
    ops.server.child.kill('SIGTERM');
    const { code: status, ms } = await exit;
    expect(status).toBe(0);
    expect(ms).toBeGreaterThan(800);
    expect(ms).toBeLessThan(3000);
    expect(await inFlight).toBeInstanceOf(Error);
    expect(lines(ops.server).find((l) => l.event === 'stopped')).toMatchObject({ cut: 1 });
  });
});

describe('a dataset file replaced under load (the issue: 500 "no such table" until a restart, health said ok)', () => {
  const v2 = () => generatedDataset(3000, 2);

  it('a new file renamed over the old one: no failed request, and every answer from one file or the other', async () => {
    const ops = await startOps();
    const before = total(await send(ops.server.port, { path: barchartPath('Live'), headers: [origin] }));
    const { replies, errors } = await underLoad(
      ops.server.port,
      () => barchartPath('Live'),
      async () => {
        const next = `${ops.file}.next`;
        copyFileSync(v2(), next);
        renameSync(next, ops.file);
        await until(async () => {
          const ds = (await health(ops.server.port)).checks as {
            datasets: { status: string; version: string }[];
          };
          return (
            lines(ops.server).some((l) => l.event === 'dataset_swapped') && ds.datasets[0]?.status === 'ok'
          );
        }, 10_000);
      },
    );
    expect(errors).toEqual([]);
    expect(new Set(replies.map((r) => r.status))).toEqual(new Set([200]));
    const after = total(replies.at(-1) as Reply);
    expect(after).not.toBe(before);
    for (const reply of replies) expect([before, after]).toContain(total(reply));
    expect(replies.filter((r) => total(r) === after).length).toBeGreaterThan(0);
    const swapped = lines(ops.server).find((l) => l.event === 'dataset_swapped');
    expect(swapped).toMatchObject({
      dataset: 'Live',
      version: expect.stringMatching(/^sha256:[0-9a-f]{16}$/),
    });
    expect((await health(ops.server.port)).checks).toMatchObject({
      datasets: [{ label: 'Live', status: 'ok', version: swapped?.version }, { label: 'Keyed' }],
    });
  });

  it('a copy written over the live file in place: 503 dataset_unavailable meanwhile, never a 500, and served again once it is whole', async () => {
    const ops = await startOps();
    let sawUnavailable = false;
    const { replies, errors } = await underLoad(
      ops.server.port,
      () => barchartPath('Live'),
      async () => {
        // What `cp new.db live.db` does: truncate the same inode and write it in pieces.
        const bytes = readFileSync(v2());
        const fd = openSync(ops.file, 'w');
        for (let at = 0; at < bytes.length; at += 64 * 1024) {
          writeSync(fd, bytes, at, Math.min(64 * 1024, bytes.length - at), at);
          await sleep(20);
        }
        closeSync(fd);
        await until(async () => {
          const ds = (await health(ops.server.port)).checks as { datasets: { status: string }[] };
          if (ds.datasets[0]?.status === 'unavailable') sawUnavailable = true;
          const reply = await send(ops.server.port, { path: barchartPath('Live'), headers: [origin] });
          return reply.status === 200 && ds.datasets[0]?.status === 'ok';
        }, 15_000);
      },
    );
    expect(errors).toEqual([]);
    for (const reply of replies) {
      expect([200, 503], reply.text).toContain(reply.status);
      if (reply.status === 503) expect(code(reply)).toBe('dataset_unavailable');
    }
    expect(replies.some((r) => r.status === 503) || sawUnavailable).toBe(true);
    const events = lines(ops.server).map((l) => l.event);
    expect(events).toContain('dataset_changed_in_place');
    expect(events).toContain('dataset_swapped');
    expect(events).not.toContain('internal_error');
    const fresh = await send(ops.server.port, { path: barchartPath('Live'), headers: [origin] });
    expect(fresh.status).toBe(200);
    expect(total(fresh)).toBe(total(replies.at(-1) as Reply));
  });

  it('a file that fails the checks is refused, logged, reported, and the old one keeps serving', async () => {
    const ops = await startOps();
    const before = total(await send(ops.server.port, { path: barchartPath('Live'), headers: [origin] }));
    const next = `${ops.file}.next`;
    writeFileSync(next, 'SQLite format 3\0'.padEnd(8192, '\u0001'));
    renameSync(next, ops.file);
    await until(async () => lines(ops.server).some((l) => l.event === 'dataset_update_refused'), 10_000);
    const reply = await send(ops.server.port, { path: barchartPath('Live'), headers: [origin] });
    expect(reply.status).toBe(200);
    expect(total(reply)).toBe(before);
    const report = await health(ops.server.port);
    expect(report).toMatchObject({
      status: 'degraded',
      checks: {
        datasets: [{ label: 'Live', status: 'stale', problem: expect.any(String) }, { status: 'ok' }],
      },
    });
    expect(JSON.stringify(report)).not.toContain(ops.file);
    rmSync(ops.file);
  });
});

describe('keys from a JWKS URL (the issue: a junk-kid flood held off a rotation for 60 s; 300 MiB read whole)', () => {
  it('accepts tokens of a key rotated in during a flood of made-up kids within the 5 s cooldown, at a bounded cost', async () => {
    const old = ecKey('old');
    const next = ecKey('new');
    const ops = await startOps({ keys: [old] });
    const port = ops.server.port;
    expect(
      (
        await send(port, {
          path: samplesPath('Keyed'),
          headers: [origin, ['x-ds-access-token', ops.keyedToken(old)]],
        })
      ).status,
    ).toBe(200);
    const fetchesBefore = ops.keys.requests;
    const floodStarted = performance.now();
    let acceptedAfterMs = Number.POSITIVE_INFINITY;
    const { replies, errors } = await underLoad(
      port,
      () => samplesPath('Keyed'),
      async () => {
        ops.keys.keys = [old.jwk, next.jwk];
        const published = performance.now();
        await until(async () => {
          const reply = await send(port, {
            path: samplesPath('Keyed'),
            headers: [origin, ['x-ds-access-token', ops.keyedToken(next)]],
          });
          if (reply.status === 200) acceptedAfterMs = performance.now() - published;
          return reply.status === 200;
        }, 12_000);
      },
      {
        headers: () => [['x-ds-access-token', ops.keyedToken({ ...old, kid: `junk-${randomUUID()}` })]],
      },
    );
    expect(errors).toEqual([]);
    expect(replies.length).toBeGreaterThan(50);
    for (const reply of replies) expect(reply.status).toBe(401);
    expect(acceptedAfterMs).toBeLessThanOrEqual(6000);
    const seconds = (performance.now() - floodStarted) / 1000;
    expect(ops.keys.requests - fetchesBefore).toBeLessThanOrEqual(Math.ceil(seconds / 5) + 1);
  });

  it('stops reading a 300 MiB JWKS at its byte cap: the server`s memory stays flat and the failure is logged', async () => {
    const ops = await startOps({ keys: [ecKey('k1')] });
    const rss = () =>
      Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${ops.server.pid}/status`, 'utf8'))?.[1]) / 1024;
    const baseline = rss();
    ops.keys.huge = true;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rss())), 20);
    const reply = await send(ops.server.port, {
      path: samplesPath('Keyed'),
      headers: [origin, ['x-ds-access-token', ops.keyedToken(ecKey('unknown'))]],
    });
    await sleep(300);
    clearInterval(sampler);
    expect(reply.status).toBe(401);
    expect(peak - baseline).toBeLessThan(64);
    expect(ops.keys.hugeBytesSent).toBeLessThan(64 * 1024 * 1024);
    const failed = lines(ops.server).find((l) => l.event === 'jwks_fetch_failed');
    expect(failed).toMatchObject({
      url: ops.keys.url,
      cause: expect.stringContaining('larger than'),
      keys: 1,
    });
    expect(failed?.keysAgeSeconds).toEqual(expect.any(Number));
    expect((await health(ops.server.port)).checks).toMatchObject({
      keySets: [{ url: ops.keys.url, status: 'stale', keys: 1 }],
    });
  });

  it('ignores and logs a key with use "enc", and verifies tokens of the other keys (RFC 7517 §5)', async () => {
    const enc = ecKey('enc-1');
    const sig = ecKey('sig-1');
    const ops = await startOps({ keys: [{ ...enc, jwk: { ...enc.jwk, use: 'enc' } }, sig] });
    const reply = await send(ops.server.port, {
      path: samplesPath('Keyed'),
      headers: [origin, ['x-ds-access-token', ops.keyedToken(sig)]],
    });
    expect(reply.status).toBe(200);
    const refused = await send(ops.server.port, {
      path: samplesPath('Keyed'),
      headers: [origin, ['x-ds-access-token', ops.keyedToken(enc)]],
    });
    expect(refused.status).toBe(401);
    expect(lines(ops.server).find((l) => l.event === 'jwks_key_ignored')).toMatchObject({
      kid: 'enc-1',
      reason: expect.stringContaining('use "enc"'),
    });
    expect((await health(ops.server.port)).checks).toMatchObject({
      keySets: [{ status: 'ok', keys: 1, ageSeconds: expect.any(Number), problem: null }],
    });
  });
});

describe('logs under a flood (the issue: 16 MB a minute at 1.6k hostile requests a second)', () => {
  it('writes a bounded number of refusal lines, and an audit line for every granted sample-level answer', async () => {
    const ops = await startOps();
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const refusals = await Promise.all(
      Array.from({ length: 600 }, () =>
        send(ops.server.port, { path: samplesPath('Live'), headers: [origin], agent }),
      ),
    );
    expect(new Set(refusals.map((r) => r.status))).toEqual(new Set([401]));
    const token = ops.liveToken();
    for (let i = 0; i < 50; i++) {
      const granted = await send(ops.server.port, {
        path: samplesPath('Live'),
        headers: [origin, ['x-ds-access-token', token]],
        agent,
      });
      expect(granted.status).toBe(200);
    }
    agent.destroy();
    const refused = lines(ops.server).filter((l) => l.event === 'refused');
    expect(refused.length).toBeLessThanOrEqual(10);
    expect(refused[0]).toMatchObject({ code: 'token_missing', origin: PORTAL_ORIGIN, address: LOOPBACK });
    await ops.server.stop();
    const audit = ops.server
      .stdout()
      .split('\n')
      .filter((l) => l.includes('"sample_access"'));
    expect(audit).toHaveLength(50);
    const summary = lines(ops.server).find((l) => l.event === 'log_suppressed');
    expect(summary).toMatchObject({ suppressed: 590, top: [{ code: 'token_missing', suppressed: 590 }] });
  });
});

describe('every server of this file', () => {
  it('left no token, secret or unknown event in its logs (OWASP Logging Cheat Sheet)', () => {
    expect(servers.length).toBeGreaterThan(5);
    expectCleanLogs(
      servers.flatMap((s) => [
        { stream: 'stdout', text: s.stdout() },
        { stream: 'stderr', text: s.stderr() },
      ]),
      { tokens, secrets },
      VIZ_EVENTS,
    );
  });
});
