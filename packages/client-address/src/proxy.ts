import { BlockList } from 'node:net';
import { canonicalIp, parseIp } from './ip.js';

/**
 * The operator's trusted reverse proxies, and what follows from them: which address a request came from, and
 * whether its `X-Forwarded-*` headers may be believed. The portal pins a token to `clientAddress`, and the
 * visualization server checks the token against its own `clientAddress`, so both read the same rule.
 */
export interface ProxyTrust {
  /**
   * The client's address. The socket's peer is the client unless it is a trusted proxy; then `X-Forwarded-For`
   * is read from the right, skipping trusted hops, and the first untrusted hop is the client. Hops left of it
   * were written by the client and prove nothing. A garbled hop on the way stops the walk at the peer. The
   * answer is in canonical form (`::ffff:10.1.2.3` is `10.1.2.3`), or undefined when no peer is known.
   */
  clientAddress(peer: string | undefined, forwardedFor: string | undefined): string | undefined;
  /** True when `peer` is a trusted proxy, so that its `X-Forwarded-Proto` and `-Host` may be believed. */
  trusts(peer: string | undefined): boolean;
  /** The ranges as configured. */
  readonly ranges: readonly string[];
}

/**
 * Says what is wrong with each entry of a trusted-proxy list (an address, or a CIDR range such as
 * `10.0.0.0/8`): index and message. Empty when every entry is sound.
 *
 * @example
 * trustedProxyProblems(['10.0.0.0/8', 'proxy.local']);
 * // [{ index: 1, message: 'expected an IP address or a CIDR range such as 10.0.0.0/8' }]
 */
export function trustedProxyProblems(ranges: readonly unknown[]): { index: number; message: string }[] {
  const problems: { index: number; message: string }[] = [];
  ranges.forEach((entry, index) => {
    const problem = rangeProblem(entry);
    if (problem !== undefined) problems.push({ index, message: problem });
  });
  return problems;
}

function rangeProblem(entry: unknown): string | undefined {
  if (typeof entry !== 'string') return 'expected an IP address or a CIDR range such as 10.0.0.0/8';
  const [address, bits, extra] = entry.split('/');
  const ip = parseIp(address);
  if (ip === undefined || extra !== undefined || ip.zone !== '')
    return 'expected an IP address or a CIDR range such as 10.0.0.0/8';
  if (bits === undefined) return undefined;
  const max = (address as string).includes(':') ? 128 : 32;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `the prefix length must be 0 to ${max}`;
  return undefined;
}

/**
 * Builds the rule from the configured ranges. Throws a TypeError naming the first bad entry; check them with
 * {@link trustedProxyProblems} first to report every one.
 *
 * @example
 * const trust = proxyTrust(['10.0.0.0/8']);
 * trust.clientAddress('10.1.1.1', '1.1.1.1, 203.0.113.9'); // '203.0.113.9' (the client wrote 1.1.1.1 itself)
 * trust.clientAddress('198.51.100.4', '10.0.0.7');         // '198.51.100.4' (not a proxy: its header is ignored)
 */
export function proxyTrust(ranges: readonly string[]): ProxyTrust {
  const list = new BlockList();
  for (const entry of ranges) {
    const problem = rangeProblem(entry);
    if (problem !== undefined) throw new TypeError(`trusted proxy ${JSON.stringify(entry)}: ${problem}`);
    const [address, bits] = entry.split('/') as [string, string | undefined];
    // Compared in canonical form, so that an IPv4-mapped peer matches an IPv4 range.
    const canonical = canonicalIp(address) as string;
    const type = canonical.includes(':') ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(canonical, type);
    else list.addSubnet(canonical, Math.min(Number(bits), type === 'ipv4' ? 32 : 128), type);
  }
  const trusted = (canonical: string): boolean =>
    ranges.length > 0 && list.check(canonical, canonical.includes(':') ? 'ipv6' : 'ipv4');

  return Object.freeze({
    ranges: Object.freeze([...ranges]),
    trusts(peer: string | undefined) {
      const canonical = peer === undefined ? undefined : canonicalIp(peer);
      return canonical !== undefined && trusted(canonical);
    },
    clientAddress(peer: string | undefined, forwardedFor: string | undefined) {
      const self = peer === undefined ? undefined : canonicalIp(peer);
      if (self === undefined) return undefined;
      if (!trusted(self) || forwardedFor === undefined) return self;
      const hops = forwardedFor.split(',');
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = canonicalIp((hops[i] as string).trim());
        if (hop === undefined) return self; // a garbled chain: trust nothing in it
        if (!trusted(hop)) return hop;
      }
      return self;
    },
  });
}
