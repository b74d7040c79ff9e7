/**
 * One line of the audit trail: who received which sample-level data, through which embedder, and for a script the
 * personal API token it came through (its public id, never the token).
 */
export interface AuditRecord {
  time: string;
  email: string | null;
  dataset: string;
  route: string;
  origin: string | null;
  jti: string | null;
  /** Rows in the answer: a page of JSON, or every row of a CSV or TSV table. */
  samples: number | null;
  /** Who the token was minted for: `browser` or `script`; null without a token. */
  client: 'browser' | 'script' | null;
  /** The id of the personal API token a script's token was exchanged for; null otherwise. */
  apiToken: string | null;
}

/** Where audit records go. @example const audit: AuditSink = (record) => lines.push(record); */
export type AuditSink = (record: AuditRecord) => void;

/**
 * The audit trail as JSON lines (stdout by default, so it can be shipped apart from the diagnostics on stderr).
 * JSON.stringify escapes control characters, so a claim can never start a forged line.
 *
 * @example
 * const audit = jsonAudit();
 * audit({ time, email: 'ana@example.org', dataset: 'TermdbTest', route: 'termdb/samples', origin, jti, samples: 50, client: 'browser', apiToken: null });
 */
export function jsonAudit(write: (line: string) => void = (line) => process.stdout.write(line)): AuditSink {
  return (record) => write(`${JSON.stringify({ event: 'sample_access', ...record })}\n`);
}
