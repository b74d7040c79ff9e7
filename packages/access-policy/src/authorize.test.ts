import type { DatasetTokenClaims } from '@pp-embed/dataset-token';
import { describe, expect, it } from 'vitest';
import { jwt, load, SAMPLES } from '../test/helpers.js';
import { authorize } from './authorize.js';
import type { CredentialEntry } from './entries.js';

function entry(extra: Record<string, unknown> = {}): CredentialEntry {
  const r = load({ TermdbTest: { '*': { '*': jwt(extra) } } }).resolve(
    'TermdbTest',
    SAMPLES,
    'https://portal.example.org',
  );
  if (r.kind !== 'needs-token') throw new Error('expected a token entry');
  return r.entry;
}

function claims(overrides: Partial<DatasetTokenClaims> = {}): DatasetTokenClaims {
  return {
    datasets: ['TermdbTest'],
    email: 'ana@example.org',
    iat: 1,
    exp: 2,
    ip: '203.0.113.7',
    ...overrides,
  };
}

const STRICT = entry();
const LOOSE = entry({ looseIpCheck: true });
const COHORTS = entry({ dsnames: [{ id: 'ABC', label: 'Cohort ABC' }, { id: 'XYZ' }] });

describe('authorize: datasets', () => {
  it.each<[string, CredentialEntry, string, readonly string[], boolean]>([
    ['the requested label is granted', STRICT, 'TermdbTest', ['TermdbTest'], true],
    ['one of several granted labels', STRICT, 'TermdbTest', ['Other', 'TermdbTest'], true],
    ['another dataset only', STRICT, 'TermdbTest', ['Other'], false],
    ['a label in another case', STRICT, 'TermdbTest', ['termdbtest'], false],
    ['a label with a trailing space', STRICT, 'TermdbTest', ['TermdbTest '], false],
    ['a label that is a prefix', STRICT, 'TermdbTest', ['Termdb'], false],
    ['every dsnames id', COHORTS, 'TermdbTest', ['XYZ', 'ABC'], true],
    ['dsnames ids without the label itself', COHORTS, 'TermdbTest', ['ABC', 'XYZ'], true],
    ['only some dsnames ids', COHORTS, 'TermdbTest', ['ABC', 'TermdbTest'], false],
    ['the label but no dsnames id', COHORTS, 'TermdbTest', ['TermdbTest'], false],
  ])('%s: granted=%s', (_name, e, dataset, datasets, granted) => {
    const result = authorize(e, claims({ datasets }), { dataset, clientIp: '203.0.113.7' });
    expect(result.ok).toBe(granted);
    if (!result.ok) expect(result.code).toBe('dataset_not_granted');
  });

  it('names the missing ids in the reason for logs', () => {
    expect(
      authorize(COHORTS, claims({ datasets: ['ABC'] }), { dataset: 'TermdbTest', clientIp: '203.0.113.7' }),
    ).toEqual({
      ok: false,
      code: 'dataset_not_granted',
      reason: 'the "datasets" claim lacks "XYZ"',
    });
  });
});

describe('authorize: client address', () => {
  it.each<[string, CredentialEntry, string | undefined, string | undefined, boolean]>([
    // strict
    ['strict: the same IPv4 address', STRICT, '203.0.113.7', '203.0.113.7', true],
    ['strict: another address of the same /24', STRICT, '203.0.113.7', '203.0.113.8', false],
    ['strict: the IPv4-mapped form of the client', STRICT, '203.0.113.7', '::ffff:203.0.113.7', true],
    ['strict: the IPv4-mapped claim of an IPv4 client', STRICT, '::ffff:cb00:7107', '203.0.113.7', true],
    ['strict: IPv6 written two ways', STRICT, '2001:db8::7', '2001:0DB8:0:0:0:0:0:7', true],
    ['strict: another IPv6 address of the same /64', STRICT, '2001:db8::7', '2001:db8::8', false],
    ['strict: no ip claim', STRICT, undefined, '203.0.113.7', false],
    ['strict: unknown client address', STRICT, '203.0.113.7', undefined, false],
    ['strict: a client address that is not an address', STRICT, '203.0.113.7', 'unknown', false],
    // loose
    ['loose: no ip claim', LOOSE, undefined, '203.0.113.7', true],
    ['loose: no ip claim and no client address', LOOSE, undefined, undefined, true],
    ['loose: the same address', LOOSE, '203.0.113.7', '203.0.113.7', true],
    ['loose: the bottom of the /24', LOOSE, '203.0.113.7', '203.0.113.0', true],
    ['loose: the top of the /24', LOOSE, '203.0.113.7', '203.0.113.255', true],
    ['loose: just below the /24', LOOSE, '203.0.113.7', '203.0.112.255', false],
    ['loose: just above the /24', LOOSE, '203.0.113.7', '203.0.114.0', false],
    ['loose: a string prefix that is another network', LOOSE, '10.1.2.3', '10.1.23.4', false],
    ['loose: the mapped form in the same /24', LOOSE, '203.0.113.7', '::ffff:203.0.113.200', true],
    ['loose: the bottom of the /64', LOOSE, '2001:db8:0:1::7', '2001:db8:0:1::', true],
    ['loose: the top of the /64', LOOSE, '2001:db8:0:1::7', '2001:db8:0:1:ffff:ffff:ffff:ffff', true],
    ['loose: just below the /64', LOOSE, '2001:db8:0:1::7', '2001:db8:0:0:ffff:ffff:ffff:ffff', false],
    ['loose: just above the /64', LOOSE, '2001:db8:0:1::7', '2001:db8:0:2::', false],
    ['loose: IPv4 claim, IPv6 client', LOOSE, '203.0.113.7', '2001:db8::7', false],
    ['loose: unknown client address', LOOSE, '203.0.113.7', undefined, false],
  ])('%s: granted=%s', (_name, e, ip, clientIp, granted) => {
    const result = authorize(e, claims({ ip }), { dataset: 'TermdbTest', clientIp });
    expect(result.ok).toBe(granted);
    if (!result.ok) expect(result.code).toBe('ip_mismatch');
  });

  it('writes addresses canonically in the reason', () => {
    expect(
      authorize(STRICT, claims({ ip: '2001:0db8::0007' }), {
        dataset: 'TermdbTest',
        clientIp: '::ffff:cb00:7108',
      }),
    ).toEqual({
      ok: false,
      code: 'ip_mismatch',
      reason: 'the client address 203.0.113.8 is not the "ip" claim 2001:db8::7',
    });
  });

  it('checks datasets before the address', () => {
    const result = authorize(STRICT, claims({ datasets: ['Other'], ip: '198.51.100.1' }), {
      dataset: 'TermdbTest',
      clientIp: '203.0.113.7',
    });
    expect(result).toMatchObject({ ok: false, code: 'dataset_not_granted' });
  });
});
