/**
 * Stable, machine-readable failures of the termdb layer. The server maps each code once:
 * `term_not_found` to 404, `term_not_supported` to 422, `dataset_invalid` to a startup failure (or a refused
 * update), `dataset_unavailable` to 503.
 * Messages are plain sentences for developers and logs; they never carry a library's raw message
 * (the underlying error, if any, is kept as `cause`).
 */
export type TermdbErrorCode =
  'term_not_found' | 'term_not_supported' | 'dataset_invalid' | 'dataset_unavailable';

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
