/**
 * CSV as the server's sample export and the widget's chart exports write it: RFC 4180 (comma-separated, CRLF
 * line ends, fields quoted when they hold a comma, a quote or a line break, quotes doubled).
 * @module
 */

// A text field a spreadsheet would read as a formula (=, +, -, @, or a leading tab or carriage return) is
// written with a leading apostrophe, so that opening an export never runs a value as a formula (OWASP, "CSV
// Injection"). Numbers are written as numbers and are not affected.
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field: a number as JavaScript prints it, `null` or `undefined` as an empty field, text quoted when
 * needed and kept from being read as a formula.
 *
 * @example
 * csvField('Acute lymphoblastic leukemia, B-cell'); // '"Acute lymphoblastic leukemia, B-cell"'
 * csvField('=HYPERLINK("x")'); // '"\'=HYPERLINK(""x"")"'
 * csvField(12.5); // '12.5'
 */
export function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let text = String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * One CSV record, with its line end.
 *
 * @example
 * csvRow(['sample', 'Sex']); // 'sample,Sex\r\n'
 */
export function csvRow(fields: readonly (string | number | boolean | null | undefined)[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}
