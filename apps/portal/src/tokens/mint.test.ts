import { describe, expect, it } from 'vitest';
import { signRequest, tokenClaims } from './mint.js';

describe('tokenClaims', () => {
  const ben = [{ dataset: 'PPDemo', clientAuthResult: { role: 'analyst', cohorts: ['ABC'] } }];
  const eve = [
    { dataset: 'PPDemo', clientAuthResult: { cohorts: ['XYZ'], role: 'analyst' } },
    { dataset: 'TermdbTest', clientAuthResult: { role: 'viewer' } },
  ];

  it('gives one dataset with its own grant when asked for it', () => {
    expect(tokenClaims(eve, 'TermdbTest')).toEqual({
      ok: true,
      datasets: ['TermdbTest'],
      clientAuthResult: { role: 'viewer' },
    });
    expect(tokenClaims(ben, 'TermdbTest')).toEqual({ ok: false, status: 403, code: 'dataset_not_granted' });
  });

  it('lists every dataset only when the role data is the same everywhere (key order aside)', () => {
    expect(tokenClaims(eve)).toEqual({ ok: false, status: 400, code: 'dataset_required' });
    const same = [
      { dataset: 'A', clientAuthResult: { role: 'analyst', cohorts: ['ABC'] } },
      { dataset: 'B', clientAuthResult: { cohorts: ['ABC'], role: 'analyst' } },
    ];
    expect(tokenClaims(same)).toMatchObject({ ok: true, datasets: ['A', 'B'] });
  });

  it('refuses a user without grants', () => {
    expect(tokenClaims([])).toEqual({ ok: false, status: 403, code: 'no_grants' });
    expect(tokenClaims([], 'PPDemo')).toEqual({ ok: false, status: 403, code: 'no_grants' });
  });
});

describe('signRequest', () => {
  it('leaves out an empty clientAuthResult and an unknown address', () => {
    expect(signRequest({ ok: true, datasets: ['A'], clientAuthResult: {} }, 'a@example.org')).toEqual({
      datasets: ['A'],
      email: 'a@example.org',
    });
    expect(
      signRequest({ ok: true, datasets: ['A'], clientAuthResult: { role: 'x' } }, 'a@example.org', {
        ip: '192.0.2.1',
      }),
    ).toEqual({ datasets: ['A'], email: 'a@example.org', ip: '192.0.2.1', clientAuthResult: { role: 'x' } });
  });

  it('adds what a script token says: its client, API token and route classes', () => {
    expect(
      signRequest({ ok: true, datasets: ['A'], clientAuthResult: {} }, 'a@example.org', {
        ip: undefined,
        client: 'script',
        apiTokenId: '3kQ9aZ0pLm2x',
        routeClasses: ['aggregated'],
      }),
    ).toEqual({
      datasets: ['A'],
      email: 'a@example.org',
      client: 'script',
      apiTokenId: '3kQ9aZ0pLm2x',
      routeClasses: ['aggregated'],
    });
  });
});
