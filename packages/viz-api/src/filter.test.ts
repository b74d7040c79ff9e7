import { describe, expect, it } from 'vitest';
import { formatFilter, isCategoryClause, parseFilter } from './filter.js';
import { LIMITS } from './limits.js';
import { readParams } from './routes.js';

describe('parseFilter', () => {
  it('reads category clauses and ranges, and drops repeated categories', () => {
    expect(
      parseFilter(
        '[{"term":"sex","values":["2","2","1"]},{"term":"agedx","gte":5,"lt":18.5},{"term":"bmi","gt":30}]',
      ),
    ).toEqual({
      ok: true,
      filter: [
        { term: 'sex', values: ['2', '1'] },
        { term: 'agedx', gte: 5, lt: 18.5 },
        { term: 'bmi', gt: 30 },
      ],
    });
    expect(parseFilter('[]')).toEqual({ ok: true, filter: [] });
  });

  it.each([
    ['text that is not JSON', '[{term:sex}]', 'filter must be a JSON array of clauses.'],
    [
      'an object instead of an array',
      '{"term":"sex","values":["1"]}',
      'filter must be a JSON array of clauses.',
    ],
    ['a clause that is not an object', '["sex"]', 'filter[0] must be an object.'],
    ['a clause without a term', '[{"values":["1"]}]', 'filter[0].term must name a term.'],
    ['an empty term', '[{"term":"","values":["1"]}]', 'filter[0].term must name a term.'],
    ['no categories', '[{"term":"sex","values":[]}]', 'filter[0].values must list at least one category.'],
    [
      'a number as a category',
      '[{"term":"sex","values":[1]}]',
      'filter[0].values must be category keys (strings).',
    ],
    [
      'categories and a bound together',
      '[{"term":"sex","values":["1"],"gt":1}]',
      'filter[0] takes "term" and "values" only.',
    ],
    [
      'an unknown operator',
      '[{"term":"agedx","between":[1,2]}]',
      'filter[0] takes "term" with "values", or "term" with "gt", "gte", "lt" or "lte".',
    ],
    ['a range without a bound', '[{"term":"agedx"}]', 'filter[0] needs "values" or a bound.'],
    ['a bound that is text', '[{"term":"agedx","gt":"5"}]', 'filter[0].gt must be a finite number.'],
    ['two lower bounds', '[{"term":"agedx","gt":1,"gte":2}]', 'filter[0] has two lower bounds.'],
    ['two upper bounds', '[{"term":"agedx","lt":1,"lte":2}]', 'filter[0] has two upper bounds.'],
    [
      'an empty range',
      '[{"term":"agedx","gte":10,"lt":5}]',
      'filter[0] has a lower bound above its upper bound.',
    ],
    [
      'a second bad clause',
      '[{"term":"sex","values":["1"]},{"term":"agedx","lt":null}]',
      'filter[1].lt must be a finite number.',
    ],
  ])('refuses %s with a sentence', (_name, text, problem) => {
    expect(parseFilter(text)).toEqual({ ok: false, problem });
  });

  it('holds every limit: length, clauses, categories per clause and term id length', () => {
    const clause = { term: 'sex', values: ['1'] };
    const clauses = (n: number) => JSON.stringify(Array.from({ length: n }, () => clause));
    expect(parseFilter(clauses(LIMITS.maxFilterClauses)).ok).toBe(true);
    expect(parseFilter(clauses(LIMITS.maxFilterClauses + 1))).toEqual({
      ok: false,
      problem: `filter has more than ${LIMITS.maxFilterClauses} clauses.`,
    });
    const values = (n: number) =>
      JSON.stringify([{ term: 'x', values: Array.from({ length: n }, (_, i) => String(i)) }]);
    expect(parseFilter(values(LIMITS.maxFilterValues)).ok).toBe(true);
    expect(parseFilter(values(LIMITS.maxFilterValues + 1)).ok).toBe(false);
    expect(parseFilter(`[{"term":"sex","values":["${'x'.repeat(LIMITS.maxFilterLength)}"]}]`)).toEqual({
      ok: false,
      problem: `filter is longer than ${LIMITS.maxFilterLength} characters.`,
    });
    expect(parseFilter(JSON.stringify([{ term: 'x'.repeat(LIMITS.maxParamLength + 1), gt: 1 }])).ok).toBe(
      false,
    );
  });

  it('reads what formatFilter writes, and sends nothing for an empty filter', () => {
    const filter = [
      { term: 'sex', values: ['2'] },
      { term: 'agedx', gte: 5, lte: 10 },
    ];
    const text = formatFilter(filter);
    expect(text).toBeDefined();
    expect(parseFilter(text as string)).toEqual({ ok: true, filter });
    expect(formatFilter([])).toBeUndefined();
    expect(filter.map(isCategoryClause)).toEqual([true, false]);
  });
});

describe('the filter parameter', () => {
  it('is [] when absent, and a malformed one is refused with filter_invalid', () => {
    expect(readParams('barchart', new URLSearchParams('dslabel=T&term=sex'))).toMatchObject({
      ok: true,
      params: { filter: [], term2: undefined, term0: undefined },
    });
    expect(readParams('barchart', new URLSearchParams('dslabel=T&term=sex&filter=nope'))).toEqual({
      ok: false,
      problem: 'filter must be a JSON array of clauses.',
      code: 'filter_invalid',
    });
    expect(readParams('summary', new URLSearchParams('dslabel=T&term=x&filter=[]&filter=[]'))).toEqual({
      ok: false,
      problem: 'filter must be given once.',
    });
  });
});
