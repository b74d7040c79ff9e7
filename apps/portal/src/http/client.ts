import type { ProxyTrust } from '@pp-embed/client-address';
import type { Context } from 'hono';

function peerOf(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress;
}

/**
 * The address a request came from, by the rule the visualization server checks a token's `ip` with: the
 * socket's peer, or behind trusted proxies the right-most `X-Forwarded-For` hop that is not one of them.
 * Undefined when no address is known (a test request with no socket).
 *
 * @example
 * clientAddress(c, config.proxies); // '203.0.113.7'
 */
export function clientAddress(c: Context, proxies: ProxyTrust): string | undefined {
  return proxies.clientAddress(peerOf(c), c.req.header('x-forwarded-for'));
}

/**
 * Whether the browser reached the portal over https: the configured public URL decides when there is one; else
 * the request itself, or `X-Forwarded-Proto` when a trusted proxy sent it.
 *
 * @example
 * if (isHttps(c, config)) cookieName = '__Host-pp_session';
 */
export function isHttps(c: Context, config: { publicUrl: string | undefined; proxies: ProxyTrust }): boolean {
  if (config.publicUrl !== undefined) return config.publicUrl.startsWith('https:');
  if (config.proxies.trusts(peerOf(c))) {
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
  config: { publicUrl: string | undefined; proxies: ProxyTrust },
): string {
  if (config.publicUrl !== undefined) return config.publicUrl;
  const url = new URL(c.req.url);
  const forwarded = config.proxies.trusts(peerOf(c)) ? c.req.header('x-forwarded-host') : undefined;
  return `${isHttps(c, config) ? 'https' : 'http'}://${forwarded ?? url.host}`;
}
