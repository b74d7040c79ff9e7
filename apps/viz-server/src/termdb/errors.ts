/**
/**
 * Stable, machine-readable failures of the termdb layer. The server maps each code once: the request codes
 * to the wire contract's status for them (`term_not_found` 404, `term_not_supported` 422, the others 400),
 * `dataset_invalid` to a startup failure (or a refused update), `dataset_unavailable` to 503. Messages are
 * plain sentences for developers, sent to the client and written to logs: they name parameters and limits,
 * never echo a request's text, and never carry a library's raw message (the underlying error, if any, is kept
 * as `cause`).
 */
export type TermdbErrorCode =
  | 'term_not_found'
  | 'term_not_supported'
  | 'term_wrong_type'
  | 'too_many_values'
  | 'filter_invalid'
  | 'dataset_invalid'
  | 'dataset_unavailable';

/**
 * Base class of every error this layer throws on purpose; anything else is a bug.
 *
 * @example
 * try {
 *   dataset.barchart(id, scope);
 * } catch (e) {
 *   if (e instanceof TermdbError && e.code === 'term_not_found') return notFound();
 *   throw e;
 * }
 */
export class TermdbError extends Error {
  readonly code: TermdbErrorCode;

  constructor(code: TermdbErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * No term with this id in the dataset (ids such as `__proto__` included).
 *
 * @example
 * throw new TermNotFoundError('agedx');
 */
export class TermNotFoundError extends TermdbError {
  readonly termId: string;

  constructor(termId: string) {
    super('term_not_found', 'No term with this id exists in the dataset.');
    this.termId = termId;
  }
}

/**
 * The term exists but cannot be charted (a parent term, or a type such as condition or survival).
 *
 * @example
 * throw new TermNotSupportedError('os', 'survival');
 */
export class TermNotSupportedError extends TermdbError {
  readonly termId: string;
  readonly termType: string | null;

  constructor(termId: string, termType: string | null) {
    super('term_not_supported', 'This term cannot be charted yet.');
    this.termId = termId;
    this.termType = termType;
  }
}

/**
 * The term exists and can be charted, but not in this chart or this parameter (a categorical term for a
 * numeric summary, a survival term as an overlay, the same term twice).
 *
 * @example
 * throw new TermWrongTypeError('term2', 'term2 must be a categorical, integer or float term.');
 */
export class TermWrongTypeError extends TermdbError {
  readonly param: string;

  constructor(param: string, message: string) {
    super('term_wrong_type', message);
    this.param = param;
  }
}

/**
 * An overlay, divide-by or split term with more categories or bins than the limits allow: refused before
 * any counting, so that no request can ask for unbounded work.
 *
 * @example
 * throw new TooManyValuesError('term2', 'term2 has 120 categories; an overlay takes at most 50.');
 */
export class TooManyValuesError extends TermdbError {
  readonly param: string;

  constructor(param: string, message: string) {
    super('too_many_values', message);
    this.param = param;
  }
}

/**
 * A filter clause the dataset cannot apply: an unknown term, a term the caller cannot chart, a clause of the
 * wrong kind for the term, or a category the term does not have. Refused whole: a filter never partly applies.
 *
 * @example
 * throw new FilterInvalidError('filter[1] names a category that term does not have.');
 */
export class FilterInvalidError extends TermdbError {
  constructor(message: string) {
    super('filter_invalid', message);
  }
}

/**
 * The dataset file cannot serve: not SQLite, missing a table or column, or unreadable term data.
 * The message names the file so that the server can stop at start with a clear line in its log.
 *
 * @example
 * throw new DatasetInvalidError('/data/x.db', 'table "terms" is missing');
 */
export class DatasetInvalidError extends TermdbError {
  readonly file: string;
  readonly reason: string;

  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super('dataset_invalid', `Dataset file ${file} cannot be used: ${reason}.`, options);
    this.file = file;
    this.reason = reason;
  }
}

/**
 * The dataset's file cannot be read right now: it was changed in place under the open connection, or a read
 * failed. Requests are refused until a file that passes the checks is served again.
 *
 * @example
 * throw new DatasetUnavailableError('TermdbTest', 'the file was changed in place');
 */
export class DatasetUnavailableError extends TermdbError {
  readonly label: string;
  readonly reason: string;

  constructor(label: string, reason: string, options?: { cause?: unknown }) {
    super('dataset_unavailable', `Dataset ${label} cannot be read right now: ${reason}.`, options);
    this.label = label;
    this.reason = reason;
  }
}
