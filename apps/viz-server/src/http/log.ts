/**
 * Structured logging: one JSON object per line. JSON.stringify escapes control characters, so a newline in a
 * claim (an email, a role) can never start a forged line. Nothing here ever receives a token: callers pass
 * claims and codes, and the request log carries the path without its query string.
 */
export interface Logger {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

/** One line of the audit trail: who received which sample-level data, through which embedder. */
export interface AuditRecord {
  time: string;
  email: string | null;
  dataset: string;
  route: string;
  origin: string | null;
  jti: string | null;
  samples: number | null;
}

export type AuditSink = (record: AuditRecord) => void;

/** A logger that writes JSON lines to a stream (stderr by default). */
export function jsonLogger(write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const emit = (level: string, event: string, fields: Record<string, unknown> = {}) =>
    write(`${JSON.stringify({ time: new Date().toISOString(), level, event, ...fields })}\n`);
  return {
    info: (event, fields) => emit('info', event, fields),
    warn: (event, fields) => emit('warn', event, fields),
    error: (event, fields) => emit('error', event, fields),
  };
}

/** The audit trail as JSON lines (stdout by default, so it can be shipped apart from the diagnostics). */
export function jsonAudit(write: (line: string) => void = (line) => process.stdout.write(line)): AuditSink {
  return (record) => write(`${JSON.stringify({ event: 'sample_access', ...record })}\n`);
}

/** Error details for the log: name, message and the cause chain, never a request header. */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  const out: Record<string, unknown> = { error: error.name, message: error.message, stack: error.stack };
  if (error.cause !== undefined) out.cause = describeError(error.cause);
  return out;
}
