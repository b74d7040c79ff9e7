/**
 * The header a token travels in when a credential entry names none (ProteinPaint's default).
 *
 * @example
 * headers.set(DEFAULT_HEADER_KEY, token);
 */
export const DEFAULT_HEADER_KEY = 'x-ds-access-token';

/**
 * A dataset label: what `dslabel` names, what a `datasets` entry of serverconfig.json declares and what a portal
 * grants. Letters, digits, `_`, `.` and `-`, starting with a letter or digit, at most 100 characters.
 *
 * @example
 * DATASET_LABEL.test('TermdbTest'); // true
 * DATASET_LABEL.test('../etc');     // false
 */
export const DATASET_LABEL = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/** In words, for error messages. @example `dslabel: ${DATASET_LABEL_RULE}` */
export const DATASET_LABEL_RULE = 'a dataset label: a letter or digit, then letters, digits, "_", "." or "-"';

/**
 * Limits every client can rely on.
 *
 * @example
 * const pages = Math.ceil(total / LIMITS.defaultPageSize);
 */
export const LIMITS = {
  /** Rows per page of `/termdb/samples` when `pageSize` is not given. */
  defaultPageSize: 50,
  /** The largest `pageSize`. */
  maxPageSize: 500,
  /** The largest `page`. */
  maxPage: 1_000_000,
  /** The longest text parameter (a term id, a parent id), in characters. */
  maxParamLength: 200,
  /** A token longer than this is refused before any decoding (`token_invalid`). */
  maxTokenLength: 8192,
  /** The longest `filter` parameter, in characters. */
  maxFilterLength: 4000,
  /** The most clauses in one filter. */
  maxFilterClauses: 10,
  /** The most categories in one clause of a filter. */
  maxFilterValues: 100,
  /** The most categories or bins of an overlay (`term2`) or a divide-by term (`term0`). */
  maxOverlayValues: 50,
  /** The most curves of one survival chart (categories or bins of its `term2`). */
  maxSurvivalSeries: 20,
  /** The most counted cells of one barchart with an overlay or a divide-by term (bars × overlay × charts). */
  maxChartCells: 10_000,
  /** The most points of one survival curve; a longer curve is sampled at the end of equal time slots. */
  maxCurvePoints: 400,
  /** The most terms one search answers with. */
  maxSearchResults: 50,
  /**
   * Under a disclosure rule, the most terms one answer may involve, its filter's terms included (each is a
   * dimension of the table the rule is applied to).
   */
  maxTermsUnderRule: 5,
  /** Under a disclosure rule, the most cells of that table (every category of every term involved, times each other). */
  maxCellsUnderRule: 200_000,
  /**
   * The longest token from a trusted OpenID issuer, a GA4GH passport included (`token_invalid` beyond). Node's
   * HTTP layer refuses the request itself (431) when all its headers together pass 16 KiB.
   */
  maxPassportLength: 12_288,
  /** The longest dataset password the login route reads, in characters. */
  maxPasswordLength: 1024,
  /** The largest login body, in bytes. */
  maxLoginBody: 8192,
} as const;
