import { describe, expect, it } from 'vitest';
import { clientAddressResolver } from './client-ip.js';

describe('clientAddressResolver', () => {
  it('uses the socket peer and ignores X-Forwarded-For when no proxy is trusted', () => {
    const resolve = clientAddressResolver([]);
    expect(resolve('198.51.100.4', '203.0.113.9')).toBe('198.51.100.4');
    expect(resolve('::ffff:198.51.100.4', undefined)).toBe('198.51.100.4');
  });

  it('takes the right-most untrusted hop behind a trusted proxy', () => {
    const resolve = clientAddressResolver(['10.0.0.0/8', '192.0.2.10']);
    // The client wrote "1.1.1.1" itself; the proxies appended the real hops.
    expect(resolve('10.1.1.1', '1.1.1.1, 203.0.113.9, 192.0.2.10')).toBe('203.0.113.9');
    expect(resolve('10.1.1.1', '203.0.113.9')).toBe('203.0.113.9');
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    const resolve = clientAddressResolver(['10.0.0.0/8']);
    expect(resolve('198.51.100.4', '10.0.0.7')).toBe('198.51.100.4');
  });

  it('falls back to the peer on a garbled or all-trusted chain', () => {
    const resolve = clientAddressResolver(['10.0.0.0/8']);
    expect(resolve('10.0.0.1', 'not-an-ip, 203.0.113.9')).toBe('203.0.113.9');
    expect(resolve('10.0.0.1', '203.0.113.9, garbage')).toBe('10.0.0.1');
    expect(resolve('10.0.0.1', '10.0.0.2, 10.0.0.3')).toBe('10.0.0.1');
  });

  it('handles IPv6 proxies and clients', () => {
    const resolve = clientAddressResolver(['2001:db8::/32']);
    expect(resolve('2001:db8::1', '2001:db8:ffff::9, 2a00:1450::1')).toBe('2a00:1450::1');
  });

  it.each(['10.0.0.0/33', 'proxy.example.org', '10.0.0.0/x'])('refuses the entry %s', (entry) => {
    expect(() => clientAddressResolver([entry])).toThrow(entry);
  });
});
