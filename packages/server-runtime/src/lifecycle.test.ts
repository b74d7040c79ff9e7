import { EventEmitter } from 'node:events';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Lifecycle, type ServeTimeouts } from './lifecycle.js';
import { silentLogger } from './log.js';

/** A raw TCP client that keeps what it reads and when the server closed it. */
class RawClient {
  readonly socket: Socket;
  readonly opened = performance.now();
  text = '';
  closedAfterMs: number | undefined;
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => (this.text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedAfterMs = performance.now() - this.opened;
        resolve();
      }),
    );
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Resolves once the text read so far holds `count` complete answers. */
  async answers(count: number, timeoutMs = 5000): Promise<string[]> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const parts = this.text.split(/(?=HTTP\/1\.1 \d{3} )/).filter((p) => p.includes('\r\n\r\n'));
      const complete = parts.filter((p) => {
        const length = /content-length: (\d+)/i.exec(p)?.[1];
        return length === undefined || p.split('\r\n\r\n')[1]?.length === Number(length);
      });
      if (complete.length >= count) return complete;
      if (performance.now() > until) throw new Error(`only ${complete.length} answers: ${this.text}`);
      await sleep(10);
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

/** A handler whose `/slow` answers only when the test releases it, and which reports the drain state. */
function app(lifecycle: Lifecycle) {
  const waiting: (() => void)[] = [];
  const listener: RequestListener = (req: IncomingMessage, res: ServerResponse) => {
    const answer = () => {
      const body = lifecycle.draining ? 'draining' : 'ok';
      res.writeHead(lifecycle.draining ? 503 : 200, { 'content-length': String(body.length) });
      res.end(body);
    };
    if (req.url === '/slow') waiting.push(answer);
    else if (req.url !== '/never') answer();
  };
  return {
    listener,
    release: () => waiting.splice(0).forEach((answer) => answer()),
    waiting: () => waiting.length,
  };
}

const started: Lifecycle[] = [];

async function start(timeouts: ServeTimeouts = {}, drainMs = 5000) {
  const lines: { event: string; fields: Record<string, unknown> | undefined }[] = [];
  const log = {
    info: (event: string, fields?: Record<string, unknown>) => lines.push({ event, fields }),
    warn: (event: string, fields?: Record<string, unknown>) => lines.push({ event, fields }),
    error: (event: string, fields?: Record<string, unknown>) => lines.push({ event, fields }),
  };
  const lifecycle = new Lifecycle({ log, drainMs });
  started.push(lifecycle);
  const handler = app(lifecycle);
  const { port } = await lifecycle.listen(handler.listener, { hostname: '127.0.0.1', port: 0, timeouts });
  return { lifecycle, port, lines, ...handler };
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((l) => l.shutdown('test over')));
});

describe('Lifecycle.listen: timeouts that free silent sockets', () => {
  it('answers 408 and closes a socket that connects and sends nothing, after the header time', async () => {
    const { port } = await start({ headersMs: 300 });
    const client = await RawClient.open(port);
    await client.closed;
    expect(client.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(client.closedAfterMs).toBeLessThan(1500);
  });

  it('closes a client that sends its headers a line at a time, after the header time', async () => {
    const { port } = await start({ headersMs: 300 });
    const client = await RawClient.open(port);
    client.send('GET / HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => client.socket.writable && client.send('X-Slow: 1\r\n'), 50);
    await client.closed;
    clearInterval(drip);
    expect(client.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(client.closedAfterMs).toBeLessThan(1500);
  });

  it('closes an idle kept-alive connection after the keep-alive time', async () => {
    const { port } = await start({ keepAliveMs: 200 });
    const client = await RawClient.open(port);
    client.send(GET('/'));
    await client.answers(1);
    await client.closed;
    expect(client.closedAfterMs).toBeLessThan(1500);
  });
});

describe('Lifecycle.shutdown: a drain that ends', () => {
  it('closes a silent socket and a half-sent request at once, and stops long before the drain time', async () => {
    const { lifecycle, port } = await start({ headersMs: 60_000, requestMs: 60_000 }, 20_000);
    const silent = await RawClient.open(port);
    const slow = await RawClient.open(port);
    slow.send('GET / HTTP/1.1\r\nHost: x\r\n');
    await sleep(50);
    const t0 = performance.now();
    const summary = await lifecycle.shutdown('SIGTERM');
    expect(performance.now() - t0).toBeLessThan(1000);
    await Promise.all([silent.closed, slow.closed]);
    expect(summary).toMatchObject({ reason: 'SIGTERM', cut: 0 });
  });

  it('refuses new connections once it drains', async () => {
    const { lifecycle, port, release } = await start();
    const busy = await RawClient.open(port);
    busy.send(GET('/slow'));
    await sleep(50);
    const stopping = lifecycle.shutdown('SIGTERM');
    await expect(RawClient.open(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    release();
    await stopping;
  });

  it('lets a request in flight finish with its answer, which says Connection: close, then closes', async () => {
    const { lifecycle, port, release, waiting, lines } = await start();
    const client = await RawClient.open(port);
    client.send(GET('/slow'));
    while (waiting() === 0) await sleep(5);
    const stopping = lifecycle.shutdown('SIGTERM');
    await sleep(100);
    expect(lifecycle.draining).toBe(true);
    release();
    const [answer] = await client.answers(1);
    // Its answer was written during the drain, so the handler saw it; what matters is that it came, whole.
    expect(answer).toMatch(/^HTTP\/1\.1 503 [^]*\r\nConnection: close\r\n[^]*draining$/i);
    await client.closed;
    const summary = await stopping;
    expect(summary).toMatchObject({ finished: 1, cut: 0 });
    expect(lines.map((l) => l.event)).toEqual(['draining', 'stopped']);
  });

  it('passes a request that arrives on a kept-alive connection to the app, which answers it as draining, with Connection: close', async () => {
    const { lifecycle, port } = await start({ keepAliveMs: 3000 });
    const client = await RawClient.open(port);
    client.send(GET('/'));
    const [first] = await client.answers(1);
    expect(first).toMatch(/^HTTP\/1\.1 200 [^]*keep-alive/i);
    const stopping = lifecycle.shutdown('SIGTERM');
    await sleep(50);
    client.send(GET('/'));
    const [, second] = await client.answers(2);
    expect(second).toMatch(/^HTTP\/1\.1 503 [^]*\r\nConnection: close\r\n/i);
    await client.closed;
    await stopping;
  });

  it('waits for an idle kept-alive connection no longer than its keep-alive time', async () => {
    const { lifecycle, port } = await start({ keepAliveMs: 400 }, 20_000);
    const client = await RawClient.open(port);
    client.send(GET('/'));
    await client.answers(1);
    const t0 = performance.now();
    await lifecycle.shutdown('SIGTERM');
    expect(performance.now() - t0).toBeLessThan(1500);
  });

  it('cuts what is still running at the drain deadline, and says how many', async () => {
    const { lifecycle, port, lines } = await start({}, 300);
    const client = await RawClient.open(port);
    client.send(GET('/never'));
    await sleep(50);
    const t0 = performance.now();
    const summary = await lifecycle.shutdown('SIGTERM');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(summary.cut).toBe(1);
    await client.closed;
    expect(lines.at(-1)).toMatchObject({ event: 'stopped', fields: { cut: 1 } });
  });

  it('aborts its drain signal when the drain starts, so that a request held open can answer at once', async () => {
    const { lifecycle, port, release, waiting } = await start({}, 20_000);
    lifecycle.drainSignal.addEventListener('abort', release, { once: true });
    const client = await RawClient.open(port);
    client.send(GET('/slow'));
    while (waiting() === 0) await sleep(5);
    expect(lifecycle.drainSignal.aborted).toBe(false);
    const t0 = performance.now();
    const summary = await lifecycle.shutdown('SIGTERM');
    expect(lifecycle.drainSignal.aborted).toBe(true);
    // Without the signal, the held request would keep the drain going until its 20 s deadline.
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(summary).toMatchObject({ finished: 1, cut: 0 });
    const [answer] = await client.answers(1);
    expect(answer).toMatch(/\r\nConnection: close\r\n/i);
  });

  it('is idempotent: every call gets the one summary', async () => {
    const { lifecycle } = await start();
    const [a, b] = await Promise.all([lifecycle.shutdown('SIGTERM'), lifecycle.shutdown('SIGINT')]);
    expect(a).toBe(b);
    expect(a.reason).toBe('SIGTERM');
  });
});

describe('Lifecycle.exitOnSignals', () => {
  it('drains, cleans up and exits 0 on the first signal; a second one exits 1 at once', async () => {
    const { lifecycle, port, release, waiting } = await start();
    const events = new EventEmitter();
    const codes: number[] = [];
    let cleaned = false;
    lifecycle.exitOnSignals(
      () => {
        cleaned = true;
      },
      { events, exit: (code) => codes.push(code) },
    );
    const client = await RawClient.open(port);
    client.send(GET('/slow'));
    while (waiting() === 0) await sleep(5);
    events.emit('SIGTERM');
    await sleep(50);
    expect(cleaned).toBe(false);
    events.emit('SIGINT');
    expect(codes).toEqual([1]);
    release();
    await lifecycle.shutdown();
    await sleep(10);
    expect(cleaned).toBe(true);
    expect(codes).toEqual([1, 0]);
  });

  it('cleans up only once the requests in flight are done', async () => {
    const lifecycle = new Lifecycle({ log: silentLogger });
    started.push(lifecycle);
    const order: string[] = [];
    const { port } = await lifecycle.listen(
      (_req, res) =>
        setTimeout(() => {
          order.push('answered');
          res.end('ok');
        }, 200),
      { hostname: '127.0.0.1', port: 0 },
    );
    const events = new EventEmitter();
    const exited = new Promise<number>((resolve) =>
      lifecycle.exitOnSignals(() => void order.push('cleanup'), { events, exit: resolve }),
    );
    const client = await RawClient.open(port);
    client.send(GET('/'));
    await sleep(50);
    events.emit('SIGTERM');
    expect(await exited).toBe(0);
    expect(order).toEqual(['answered', 'cleanup']);
  });
});
