import type { IncomingMessage } from 'node:http';
import type { ProxyTrust } from '@pp-embed/client-address';
import type { Context } from 'hono';
import type { AppEnv } from './env.js';

/**
 * One request header, as `Headers.get` would give it: absent is undefined, and repeated values are joined with
 * ", " (so that two token headers can be told from one). Read from Node's parsed request when there is one,
 * which spares building a WHATWG `Headers` object for every request; `app.request()` in tests has none (its
 * `incoming`, if any, carries only a socket address).
 *
 * @example
 * requestHeader(c, 'x-ds-access-token');
 */
export function requestHeader(c: Context<AppEnv>, name: string): string | undefined {
  // headersDistinct keeps every value of a repeated header (Node drops repeats of some, e.g. Authorization).
  const distinct = (c.env?.incoming as Partial<IncomingMessage> | undefined)?.headersDistinct;
  if (distinct === undefined) return c.req.header(name);
  return distinct[name]?.join(', ');
}

/**
 * The address the request came from, behind the trusted proxies (the right-most untrusted hop).
 *
 * @example
 * const address = clientAddress(c, deps.proxies); // '203.0.113.7'
 */
export function clientAddress(c: Context<AppEnv>, proxies: ProxyTrust): string | undefined {
  return proxies.clientAddress(c.env?.incoming?.socket?.remoteAddress, requestHeader(c, 'x-forwarded-for'));
}
