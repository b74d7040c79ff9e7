import { BlockList, isIP } from 'node:net';

/**
 * Works out the client address for the IP check. The socket's peer is the client unless it is a proxy the
 * operator named in `trustProxy`; then X-Forwarded-For is read from the right, skipping trusted hops, and the
 * first untrusted address is the client. Hops left of it were written by the client and prove nothing.
 */
export interface ClientAddressResolver {
  (socketAddress: string | undefined, forwardedFor: string | undefined): string | undefined;
}

/** Parses `trustProxy` entries (addresses or CIDR ranges) into a resolver. Throws on a malformed entry. */
export function clientAddressResolver(trustProxy: readonly string[]): ClientAddressResolver {
  const trusted = new BlockList();
  for (const entry of trustProxy) {
    const [address, bits] = entry.split('/') as [string, string | undefined];
    const family = isIP(address);
    if (family === 0) throw new Error(`${entry} is not an IP address or CIDR range`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) trusted.addAddress(address, type);
    else {
      const prefix = Number(bits);
      if (!/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128))
        throw new Error(`${entry} has a bad prefix length`);
      trusted.addSubnet(address, prefix, type);
    }
  }
  const isTrusted = (address: string): boolean => {
    const plain = unmapped(address);
    const family = isIP(plain);
    return family !== 0 && trusted.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  };

  return (socketAddress, forwardedFor) => {
    if (socketAddress === undefined) return undefined;
    const peer = unmapped(socketAddress);
    if (trustProxy.length === 0 || !isTrusted(peer) || forwardedFor === undefined) return peer;
    const hops = forwardedFor.split(',').map((hop) => unmapped(hop.trim()));
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i] as string;
      if (isIP(hop) === 0) return peer; // a garbled chain: trust nothing in it
      if (!isTrusted(hop)) return hop;
    }
    return peer;
  };
}

/** `::ffff:10.0.0.1` → `10.0.0.1`, so that an IPv4 client looks the same on a dual-stack socket. */
function unmapped(address: string): string {
  const match = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return match === null ? address : (match[1] as string);
}
