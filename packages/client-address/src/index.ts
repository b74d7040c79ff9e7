/**
 * `@pp-embed/client-address`: one rule for client addresses, shared by the portal (which pins a token to the
 * address it sees) and the visualization server (which checks the token against the address it sees). If the
 * two read proxies differently, a researcher behind a proxy is told `ip_mismatch`.
 *
 * @example
 * import { proxyTrust, sameAddress } from '@pp-embed/client-address';
 * const trust = proxyTrust(['10.0.0.0/8']);
 * const client = trust.clientAddress(socket.remoteAddress, request.headers['x-forwarded-for']);
 * sameAddress(client, claims.ip);
 * @module
 */
export { canonicalIp, parseIp, type ParsedIp, sameAddress, sameNetwork } from './ip.js';
export { proxyTrust, type ProxyTrust, trustedProxyProblems } from './proxy.js';
