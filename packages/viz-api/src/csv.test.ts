import { describe, expect, it } from 'vitest';
import { csvField, csvRow } from './csv.js';

describe('CSV', () => {
  it('quotes what needs quoting, by RFC 4180', () => {
    expect(csvRow(['a', 'b,c', 'say "hi"', 'two\nlines', 7, null, undefined, true])).toBe(
      'a,"b,c","say ""hi""","two\nlines",7,,,true\r\n',
    );
  });

  it('keeps text from being read as a formula, and leaves numbers alone', () => {
    expect(['=1+1', '+1', '-1', '@SUM(A1)', '\tx'].map(csvField)).toEqual([
      "'=1+1",
      "'+1",
      "'-1",
      "'@SUM(A1)",
      "'\tx",
    ]);
    expect(csvField(-1.5)).toBe('-1.5');
    expect(csvField('=HYPERLINK("http://x")')).toBe('"\'=HYPERLINK(""http://x"")"');
    expect(csvField(Number.NaN)).toBe('');
  });
});
