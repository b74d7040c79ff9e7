/**
 * Structured logging: one JSON object per line. JSON.stringify escapes control characters, so a newline in a
 * claim or in text typed at a form can never start a forged line. No caller passes a token, a password, a
 * cookie or a request header: events carry ids, codes and paths without their query string.
 *
 * @example
 * const log: Logger = jsonLogger();
 * log.info('listening', { url: 'http://127.0.0.1:3001' });
 */
export interface Logger {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

/**
 * A logger that writes JSON lines (`{"time","level","event",...fields}`), to stderr by default.
 *
 * @example
 * const lines: string[] = [];
 * const log = jsonLogger((line) => lines.push(line), () => 0);
 * log.warn('config_warning', { warning: 'x' }); // '{"time":"1970-01-01T00:00:00.000Z","level":"warn",…}\n'
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
 * createApp({ ...deps, log: silentLogger });
 */
export const silentLogger: Logger = Object.freeze({
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
});

/**
 * Error details for the log: name, message, stack and the cause chain. Never a request header or a body.
 *
 * @example
 * log.error('internal_error', describeError(error));
 */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  const out: Record<string, unknown> = { error: error.name, message: error.message, stack: error.stack };
  if (error.cause !== undefined) out.cause = describeError(error.cause);
  return out;
}
