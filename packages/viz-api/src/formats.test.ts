import { describe, expect, it } from 'vitest';
import { negotiateFormat, tableRow, tsvField, tsvRow } from './formats.js';

describe('negotiateFormat', () => {
  it.each([
    [undefined, undefined, 'json'],
    [undefined, '', 'json'],
    [undefined, '*/*', 'json'],
    [undefined, 'application/json', 'json'],
    [undefined, 'text/csv', 'csv'],
    [undefined, 'text/tab-separated-values', 'tsv'],
    [undefined, 'TEXT/Tab-Separated-Values; charset=utf-8', 'tsv'],
    [undefined, 'text/csv, */*;q=0.1', 'csv'],
    [undefined, 'text/csv;q=0.5, application/json', 'json'],
    [undefined, 'application/json;q=0.2, text/tab-separated-values;q=0.9', 'tsv'],
    // The most specific range decides: text/csv;q=0 excludes CSV even though text/* accepts it.
    [undefined, 'text/*, text/csv;q=0', 'tsv'],
    [undefined, 'text/*', 'csv'],
    // Nothing acceptable, or nothing readable: the default.
    [undefined, 'application/xml', 'json'],
    [undefined, 'garbage', 'json'],
    [undefined, `text/csv, ${'x/y, '.repeat(300)}`, 'json'],
    // The parameter wins over the header.
    ['tsv', 'application/json', 'tsv'],
    ['json', 'text/csv', 'json'],
  ] as const)('format %j with Accept %j answers %s', (param, accept, expected) => {
    expect(negotiateFormat(param, accept)).toBe(expected);
  });
});

describe('TSV', () => {
  it('writes text as it is, and quotes only a tab, a quote or a line break, as readers expect', () => {
    expect(tsvRow(['a', 'b,c', '=1+1', '-x', 7, -1.5, null, undefined, true])).toBe(
      'a\tb,c\t=1+1\t-x\t7\t-1.5\t\t\ttrue\n',
    );
    expect(['a\tb', 'say "hi"', 'two\nlines', 'cr\r'].map(tsvField)).toEqual([
      '"a\tb"',
      '"say ""hi"""',
      '"two\nlines"',
      '"cr\r"',
    ]);
    expect(tsvField(Number.POSITIVE_INFINITY)).toBe('');
  });

  it('writes one record in either format', () => {
    expect(tableRow('csv', ['sample', 'Age, at diagnosis'])).toBe('sample,"Age, at diagnosis"\r\n');
    expect(tableRow('tsv', ['sample', 'Age, at diagnosis'])).toBe('sample\tAge, at diagnosis\n');
  });
});
