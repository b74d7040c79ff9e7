/**
 * The formats a route can answer in: JSON (the default, what the widget reads) or a table for programs and
 * spreadsheets, CSV or TSV. A client asks with the route's `format` parameter or, without one, its `Accept` header.
 * @module
 */
import { csvRow } from './csv.js';

/** Every response format, in the server's order of preference. @example RESPONSE_FORMATS[0]; // 'json' */
export const RESPONSE_FORMATS = ['json', 'csv', 'tsv'] as const;

/** A response format. @example const format: ResponseFormat = 'tsv'; */
export type ResponseFormat = (typeof RESPONSE_FORMATS)[number];

/** A table format: CSV or TSV. @example const format: TableFormat = 'csv'; */
export type TableFormat = Exclude<ResponseFormat, 'json'>;

/** One field of a table: text, a number, a flag, or empty. @example const field: TableField = null; // '' */
export type TableField = string | number | boolean | null | undefined;

/**
 * The `Content-Type` of each format. CSV says its first line is a header (RFC 4180 §3); TSV is IANA's
 * `text/tab-separated-values`.
 *
 * @example
 * c.header('Content-Type', FORMAT_MEDIA_TYPES.tsv);
 */
export const FORMAT_MEDIA_TYPES: Readonly<Record<ResponseFormat, string>> = {
  json: 'application/json',
  csv: 'text/csv; charset=utf-8; header=present',
  tsv: 'text/tab-separated-values; charset=utf-8',
};

const MEDIA_RANGES: Readonly<Record<ResponseFormat, readonly [string, string]>> = {
  json: ['application', 'json'],
  csv: ['text', 'csv'],
  tsv: ['text', 'tab-separated-values'],
};

/** The longest `Accept` header read; a longer one is answered in the default format. */
const MAX_ACCEPT_LENGTH = 1024;

/**
 * The format to answer in: the `format` parameter when given, else the format the `Accept` header prefers (RFC 9110
 * §12.5.1: the highest `q` of the most specific matching range; ties go to JSON, then CSV). An `Accept` that
 * accepts none of them, or cannot be read, gets JSON: a server may disregard the header, and the JSON answer is
 * the one every client of this server reads.
 *
 * @example
 * negotiateFormat(undefined, 'text/tab-separated-values'); // 'tsv'
 * negotiateFormat(undefined, 'text/csv;q=0.5, application/json'); // 'json'
 * negotiateFormat('csv', 'application/json'); // 'csv': the parameter wins
 */
export function negotiateFormat(
  param: ResponseFormat | undefined,
  accept: string | null | undefined,
): ResponseFormat {
  if (param !== undefined) return param;
  if (typeof accept !== 'string' || accept === '' || accept.length > MAX_ACCEPT_LENGTH) return 'json';
  const ranges = accept.split(',').map(readRange);
  let best: ResponseFormat = 'json';
  let bestQ = -1;
  for (const format of RESPONSE_FORMATS) {
    const q = qualityOf(MEDIA_RANGES[format], ranges);
    if (q > bestQ) [best, bestQ] = [format, q];
  }
  return bestQ > 0 ? best : 'json';
}

interface Range {
  type: string;
  subtype: string;
  q: number;
}

function readRange(text: string): Range | undefined {
  const [media = '', ...parameters] = text.split(';').map((part) => part.trim().toLowerCase());
  const slash = media.indexOf('/');
  if (slash <= 0 || slash === media.length - 1) return undefined;
  let q = 1;
  for (const parameter of parameters) {
    const match = /^q=([01](?:\.\d{0,3})?)$/.exec(parameter.replace(/\s+/g, ''));
    if (match !== null) q = Math.min(1, Number(match[1]));
  }
  return { type: media.slice(0, slash), subtype: media.slice(slash + 1), q };
}

function qualityOf([type, subtype]: readonly [string, string], ranges: (Range | undefined)[]): number {
  // The most specific range that matches decides: type/subtype, then type/*, then */*.
  let specificity = -1;
  let q = 0;
  for (const range of ranges) {
    if (range === undefined) continue;
    const matches =
      (range.type === type && range.subtype === subtype) ||
      (range.type === type && range.subtype === '*') ||
      (range.type === '*' && range.subtype === '*');
    if (!matches) continue;
    const rank = range.subtype !== '*' ? 2 : range.type !== '*' ? 1 : 0;
    if (rank > specificity) [specificity, q] = [rank, range.q];
  }
  return q;
}

/**
 * One TSV field, for programs (`read.delim`, pandas, Python's `csv` with `delimiter="\t"`): a number as JavaScript
 * prints it, `null` or `undefined` as an empty field, text as it is, quoted with `"` (quotes doubled) only when it
 * holds a tab, a quote or a line break, which those readers undo. Unlike CSV, text that starts like a spreadsheet
 * formula is left alone: TSV is the format for pipelines, and its values arrive unchanged.
 *
 * @example
 * tsvField('Acute lymphoblastic leukemia, B-cell'); // 'Acute lymphoblastic leukemia, B-cell'
 * tsvField('a\tb'); // '"a\tb"'
 * tsvField(12.5); // '12.5'
 */
export function tsvField(value: TableField): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const text = String(value);
  return /[\t"\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * One TSV record, with its line end (`\n`, as the readers above expect).
 *
 * @example
 * tsvRow(['sample', 'Sex']); // 'sample\tSex\n'
 */
export function tsvRow(fields: readonly TableField[]): string {
  return `${fields.map(tsvField).join('\t')}\n`;
}

/**
 * One record of a table in either format.
 *
 * @example
 * tableRow('csv', ['sample', 'Sex']); // 'sample,Sex\r\n'
 */
export function tableRow(format: TableFormat, fields: readonly TableField[]): string {
  return format === 'csv' ? csvRow(fields) : tsvRow(fields);
}
