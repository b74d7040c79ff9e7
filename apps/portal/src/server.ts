import { getRequestListener } from '@hono/node-server';
import { Lifecycle, type ServeTimeouts, silentLogger } from '@pp-embed/server-runtime';
import type { Hono } from 'hono';
import type { PortalEnv } from './http/env.js';

/**
 * A running portal server.
 *
 * @example
 * const running = await listen(app, { host: '127.0.0.1', port: 0 });
 * await fetch(`${running.url}/healthcheck`);
 * await running.close();
 */
export interface RunningServer {
  /** e.g. `http://127.0.0.1:3000`. */
  url: string;
  port: number;
  /** Drains (requests in flight finish) and stops. */
  close(): Promise<void>;
}

/**
 * Serves the app over HTTP under `lifecycle` (one made here when none is given: the app then never hears that
 * it drains) and resolves once it listens (port 0 picks a free port).
 *
 * @example
 * const lifecycle = new Lifecycle({ log: logger });
 * const { url } = await listen(createApp({ ...deps, lifecycle }), { host: '127.0.0.1', port: 3000, lifecycle });
 */
export async function listen(
  app: Hono<PortalEnv>,
  options: { host: string; port: number; lifecycle?: Lifecycle; timeouts?: ServeTimeouts },
): Promise<RunningServer> {
  const lifecycle = options.lifecycle ?? new Lifecycle({ log: silentLogger });
  const { url, port } = await lifecycle.listen(getRequestListener(app.fetch), {
    hostname: options.host,
    port: options.port,
    ...(options.timeouts !== undefined && { timeouts: options.timeouts }),
  });
  return { url, port, close: async () => void (await lifecycle.shutdown('close')) };
}
