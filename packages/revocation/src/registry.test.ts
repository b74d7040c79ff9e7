import { describe, expect, it } from 'vitest';
import type { RevocationVerdict } from './client.js';
import { firstRevocation, type RevocationLookup } from './registry.js';

const claims = { datasets: ['PPDemo'], email: 'ana@example.org', iat: 1, exp: 2 };
const query = {
  embedder: 'portal.test',
  entry: 'dsCredentials.PPDemo.*.portal.test',
  claims,
  datasets: ['PPDemo'],
  now: 0,
};
const says = (verdict: RevocationVerdict | undefined): RevocationLookup => ({ check: () => verdict });
const clear: RevocationVerdict = { state: 'clear', feed: 'portal', seq: 3 };
const retired: RevocationVerdict = {
  state: 'retired',
  entry: 'portal.test',
  at: '2026-01-01T00:00:00.000Z',
  by: 'ops',
};
const unavailable: RevocationVerdict = {
  state: 'unavailable',
  feed: 'portal',
  lastSyncAt: undefined,
  maxStaleSeconds: 60,
};

describe('firstRevocation', () => {
  it('lets the first lookup that withdraws the token, or cannot tell, decide', () => {
    expect(firstRevocation([says(undefined), says(clear), says(retired)])?.check(query)).toBe(retired);
    expect(firstRevocation([says(unavailable), says(retired)])?.check(query)).toBe(unavailable);
  });

  it('clears with the first lookup that covers the token, and says nothing when none does', () => {
    expect(firstRevocation([says(undefined), says(clear)])?.check(query)).toBe(clear);
    expect(firstRevocation([says(undefined), says(undefined)])?.check(query)).toBeUndefined();
    expect(firstRevocation([undefined, undefined])).toBeUndefined();
  });
});
