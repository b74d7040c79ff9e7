import { describe, expect, it } from 'vitest';
import { formatScope, OAUTH_ERRORS, parseScope } from './contract.js';

describe('scopes', () => {
  it('are written and read as RFC 6749 §3.3 space-separated tokens', () => {
    const text = formatScope({
      datasets: ['PPDemo', 'TermdbTest'],
      routeClasses: ['aggregated', 'sample-level'],
    });
    expect(text).toBe('dataset:PPDemo dataset:TermdbTest aggregated sample-level');
    expect(parseScope(text)).toEqual({
      ok: true,
      datasets: ['PPDemo', 'TermdbTest'],
      routeClasses: ['aggregated', 'sample-level'],
    });
  });

  it('leave out what is not asked for, and read a repeated part once', () => {
    expect(parseScope('')).toEqual({ ok: true, datasets: undefined, routeClasses: undefined });
    expect(parseScope('  dataset:A  dataset:A ')).toEqual({
      ok: true,
      datasets: ['A'],
      routeClasses: undefined,
    });
    expect(parseScope('aggregated')).toEqual({ ok: true, datasets: undefined, routeClasses: ['aggregated'] });
  });

  it.each([
    ['an unknown part', 'admin', 'unknown scope "admin"'],
    ['a label with a slash', 'dataset:../x', '"dataset:../x" names no dataset'],
    ['an empty label', 'dataset:', '"dataset:" names no dataset'],
    ['discovery, which is never restricted', 'discovery', 'unknown scope "discovery"'],
  ])('refuse %s', (_name, text, problem) => {
    expect(parseScope(text)).toEqual({ ok: false, problem });
  });
});

describe('OAUTH_ERRORS', () => {
  it('give RFC 6749 §5.2 its statuses: 401 for the client, 400 for the rest of the request', () => {
    expect(OAUTH_ERRORS.invalid_client.status).toBe(401);
    for (const code of [
      'invalid_request',
      'invalid_grant',
      'unsupported_grant_type',
      'invalid_scope',
    ] as const) {
      expect(OAUTH_ERRORS[code].status).toBe(400);
    }
  });
});
