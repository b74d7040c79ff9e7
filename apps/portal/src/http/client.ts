import { isIP } from 'node:net';
import type { Context } from 'hono';

/** `::ffff:10.0.0.1` → `10.0.0.1`, so that an IPv4 client looks the same on a dual-stack socket. */
function unmapped(address: string): string {
  const match = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return match === null ? address : (match[1] as string);
}

/**
 * The address a request came from. Without a proxy, the socket's peer. With `trustProxy` (exactly one reverse
 * proxy in front), the last hop of `X-Forwarded-For`, which that proxy appended; hops left of it were written by
 * the client and prove nothing. Undefined when no address is known (a test request with no socket).
 *
 * @example
 * clientAddress(c, config.trustProxy); // '203.0.113.7'
 */
export function clientAddress(c: Context, trustProxy: boolean): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  const peer = env?.incoming?.socket?.remoteAddress;
  if (trustProxy) {
    const hops = c.req.header('x-forwarded-for')?.split(',');
    const last = hops?.[hops.length - 1]?.trim();
    if (last !== undefined && isIP(unmapped(last)) !== 0) return unmapped(last);
  }
  return peer === undefined || isIP(unmapped(peer)) === 0 ? undefined : unmapped(peer);
}

/**
 * Whether the browser reached the portal over https: the configured public URL decides when there is one; else
 * the request itself, or the proxy's `X-Forwarded-Proto` when it is trusted.
 *
 * @example
 * if (isHttps(c, config)) cookieName = '__Host-pp_session';
 */
export function isHttps(c: Context, config: { publicUrl: string | undefined; trustProxy: boolean }): boolean {
  if (config.publicUrl !== undefined) return config.publicUrl.startsWith('https:');
  if (config.trustProxy) {
    const proto = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
    if (proto !== undefined) return proto === 'https';
  }
  return new URL(c.req.url).protocol === 'https:';
}

/**
 * The origin the browser sees for this portal, which a same-origin request's `Origin` header must equal.
 *
 * @example
 * expectedOrigin(c, config); // 'https://portal.example.org'
 */
export function expectedOrigin(
  c: Context,
  config: { publicUrl: string | undefined; trustProxy: boolean },
): string {
  if (config.publicUrl !== undefined) return config.publicUrl;
  const url = new URL(c.req.url);
  const host = (config.trustProxy ? c.req.header('x-forwarded-host') : undefined) ?? url.host;
  return `${isHttps(c, config) ? 'https' : 'http'}://${host}`;
}
