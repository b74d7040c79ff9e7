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

/** Where audit records go. @example const audit: AuditSink = (record) => lines.push(record); */
export type AuditSink = (record: AuditRecord) => void;

/**
 * The audit trail as JSON lines (stdout by default, so it can be shipped apart from the diagnostics on stderr).
 * JSON.stringify escapes control characters, so a claim can never start a forged line.
 *
 * @example
 * const audit = jsonAudit();
 * audit({ time, email: 'ana@example.org', dataset: 'TermdbTest', route: 'termdb/samples', origin, jti, samples: 50 });
 */
export function jsonAudit(write: (line: string) => void = (line) => process.stdout.write(line)): AuditSink {
  return (record) => write(`${JSON.stringify({ event: 'sample_access', ...record })}\n`);
}
