import {
  cutoffAfter,
  type FeedSnapshot,
  type Revocation,
  type RevocationReason,
  revocationUntil,
  subjectHash,
} from '@pp-embed/revocation';
import type { Sql } from './sql.js';

/**
 * The longest lifetime a token of this portal can have, in seconds (`--token-ttl` allows up to this): a revocation
 * stays in the feed until every token it can match has expired.
 */
export const MAX_TOKEN_TTL_SECONDS = 3600;

/**
 * What is withdrawn: one token, every token of a user, a user's tokens for one dataset, or every token.
 *
 * @example
 * const target: RevocationTarget = { type: 'grant', email: 'ana@example.org', dataset: 'PPDemo' };
 */
export type RevocationTarget =
  | { type: 'token'; jti: string; exp: number }
  | { type: 'user'; email: string }
  | { type: 'grant'; email: string; dataset: string }
  | { type: 'embedder' };

/**
 * The statement behind {@link RevocationStore.cutoffFor}, one column (`cutoff`, null for none), for other statements
 * to embed as a scalar subquery.
 *
 * @example
 * const { text, params } = cutoffQuery('ana@example.org', ['PPDemo'], Date.now());
 */
export function cutoffQuery(
  email: string,
  datasets: readonly string[],
  now: number,
): { text: string; params: unknown[] } {
  const forDatasets = datasets.length === 0 ? '' : ` OR dataset IN (${datasets.map(() => '?').join(', ')})`;
  return {
    text: `SELECT max(before_s) AS cutoff FROM revocations
       WHERE before_s > ? AND (type = 'embedder' OR (sub = ? AND (type = 'user'${forDatasets})))`,
    params: [Math.floor(now / 1000), subjectHash(email), ...datasets],
  };
}

/** Records a revocation inside the caller's transaction. */
export interface Recorder {
  record(
    tx: Sql,
    target: RevocationTarget,
    options: { now: number; reason: RevocationReason; actor?: string | undefined },
  ): Promise<void>;
}

/**
 * A recorded revocation as the admin page lists it: the feed's entry, its sequence number and who made it.
 *
 * @example
 * const row: RecordedRevocation = { seq: 4, revocation, actor: 'admin@example.org' };
 */
export interface RecordedRevocation {
  seq: number;
  revocation: Revocation;
  actor: string | null;
}

interface Row {
  id: number;
  type: Revocation['type'];
  jti: string | null;
  sub: string | null;
  dataset: string | null;
  before_s: number | null;
  exp_s: number | null;
  at_ms: number;
  reason: RevocationReason;
  actor: string | null;
}

function toRevocation(row: Row): Revocation {
  const at = Number(row.at_ms) / 1000;
  const before = Number(row.before_s);
  switch (row.type) {
    case 'token':
      return { type: 'token', jti: row.jti as string, exp: Number(row.exp_s), at, reason: row.reason };
    case 'user':
      return { type: 'user', sub: row.sub as string, before, at, reason: row.reason };
    case 'grant':
      return {
        type: 'grant',
        sub: row.sub as string,
        dataset: row.dataset as string,
        before,
        at,
        reason: row.reason,
      };
    default:
      return { type: 'embedder', before, at, reason: row.reason };
  }
}

/** The channel PostgreSQL notifies portal replicas on when a revocation commits. */
export const REVOCATION_CHANNEL = 'pp_revocations';

/**
 * Revocations in the portal's store: recorded with the change that causes them (in its transaction), published by
 * the feed until they can match no live token. The row id is the feed's sequence number.
 *
 * @example
 * const revocations = new RevocationStore(sql, () => epoch);
 * await revocations.snapshot(Date.now());
 */
export class RevocationStore implements Recorder {
  readonly #sql: Sql;
  readonly #epoch: () => Promise<string>;
  readonly #listeners = new Set<() => void>();

  constructor(sql: Sql, epoch: () => Promise<string>) {
    this.#sql = sql;
    this.#epoch = epoch;
  }

  async record(
    tx: Sql,
    target: RevocationTarget,
    { now, reason, actor }: { now: number; reason: RevocationReason; actor?: string | undefined },
  ): Promise<void> {
    const before = target.type === 'token' ? null : cutoffAfter(now);
    const exp = target.type === 'token' ? target.exp : null;
    const sub = target.type === 'user' || target.type === 'grant' ? subjectHash(target.email) : null;
    const entry = toRevocation({
      id: 0,
      type: target.type,
      jti: target.type === 'token' ? target.jti : null,
      sub,
      dataset: target.type === 'grant' ? target.dataset : null,
      before_s: before,
      exp_s: exp,
      at_ms: now,
      reason,
      actor: null,
    });
    const until = revocationUntil(entry, MAX_TOKEN_TTL_SECONDS) * 1000;
    // Sequence numbers are the feed's versions, so they must commit in order: a revocation numbered 5 that commits
    // after 6 would be behind a version replicas already hold. One writer at a time (SQLite serializes writers
    // anyway).
    if (tx.dialect === 'postgres') await tx.run("SELECT pg_advisory_xact_lock(hashtext('pp-revocations'))");
    await tx.run(
      `INSERT INTO revocations (type, jti, sub, dataset, before_s, exp_s, at_ms, reason, until_ms, actor)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        target.type,
        target.type === 'token' ? target.jti : null,
        sub,
        target.type === 'grant' ? target.dataset : null,
        before,
        exp,
        now,
        reason,
        until,
        actor ?? null,
      ],
    );
    // Delivered to every listening replica when the transaction commits, and not at all if it rolls back.
    if (tx.dialect === 'postgres') await tx.run(`NOTIFY ${REVOCATION_CHANNEL}`);
    tx.afterCommit(() => {
      for (const listener of this.#listeners) listener();
    });
  }

  /**
   * Calls `listener` when this process commits a revocation (other processes: `PortalStore.watchRevocations`).
   * Returns the function that stops it.
   */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Records one revocation on its own (an administrator's). */
  async add(target: RevocationTarget, options: { now: number; reason: RevocationReason; actor?: string }) {
    await this.#sql.transaction((tx) => this.record(tx, target, options));
  }

  /** The feed's version: the store's epoch and the newest sequence number. */
  async version(): Promise<{ epoch: string; seq: number }> {
    const row = await this.#sql.get<{ seq: number | null }>('SELECT max(id) AS seq FROM revocations');
    return { epoch: await this.#epoch(), seq: Number(row?.seq ?? 0) };
  }

  /** Every revocation that can still match a live token, for the feed. */
  async snapshot(now: number): Promise<FeedSnapshot> {
    return this.#sql.transaction(async (tx) => {
      // The version first, then exactly the rows up to it: a revocation committed in between belongs to the next
      // version, never to this one unlisted.
      const seq = Number(
        (await tx.get<{ seq: number | null }>('SELECT max(id) AS seq FROM revocations'))?.seq ?? 0,
      );
      const rows = await tx.all<Row>('SELECT * FROM revocations WHERE until_ms > ? AND id <= ? ORDER BY id', [
        now,
        seq,
      ]);
      return { epoch: await this.#epoch(), seq, revocations: rows.map(toRevocation) };
    });
  }

  /** The newest revocations, for the admin page. */
  async recent(limit: number): Promise<RecordedRevocation[]> {
    const rows = await this.#sql.all<Row>('SELECT * FROM revocations ORDER BY id DESC LIMIT ?', [limit]);
    return rows.map((row) => ({ seq: Number(row.id), revocation: toRevocation(row), actor: row.actor }));
  }

  /**
   * The latest cutoff (NumericDate) that would withdraw a token minted now for this user and these datasets, or
   * 0: a token minted before it would be born revoked, so the endpoint waits for it to pass.
   */
  async cutoffFor(email: string, datasets: readonly string[], now: number): Promise<number> {
    const { text, params } = cutoffQuery(email, datasets, now);
    const row = await this.#sql.get<{ cutoff: number | null }>(text, params);
    return Number(row?.cutoff ?? 0);
  }

  /** Deletes what no live token can match any more; never the newest row, whose id is the feed's version. */
  async prune(now: number): Promise<number> {
    const result = await this.#sql.run(
      'DELETE FROM revocations WHERE until_ms <= ? AND id < (SELECT max(id) FROM revocations)',
      [now],
    );
    return result.changes;
  }
}
