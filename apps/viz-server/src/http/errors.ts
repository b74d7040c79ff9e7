import { ERROR_CODES, type ErrorBody, type ErrorCode, type TokenInvalidReason } from '@pp-embed/viz-api';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * A request the server answers with an error. The status comes from the wire contract's table for the code;
 * `message` is sent to the client, so it is a plain sentence written here or the table's, never a library's
 * text. `detail`, `path` and `cause` are for the server log only.
 *
 * @example
 * throw new ApiError('bad_request', { message: 'term is required.' });
 * throw new ApiError('ip_mismatch', { detail: 'the client address … is not the "ip" claim …', path: entry.path });
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ErrorCode;
  readonly status: ContentfulStatusCode;
  readonly detail: string | undefined;
  /** The config entry that decided, for refusals. */
  readonly path: string | undefined;
  /** With `token_invalid`: which part of the token is wrong; sent, so the portal's developer can fix it. */
  readonly reason: TokenInvalidReason | undefined;
  /** With `too_many_attempts`: seconds for `Retry-After`. */
  readonly retryAfter: number | undefined;
  /** A refusal meant for an origin whose pages may read nothing else: CORS lets that origin read this one. */
  readonly toOrigin: boolean;

  constructor(
    code: ErrorCode,
    options: {
      message?: string;
      detail?: string;
      path?: string | undefined;
      cause?: unknown;
      reason?: TokenInvalidReason | undefined;
      retryAfter?: number | undefined;
      toOrigin?: boolean | undefined;
    } = {},
  ) {
    super(
      options.message ?? ERROR_CODES[code].message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.detail = options.detail;
    this.path = options.path;
    this.reason = options.reason;
    this.retryAfter = options.retryAfter;
    this.toOrigin = options.toOrigin === true;
  }

  /** The body sent to the client. */
  body(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.reason !== undefined && { reason: this.reason }),
      },
    };
  }
}
