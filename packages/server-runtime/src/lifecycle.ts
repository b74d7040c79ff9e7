import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import { type AddressInfo, Server as NetServer, type Socket } from 'node:net';
import { describeError, type Logger } from './log.js';

/**
 * Whether the process is shutting down. Apps read it to answer new requests with a 503 and to say `draining`
 * in their health check; {@link Lifecycle} is the one that sets it.
 *
 * @example
 * app.use(async (c, next) => (state.draining ? c.json({ error: { code: 'server_draining' } }, 503) : next()));
 */
export interface DrainState {
  readonly draining: boolean;
}

/** Never draining: for an app built without a server, as tests build it. @example createApp({ ...deps, lifecycle: SERVING }); */
export const SERVING: DrainState = Object.freeze({ draining: false });

/**
 * How long a connection may take over each part of its life. Each one frees a socket that a client holds
 * without using it, so that no client can keep a server (or its shutdown) waiting.
 *
 * @example
 * const timeouts: ServeTimeouts = { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000, socketIdleMs: 60_000 };
 */
export interface ServeTimeouts {
  /** From connecting, or from the end of the previous answer, to the last header line. Default 10 s. */
  headersMs?: number;
  /** From connecting to the whole request, body included. Default 30 s. */
  requestMs?: number;
  /** How long an idle keep-alive connection is kept open. Default 5 s. */
  keepAliveMs?: number;
  /** The longest a socket may stay silent in either direction, e.g. a client that stops reading. Default 60 s. */
  socketIdleMs?: number;
}

/**
 * Where and how to listen.
 *
 * @example
 * const options: ListenOptions = { hostname: '127.0.0.1', port: 3001, timeouts: { headersMs: 5_000 } };
 */
export interface ListenOptions {
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  timeouts?: ServeTimeouts;
}

/**
 * Where the server listens, once it does.
 *
 * @example
 * const { url } = await lifecycle.listen(getRequestListener(app.fetch), { hostname: '127.0.0.1', port: 0 });
 * // url: 'http://127.0.0.1:41234'
 */
export interface Listening {
  url: string;
  port: number;
}

/**
 * What a shutdown did: how long it took, how many requests in flight finished and how many were cut at the
 * drain deadline.
 *
 * @example
 * const { ms, finished, cut } = await lifecycle.shutdown('SIGTERM');
 */
export interface ShutdownSummary {
  reason: string;
  ms: number;
  finished: number;
  cut: number;
}

/**
 * @example
 * const lifecycle = new Lifecycle({ log: jsonLogger(), drainMs: 10_000 });
 */
export interface LifecycleOptions {
  log: Logger;
  /** The longest a shutdown waits for requests in flight before it closes their connections. Default 10 s. */
  drainMs?: number;
}

/** The default drain time, in milliseconds. */
export const DEFAULT_DRAIN_MS = 10_000;

interface Connection {
  /** Requests dispatched on this socket whose answer has not finished. */
  active: number;
  /** Requests dispatched on this socket so far. */
  served: number;
}

/**
 * One process's HTTP server from start to exit, the same for the visualization server and the portal.
 *
 * `listen` serves a Node request listener (for a Hono app, `getRequestListener(app.fetch)` of
 * `@hono/node-server`) with timeouts that free silent sockets: a client that connects and sends
 * nothing, or sends its headers a byte at a time, is answered 408 and closed after `headersMs`.
 *
 * `shutdown` drains: the listening socket is closed at once, and sockets that never completed a request
 * (silent, or still sending their first headers) are closed. Requests in flight run to completion and their
 * answers carry `Connection: close`. A request that arrives on a kept-alive connection meanwhile reaches the
 * app, which sees `draining` and answers 503, also with `Connection: close`, so a client or load balancer learns
 * to go elsewhere instead of meeting a reset. Idle kept-alive connections close when their keep-alive time runs
 * out (the `Keep-Alive: timeout` the client was told), not earlier: closing them at once would cross requests
 * already on their way (RFC 9112 §9.6 leaves that race to retries). Once every connection is gone, or after
 * `drainMs`, whichever comes first (then the remaining connections are closed), the returned promise
 * resolves, and only then should the app close what requests use (datasets, databases).
 *
 * @example
 * const lifecycle = new Lifecycle({ log });
 * const app = createApp({ ...deps, lifecycle }); // reads lifecycle.draining
 * const { url } = await lifecycle.listen(getRequestListener(app.fetch), { hostname: '127.0.0.1', port: 3001 });
 * lifecycle.exitOnSignals(() => datasets.close());
 */
export class Lifecycle implements DrainState {
  readonly #log: Logger;
  readonly #drainMs: number;
  #server: Server | undefined;
  #state: 'idle' | 'serving' | 'draining' | 'stopped' = 'idle';
  readonly #connections = new Map<Socket, Connection>();
  readonly #inFlight = new Set<ServerResponse>();
  #finished = 0;
  #shutdown: Promise<ShutdownSummary> | undefined;
  readonly #drainStarted = new AbortController();

  constructor(options: LifecycleOptions) {
    const drainMs = options.drainMs ?? DEFAULT_DRAIN_MS;
    if (!Number.isFinite(drainMs) || drainMs < 0) throw new RangeError('drainMs must be a duration in ms');
    this.#log = options.log;
    this.#drainMs = drainMs;
  }

  /** True from the start of a shutdown on. */
  get draining(): boolean {
    return this.#state === 'draining' || this.#state === 'stopped';
  }

  /**
   * Aborted when a shutdown starts, for work that would otherwise hold a request until the drain deadline: a long
   * poll answers at once instead, and its client asks again elsewhere.
   *
   * @example
   * lifecycle.drainSignal.addEventListener('abort', () => feed.close(), { once: true });
   */
  get drainSignal(): AbortSignal {
    return this.#drainStarted.signal;
  }

  /** Requests being answered now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Serves `handle` and resolves once the port is open. One server per lifecycle.
   *
   * @example
   * const { url, port } = await lifecycle.listen(getRequestListener(app.fetch), { hostname: '127.0.0.1', port: 0 });
   */
  listen(handle: RequestListener, options: ListenOptions): Promise<Listening> {
    if (this.#state !== 'idle') return Promise.reject(new Error('this lifecycle already has a server'));
    this.#state = 'serving';
    const t = options.timeouts ?? {};
    const headersMs = t.headersMs ?? 10_000;
    const requestMs = Math.max(t.requestMs ?? 30_000, headersMs);
    const server = createServer(
      {
        headersTimeout: headersMs,
        requestTimeout: requestMs,
        keepAliveTimeout: t.keepAliveMs ?? 5_000,
        // Node checks the two timeouts above on this interval (30 s by default), which would let a silent
        // socket live that much longer than `headersMs`.
        connectionsCheckingInterval: Math.min(1_000, headersMs),
      },
      (req, res) => this.#dispatch(req, res, handle),
    );
    server.setTimeout(t.socketIdleMs ?? 60_000);
    server.on('connection', (socket: Socket) => {
      if (this.draining) {
        socket.destroy();
        return;
      }
      this.#connections.set(socket, { active: 0, served: 0 });
      socket.once('close', () => this.#connections.delete(socket));
    });
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.hostname, () => {
        server.off('error', reject);
        const address = server.address() as AddressInfo;
        const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        resolve({ url: `http://${host}:${address.port}`, port: address.port });
      });
    });
  }

  #dispatch(req: IncomingMessage, res: ServerResponse, handle: RequestListener): void {
    const socket = req.socket;
    const connection = this.#connections.get(socket);
    if (connection !== undefined) {
      connection.active++;
      connection.served++;
    }
    this.#inFlight.add(res);
    // Node sends `Connection: close` and closes the socket after this answer.
    if (this.draining) res.shouldKeepAlive = false;
    res.once('close', () => {
      this.#inFlight.delete(res);
      if (connection !== undefined) connection.active--;
      if (!this.draining) return;
      this.#finished++;
      if (connection !== undefined && connection.active === 0) socket.end();
    });
    handle(req, res);
  }

  /**
   * Drains and stops the server (see the class). Idempotent: every call gets the same summary.
   *
   * @example
   * process.once('SIGTERM', () => lifecycle.shutdown('SIGTERM').then(() => datasets.close()));
   */
  shutdown(reason = 'shutdown'): Promise<ShutdownSummary> {
    this.#shutdown ??= this.#drain(reason);
    return this.#shutdown;
  }

  async #drain(reason: string): Promise<ShutdownSummary> {
    const started = performance.now();
    const server = this.#server;
    this.#state = 'draining';
    if (server === undefined) {
      this.#state = 'stopped';
      this.#drainStarted.abort();
      return { reason, ms: 0, finished: 0, cut: 0 };
    }
    this.#log.info('draining', {
      reason,
      inFlight: this.#inFlight.size,
      connections: this.#connections.size,
      drainMs: this.#drainMs,
    });
    // net.Server's close stops accepting and waits for the connections. http.Server's own close() would also
    // close idle kept-alive connections at once and stop enforcing the header timeout; neither is wanted here.
    const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
    for (const res of this.#inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
    for (const [socket, connection] of this.#connections) {
      if (connection.served === 0) socket.destroy();
    }
    // Last: what hears it may answer at once, and its answer must already say `Connection: close`.
    this.#drainStarted.abort();

    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), this.#drainMs);
    });
    const outcome = await Promise.race([closed.then(() => 'drained' as const), deadline]);
    clearTimeout(timer);
    let cut = 0;
    if (outcome === 'deadline') {
      cut = this.#inFlight.size;
      for (const socket of this.#connections.keys()) socket.destroy();
      await closed;
    }
    // Clears http.Server's timeout checks; the listening socket is already closed, hence the ignored error.
    server.close(() => undefined);
    this.#state = 'stopped';
    const summary = { reason, ms: Math.round(performance.now() - started), finished: this.#finished, cut };
    if (cut > 0) this.#log.warn('stopped', { ...summary, message: 'the drain time ran out' });
    else this.#log.info('stopped', summary);
    return summary;
  }

  /**
   * On SIGTERM or SIGINT: drain, run `cleanup` (close what requests used), and exit 0. A second signal exits
   * at once with 1, for an operator who will not wait.
   *
   * @example
   * lifecycle.exitOnSignals(() => { datasets.close(); db.close(); });
   */
  exitOnSignals(cleanup: () => void | Promise<void>, options: SignalOptions = {}): void {
    const exit = options.exit ?? ((code: number) => process.exit(code));
    const events = options.events ?? process;
    let received = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (received) {
        this.#log.warn('forced_exit', { signal });
        exit(1);
        return;
      }
      received = true;
      this.shutdown(signal)
        .then(() => cleanup())
        .then(
          () => exit(0),
          (error: unknown) => {
            this.#log.error('shutdown_failed', describeError(error));
            exit(1);
          },
        );
    };
    for (const signal of ['SIGTERM', 'SIGINT'] as const) events.on(signal, () => onSignal(signal));
  }
}

/**
 * Where {@link Lifecycle.exitOnSignals} hears signals and how it exits: the process, unless a test says otherwise.
 *
 * @example
 * lifecycle.exitOnSignals(cleanup, { events: new EventEmitter(), exit: (code) => codes.push(code) });
 */
export interface SignalOptions {
  exit?: (code: number) => void;
  events?: { on(signal: NodeJS.Signals, listener: () => void): unknown };
}
