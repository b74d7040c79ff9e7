import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
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
  close(): Promise<void>;
}

/**
 * Serves the app over HTTP and resolves once it listens (port 0 picks a free port).
 *
 * @example
 * const { url } = await listen(createApp(deps), { host: '127.0.0.1', port: 3000 });
 */
export function listen(
  app: Hono<PortalEnv>,
  options: { host: string; port: number },
): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: app.fetch, hostname: options.host, port: options.port },
      (info: AddressInfo) => {
        const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
        resolve({
          url: `http://${host}:${info.port}`,
          port: info.port,
          close: () =>
            new Promise<void>((done, fail) => {
              server.close((error) => (error ? fail(error) : done()));
              // Keep-alive connections would otherwise hold close() open until they time out.
              if ('closeAllConnections' in server) server.closeAllConnections();
            }),
        });
      },
    );
    server.once('error', reject);
  });
}
