/**
 * Structured logging: one JSON object per line. JSON.stringify escapes control characters, so a newline in an
 * email typed at the sign-in form can never start a forged line. No caller passes a token, a password, a cookie
 * or a request header: events carry an email, dataset labels and codes at most.
 *
 * @example
 * logger.info('token_minted', { email: session.email, datasets: ['PPDemo'] });
 */
export interface Logger {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

/**
 * A logger that writes JSON lines, to stderr by default.
 *
 * @example
 * const logger = jsonLogger();
 * logger.info('login_succeeded', { email: 'ana@example.org' });
 */
export function jsonLogger(
  write: (line: string) => void = (line) => process.stderr.write(line),
  clock: () => number = Date.now,
): Logger {
  const emit = (level: string, event: string, fields: Record<string, unknown> = {}) =>
    write(`${JSON.stringify({ time: new Date(clock()).toISOString(), level, event, ...fields })}\n`);
  return {
    info: (event, fields) => emit('info', event, fields),
    warn: (event, fields) => emit('warn', event, fields),
    error: (event, fields) => emit('error', event, fields),
  };
}

/**
 * A logger that drops everything, for tests and benchmarks.
 *
 * @example
 * createApp({ ...deps, logger: silentLogger });
 */
export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Error details for the log: name, message and the cause chain. Never a request header or a body.
 *
 * @example
 * logger.error('internal_error', describeError(error));
 */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  const out: Record<string, unknown> = { error: error.name, message: error.message, stack: error.stack };
  if (error.cause !== undefined) out.cause = describeError(error.cause);
  return out;
}
