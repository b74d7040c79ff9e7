import { describe, expect, it } from 'vitest';
import { codesOf, ERROR_CODES, isErrorCode } from './errors.js';
import { LIMITS } from './limits.js';
import { readParams, ROUTE_IDS, ROUTES } from './routes.js';

const query = (text: string) => new URLSearchParams(text);

describe('readParams', () => {
  it('reads required text, optional text and integers with their defaults', () => {
    expect(readParams('samples', query('dslabel=TermdbTest&term=sex'))).toEqual({
      ok: true,
      params: {
        dslabel: 'TermdbTest',
        term: 'sex',
        page: 1,
        pageSize: LIMITS.defaultPageSize,
        format: undefined,
        filter: [],
      },
    });
    expect(readParams('terms', query('dslabel=T'))).toEqual({
      ok: true,
      params: { dslabel: 'T', parent: undefined, format: undefined },
    });
    expect(readParams('samples', query('dslabel=T&term=x&page=3&pageSize=500'))).toMatchObject({
      params: { page: 3, pageSize: 500 },
    });
    expect(readParams('barchart', query('dslabel=T&term=x&format=tsv'))).toMatchObject({
      params: { format: 'tsv' },
    });
  });

  it.each([
    ['a missing required parameter', 'barchart', 'dslabel=T', 'term is required.'],
    ['an empty required parameter', 'barchart', 'dslabel=T&term=', 'term is required.'],
    ['a repeated parameter', 'barchart', 'dslabel=T&term=a&term=b', 'term must be given once.'],
    ['a label with a slash', 'config', 'dslabel=a/b', 'dslabel must name one dataset.'],
    ['a label starting with a dot', 'config', 'dslabel=.hidden', 'dslabel must name one dataset.'],
    ['text over the limit', 'barchart', `dslabel=T&term=${'x'.repeat(201)}`, 'term is too long.'],
    ['page 0', 'samples', 'dslabel=T&term=x&page=0', 'page must be a whole number from 1 to 1000000.'],
    [
      'a page in hex',
      'samples',
      'dslabel=T&term=x&page=0x10',
      'page must be a whole number from 1 to 1000000.',
    ],
    [
      'a fractional page size',
      'samples',
      'dslabel=T&term=x&pageSize=1.5',
      'pageSize must be a whole number from 1 to 500.',
    ],
    ['an unknown format', 'samples', 'dslabel=T&term=x&format=xlsx', 'format must be one of json, csv, tsv.'],
    ['a format in capitals', 'terms', 'dslabel=T&format=CSV', 'format must be one of json, csv, tsv.'],
    [
      'a page size over the limit',
      'samples',
      'dslabel=T&term=x&pageSize=501',
      'pageSize must be a whole number from 1 to 500.',
    ],
  ] as const)('refuses %s with a sentence', (_name, route, text, problem) => {
    expect(readParams(route, query(text))).toEqual({ ok: false, problem });
  });

  it('ignores parameters the route does not take', () => {
    expect(readParams('config', query('dslabel=T&colour=blue')).ok).toBe(true);
  });
});

describe('ROUTES', () => {
  it('names each route by its path, and keeps rows of samples sample-level', () => {
    for (const id of ROUTE_IDS) expect(`/${ROUTES[id].name}`).toBe(ROUTES[id].path);
    expect(ROUTE_IDS.filter((id) => ROUTES[id].class === 'sample-level')).toEqual(['samples', 'export']);
    expect(ROUTE_IDS.every((id) => ROUTES[id].params.dslabel.required)).toBe(true);
  });
});

describe('ERROR_CODES', () => {
  it('gives every family its status range', () => {
    expect(codesOf('token').every((code) => ERROR_CODES[code].status === 401)).toBe(true);
    expect(codesOf('refusal').every((code) => ERROR_CODES[code].status === 403)).toBe(true);
    expect(
      codesOf('request').every((code) => ERROR_CODES[code].status >= 400 && ERROR_CODES[code].status < 500),
    ).toBe(true);
    expect(codesOf('server').every((code) => ERROR_CODES[code].status >= 500)).toBe(true);
  });

  it('has a client-safe sentence for every code: a full sentence, naming no address, path or header value', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(spec.message, code).toMatch(/^[A-Z][^\n]*\.$/);
      expect(spec.message, code).not.toMatch(/\d+\.\d+\.\d+|dsCredentials|eyJ/);
    }
  });

  it('knows its codes and nothing else, not even Object.prototype names', () => {
    expect(isErrorCode('token_expired')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode(401)).toBe(false);
  });
});
