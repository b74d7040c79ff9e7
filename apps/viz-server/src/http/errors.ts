import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** Codes the server itself answers with, beside the token codes of dataset-token and the refusals of access-policy. */
export type ApiErrorCode =
  | 'bad_request'
  | 'dataset_not_found'
  | 'term_not_found'
  | 'term_not_supported'
  | 'not_found'
  | 'method_not_allowed'
  | 'internal_error';

/**
 * A request the server refuses for a reason of its own. `message` is sent to the client, so it is a plain
 * sentence written here, never a library's text; `detail` is for the server log only.
 *
 * @example
 * throw new ApiError(400, 'bad_request', 'term must be a term id', { detail: `got ${typeof term}` });
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: ContentfulStatusCode;
  readonly code: ApiErrorCode;
  readonly detail: string | undefined;

  constructor(
    status: ContentfulStatusCode,
    code: ApiErrorCode,
    message: string,
    options: { detail?: string } = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = options.detail;
  }
}

/** The one shape every error response has. */
export interface ErrorBody {
  error: { code: string; message: string };
}
