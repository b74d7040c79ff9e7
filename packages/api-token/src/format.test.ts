import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  API_TOKEN_LENGTH,
  API_TOKEN_PATTERN,
  API_TOKEN_PREFIX,
  generateApiToken,
  isApiTokenId,
  parseApiToken,
} from './format.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

describe('personal API tokens', () => {
  it('are the prefix, a public id, a secret and a checksum, all base62, and parse back to their id', () => {
    const { token, id } = generateApiToken();
    expect(token).toMatch(/^ppat_[0-9A-Za-z]{61}$/);
    expect(token).toHaveLength(API_TOKEN_LENGTH);
    expect(token.slice(API_TOKEN_PREFIX.length, API_TOKEN_PREFIX.length + 12)).toBe(id);
    expect(isApiTokenId(id)).toBe(true);
    expect(parseApiToken(token)).toEqual({ id });
  });

  it('never repeat, and spread their characters evenly (no modulo bias)', () => {
    const tokens = Array.from({ length: 2000 }, () => generateApiToken().token);
    expect(new Set(tokens).size).toBe(tokens.length);
    const counts = new Map<string, number>();
    for (const token of tokens) {
      for (const ch of token.slice(API_TOKEN_PREFIX.length, -6)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    const expected = (tokens.length * 55) / 62;
    expect(counts.size).toBe(62);
    // Each character within 10% of its share (the rejected bytes 248..255 would otherwise favour 0..7 by 4%).
    for (const n of counts.values()) expect(Math.abs(n - expected) / expected).toBeLessThan(0.1);
  });

  it('refuse any one-character change: CRC-32 catches every substitution', () => {
    const { token } = generateApiToken();
    fc.assert(
      fc.property(
        fc.integer({ min: API_TOKEN_PREFIX.length, max: API_TOKEN_LENGTH - 1 }),
        fc.constantFrom(...BASE62),
        (at, ch) => {
          fc.pre(token[at] !== ch);
          expect(parseApiToken(`${token.slice(0, at)}${ch}${token.slice(at + 1)}`)).toBeUndefined();
        },
      ),
      { numRuns: 500 },
    );
  });

  it.each([
    ['a JWT', 'eyJhbGciOiJIUzI1NiJ9.e30.sig'],
    ['another prefix', `ghp_${'a'.repeat(61)}`],
    ['one character short', generateApiToken().token.slice(0, -1)],
    ['spaces around it', ` ${generateApiToken().token} `],
    [
      'a character outside base62',
      `${generateApiToken().token.slice(0, 20)}-${generateApiToken().token.slice(21)}`,
    ],
    ['a number', 42],
    ['nothing', undefined],
  ])('are not %s', (_name, text) => {
    expect(parseApiToken(text)).toBeUndefined();
  });

  it('are found in text by the scanners’ pattern, and confirmed by the checksum', () => {
    const { token } = generateApiToken();
    const text = `export PP_API_TOKEN=${token}\nppat_${'x'.repeat(61)} is not one`;
    const found = [...text.matchAll(API_TOKEN_PATTERN)].map((m) => m[0]);
    expect(found).toEqual([token, `ppat_${'x'.repeat(61)}`]);
    expect(found.filter((t) => parseApiToken(t) !== undefined)).toEqual([token]);
  });

  it('have the checksum Python’s zlib.crc32 computes, so that a scanner in any language can check it', () => {
    const { token } = generateApiToken();
    const python = `
import sys, zlib
t = sys.argv[1]
n = zlib.crc32(t[:-6].encode())
a = "${BASE62}"
s = ""
for _ in range(6):
    s = a[n % 62] + s
    n //= 62
print(s == t[-6:])`;
    expect(execFileSync('python3', ['-c', python, token], { encoding: 'utf8' }).trim()).toBe('True');
  });
});
