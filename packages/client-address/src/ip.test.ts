import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalIp, parseIp, sameAddress, sameNetwork } from './ip.js';

describe('parseIp', () => {
  it.each([
    ['10.1.2.3', 4, [10, 1, 2, 3]],
    ['::ffff:10.1.2.3', 4, [10, 1, 2, 3]],
    ['::FFFF:a01:203', 4, [10, 1, 2, 3]],
    ['0:0:0:0:0:ffff:10.1.2.3', 4, [10, 1, 2, 3]],
    ['::1', 6, [...Array<number>(15).fill(0), 1]],
    ['::', 6, Array<number>(16).fill(0)],
  ])('parses %s', (text, family, bytes) => {
    expect(parseIp(text)).toEqual({ family, bytes, zone: '' });
  });

  it('keeps the deprecated IPv4-compatible form as IPv6', () => {
    expect(parseIp('::10.1.2.3')?.family).toBe(6);
  });

  it.each([
    '',
    '10.1.2',
    '10.1.2.3.4',
    '256.1.1.1',
    '01.2.3.4',
    ' 10.1.2.3',
    '1::2::3',
    'host',
    '10.1.2.3/24',
    42,
    undefined,
  ])('refuses %j', (text) => {
    expect(parseIp(text)).toBeUndefined();
  });
});

describe('canonicalIp', () => {
  it.each([
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::ffff:a01:203', '10.1.2.3'],
    ['fe80::1%eth0', 'fe80::1%eth0'],
    ['0:0:0:0:0:0:0:0', '::'],
  ])('writes %s as %s (RFC 5952)', (text, canonical) => {
    expect(canonicalIp(text)).toBe(canonical);
  });
});

describe('sameAddress', () => {
  it.each([
    ['10.1.2.3', '10.1.2.3', true],
    ['10.1.2.3', '::ffff:10.1.2.3', true],
    ['::ffff:a01:203', '10.1.2.3', true],
    ['2001:db8::1', '2001:0DB8:0:0:0:0:0:1', true],
    ['10.1.2.3', '10.1.2.30', false],
    ['10.1.2.3', '::10.1.2.3', false],
    ['::1', '127.0.0.1', false],
    ['fe80::1%eth0', 'fe80::1%eth1', false],
    ['fe80::1%eth0', 'fe80::1', false],
    ['not an ip', 'not an ip', false],
  ])('%s and %s: %s', (a, b, same) => {
    expect(sameAddress(a, b)).toBe(same);
    expect(sameAddress(b, a)).toBe(same);
  });
});

describe('sameNetwork', () => {
  it.each([
    ['10.1.2.3', '10.1.2.0', true],
    ['10.1.2.3', '10.1.2.255', true],
    ['10.1.2.3', '10.1.3.0', false],
    ['10.1.2.3', '10.1.1.255', false],
    // A string prefix would call these one network.
    ['10.1.2.3', '10.1.23.4', false],
    ['10.1.2.3', '10.1.20.3', false],
    ['::ffff:10.1.2.3', '10.1.2.99', true],
    ['2001:db8:0:1::1', '2001:db8:0:1:ffff:ffff:ffff:ffff', true],
    ['2001:db8:0:1::1', '2001:db8:0:1::', true],
    ['2001:db8:0:1::1', '2001:db8:0:2::', false],
    ['2001:db8:0:1::1', '2001:db8:0:0:ffff:ffff:ffff:ffff', false],
    ['2001:db8:0:1::1', '2001:db8:0:10::1', false],
    ['2001:db8::1', '10.1.2.3', false],
    ['10.1.2.3', 'garbage', false],
  ])('%s and %s: %s', (a, b, same) => {
    expect(sameNetwork(a, b)).toBe(same);
    expect(sameNetwork(b, a)).toBe(same);
  });
});

describe('addresses, for random input', () => {
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
  const v6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 });
  const text4 = (b: readonly number[]): string => b.join('.');
  const text6 = (w: readonly number[]): string => w.map((x) => x.toString(16)).join(':');

  it('puts two IPv4 addresses in one /24 exactly when their first three bytes agree', () => {
    fc.assert(
      fc.property(v4, v4, (a, b) => {
        const same = a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
        expect(sameNetwork(text4(a), text4(b))).toBe(same);
        expect(sameNetwork(`::ffff:${text4(a)}`, text4(b))).toBe(same);
      }),
    );
  });

  it('puts two IPv6 addresses in one /64 exactly when their first four words agree', () => {
    fc.assert(
      fc.property(v6, v6, (a, b) => {
        const same = a.slice(0, 4).every((w, i) => w === b[i]);
        expect(sameNetwork(text6(a), text6(b))).toBe(same);
      }),
    );
  });

  it('reads the canonical form back as the same address', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (ip) => {
        const canonical = canonicalIp(ip);
        expect(canonical).toBeDefined();
        expect(sameAddress(canonical as string, ip)).toBe(true);
        expect(canonicalIp(canonical as string)).toBe(canonical);
      }),
    );
  });
});
