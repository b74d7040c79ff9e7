import { describe, expect, it } from 'vitest';
import { proxyTrust, trustedProxyProblems } from './proxy.js';

describe('proxyTrust(...).clientAddress', () => {
  it('uses the socket peer and ignores X-Forwarded-For when no proxy is trusted', () => {
    const { clientAddress } = proxyTrust([]);
    expect(clientAddress('198.51.100.4', '203.0.113.9')).toBe('198.51.100.4');
    expect(clientAddress('::ffff:198.51.100.4', undefined)).toBe('198.51.100.4');
  });

  it('takes the right-most untrusted hop behind a trusted proxy', () => {
    const { clientAddress } = proxyTrust(['10.0.0.0/8', '192.0.2.10']);
    // The client wrote "1.1.1.1" itself; the proxies appended the real hops.
    expect(clientAddress('10.1.1.1', '1.1.1.1, 203.0.113.9, 192.0.2.10')).toBe('203.0.113.9');
    expect(clientAddress('10.1.1.1', '203.0.113.9')).toBe('203.0.113.9');
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    const { clientAddress } = proxyTrust(['10.0.0.0/8']);
    expect(clientAddress('198.51.100.4', '10.0.0.7')).toBe('198.51.100.4');
  });

  it('falls back to the peer on a garbled or all-trusted chain', () => {
    const { clientAddress } = proxyTrust(['10.0.0.0/8']);
    expect(clientAddress('10.0.0.1', 'not-an-ip, 203.0.113.9')).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.1', '203.0.113.9, garbage')).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', '10.0.0.2, 10.0.0.3')).toBe('10.0.0.1');
  });

  it('handles IPv6 proxies and clients, and answers in canonical form', () => {
    const { clientAddress } = proxyTrust(['2001:db8::/32']);
    expect(clientAddress('2001:db8::1', '2001:db8:ffff::9, 2A00:1450:0::1')).toBe('2a00:1450::1');
  });

  it('matches an IPv4-mapped peer against an IPv4 range (a dual-stack socket)', () => {
    const trust = proxyTrust(['10.0.0.0/8']);
    expect(trust.clientAddress('::ffff:10.0.0.5', '203.0.113.9')).toBe('203.0.113.9');
    expect(trust.trusts('::ffff:10.0.0.5')).toBe(true);
  });

  it('knows no address without a peer', () => {
    expect(proxyTrust(['10.0.0.0/8']).clientAddress(undefined, '203.0.113.9')).toBeUndefined();
  });
});

describe('proxyTrust(...).trusts', () => {
  it('believes only the configured ranges', () => {
    const trust = proxyTrust(['10.0.0.0/8', '2001:db8::1']);
    expect(trust.trusts('10.200.0.1')).toBe(true);
    expect(trust.trusts('2001:db8::1')).toBe(true);
    expect(trust.trusts('11.0.0.1')).toBe(false);
    expect(trust.trusts(undefined)).toBe(false);
    expect(proxyTrust([]).trusts('127.0.0.1')).toBe(false);
  });
});

describe('trusted proxy entries', () => {
  it.each(['10.0.0.0/33', 'proxy.example.org', '10.0.0.0/x', '10.0.0.1/8/8', 'fe80::1%eth0'])(
    'refuses the entry %s',
    (entry) => {
      expect(() => proxyTrust([entry])).toThrow(entry);
      expect(trustedProxyProblems(['10.0.0.0/8', entry])).toEqual([
        { index: 1, message: expect.any(String) },
      ]);
    },
  );

  it('accepts addresses and ranges of both families', () => {
    expect(trustedProxyProblems(['10.0.0.1', '10.0.0.0/8', '::1', '2001:db8::/32', '0.0.0.0/0'])).toEqual([]);
  });
});
