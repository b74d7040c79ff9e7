import type { DatasetTokenClaims } from '@pp-embed/dataset-token';
import { describe, expect, it } from 'vitest';
import { RevocationList } from './list.js';
import { cutoffAfter, parseRevocation, type Revocation, revocationUntil, subjectHash } from './revocation.js';

const T = 1_763_899_200;
const ana = subjectHash('ana@example.org');
const claims = (overrides: Partial<DatasetTokenClaims> = {}): DatasetTokenClaims => ({
  datasets: ['PPDemo', 'TermdbTest'],
  email: 'ana@example.org',
  iat: T - 10,
  exp: T + 590,
  jti: 'jti-1',
  ...overrides,
});

describe('RevocationList', () => {
  it('withdraws one token by jti, and no other', () => {
    const list = new RevocationList([
      { type: 'token', jti: 'jti-1', exp: T + 600, at: T, reason: 'sign-out' },
    ]);
    expect(list.match(claims(), ['PPDemo'])).toMatchObject({ type: 'token', reason: 'sign-out' });
    expect(list.match(claims({ jti: 'jti-2' }), ['PPDemo'])).toBeUndefined();
  });

  it("withdraws a user's tokens issued before the cutoff, not those issued after", () => {
    const list = new RevocationList([
      { type: 'user', sub: ana, before: T, at: T - 1, reason: 'password-change' },
    ]);
    expect(list.match(claims({ iat: T - 1 }), ['PPDemo'])?.type).toBe('user');
    expect(list.match(claims({ iat: T }), ['PPDemo'])).toBeUndefined();
    expect(list.match(claims({ email: 'ben@example.org', iat: T - 1 }), ['PPDemo'])).toBeUndefined();
  });

  it('withdraws a grant only where the request needs that dataset', () => {
    const list = new RevocationList([
      { type: 'grant', sub: ana, dataset: 'TermdbTest', before: T, at: T, reason: 'grant-change' },
    ]);
    expect(list.match(claims(), ['TermdbTest'])?.type).toBe('grant');
    expect(list.match(claims(), ['PPDemo'])).toBeUndefined();
  });

  it('withdraws every token of the portal issued before an embedder cutoff', () => {
    const list = new RevocationList([{ type: 'embedder', before: T, at: T, reason: 'admin' }]);
    expect(list.match(claims({ email: 'anyone@example.org' }), ['PPDemo'])?.type).toBe('embedder');
    expect(list.match(claims({ iat: T + 1 }), ['PPDemo'])).toBeUndefined();
  });

  it('keeps the latest cutoff of several revocations of one user', () => {
    const list = new RevocationList([
      { type: 'user', sub: ana, before: T + 100, at: T + 99, reason: 'admin' },
      { type: 'user', sub: ana, before: T, at: T, reason: 'password-change' },
    ]);
    expect(list.match(claims({ iat: T + 50 }), ['PPDemo'])).toMatchObject({ reason: 'admin' });
  });
});

describe('revocation entries', () => {
  it('a cutoff covers every token minted in the same second as the revocation', () => {
    const revokedAt = T * 1000 + 999;
    expect(cutoffAfter(revokedAt)).toBe(T + 1);
    expect(cutoffAfter(T * 1000)).toBe(T + 1);
  });

  it('are dropped once every token they can match has expired', () => {
    const r: Revocation = { type: 'user', sub: ana, before: T, at: T, reason: 'admin' };
    expect(revocationUntil(r, 3600)).toBe(T + 3660);
    expect(revocationUntil({ type: 'token', jti: 'x', exp: T, at: T, reason: 'admin' }, 3600)).toBe(T + 60);
  });

  it.each<[string, unknown, RegExp]>([
    ['an unknown type', { type: 'session', at: T, reason: 'admin' }, /type/],
    ['an unknown member', { type: 'embedder', before: T, at: T, reason: 'admin', scope: 'x' }, /scope/],
    [
      'an email instead of a subject hash',
      { type: 'user', sub: 'ana@example.org', before: T, at: T, reason: 'admin' },
      /sub/,
    ],
    ['a cutoff as text', { type: 'embedder', before: String(T), at: T, reason: 'admin' }, /before/],
    ['an unknown reason', { type: 'embedder', before: T, at: T, reason: 'because' }, /reason/],
    ['a jti with a newline', { type: 'token', jti: 'a\nb', exp: T, at: T, reason: 'admin' }, /jti/],
  ])('refuses %s', (_name, value, problem) => {
    const read = parseRevocation(value);
    expect(read.ok).toBe(false);
    expect(!read.ok && read.problem).toMatch(problem);
  });
});
