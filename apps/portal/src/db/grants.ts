import { DATASET_LABEL } from '@pp-embed/viz-api';
import type { Recorder } from './revocations.js';
import type { Sql } from './sql.js';

/**
 * What a user may see of one dataset: the `clientAuthResult` that goes into the user's token for it, e.g.
 * `{ role: 'analyst', cohorts: ['ABC'] }`. The visualization server reads it to fine-tune what it answers.
 *
 * @example
 * const grant: Grant = { dataset: 'PPDemo', clientAuthResult: { role: 'analyst', cohorts: ['ABC'] } };
 */
export interface Grant {
  dataset: string;
  clientAuthResult: Record<string, unknown>;
}

/**
 * A grant as its row holds it.
 *
 * @example
 * toGrant({ dataset: 'PPDemo', client_auth_result: '{"role":"analyst"}' }); // { dataset: 'PPDemo', clientAuthResult: { role: 'analyst' } }
 */
export function toGrant(row: { dataset: string; client_auth_result: string }): Grant {
  return {
    dataset: row.dataset,
    clientAuthResult: JSON.parse(row.client_auth_result) as Record<string, unknown>,
  };
}

/**
 * Parses a `clientAuthResult` given as JSON text (a command-line argument): it must be a JSON object.
 *
 * @example
 * parseClientAuthResult('{"role":"analyst","cohorts":["ABC"]}'); // { role: 'analyst', cohorts: ['ABC'] }
 */
export function parseClientAuthResult(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RangeError('clientAuthResult is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RangeError('clientAuthResult must be a JSON object, e.g. {"role":"analyst"}');
  }
  return value as Record<string, unknown>;
}

/**
 * JSON with object members in a fixed order, so that equal objects compare equal as text.
 *
 * @example
 * canonicalJson({ b: 1, a: 2 }); // '{"a":2,"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Grants: user + dataset + clientAuthResult, at most one per user and dataset. Removing a grant, or changing what
 * it allows, withdraws the user's tokens for that dataset in the same transaction: a token minted under the old
 * grant must not outlive it.
 *
 * @example
 * const grants = new GrantStore(sql, revocations);
 * await grants.set(ana.id, 'PPDemo', { role: 'analyst' }, Date.now());
 * await grants.forUser(ana.id); // [{ dataset: 'PPDemo', clientAuthResult: { role: 'analyst' } }]
 */
export class GrantStore {
  readonly #sql: Sql;
  readonly #revocations: Recorder;

  constructor(sql: Sql, revocations: Recorder) {
    this.#sql = sql;
    this.#revocations = revocations;
  }

  /** Adds a grant or replaces its clientAuthResult (withdrawing the tokens of the old one when it differs). */
  async set(
    userId: number,
    dataset: string,
    clientAuthResult: Record<string, unknown>,
    now: number,
    actor?: string,
  ): Promise<void> {
    if (!DATASET_LABEL.test(dataset)) throw new RangeError(`not a dataset label: ${JSON.stringify(dataset)}`);
    const text = JSON.stringify(clientAuthResult);
    await this.#sql.transaction(async (tx) => {
      const old = await tx.get<{ client_auth_result: string; email: string }>(
        `SELECT g.client_auth_result, u.email FROM grants g JOIN users u ON u.id = g.user_id
         WHERE g.user_id = ? AND g.dataset = ?`,
        [userId, dataset],
      );
      await tx.run(
        `INSERT INTO grants (user_id, dataset, client_auth_result, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (user_id, dataset) DO UPDATE SET client_auth_result = excluded.client_auth_result`,
        [userId, dataset, text, now],
      );
      if (
        old !== undefined &&
        canonicalJson(JSON.parse(old.client_auth_result)) !== canonicalJson(clientAuthResult)
      ) {
        await this.#revocations.record(
          tx,
          { type: 'grant', email: old.email, dataset },
          { now, reason: 'grant-change', actor },
        );
      }
    });
  }

  /** Removes a grant and withdraws the user's tokens for it. Returns false when the user had no grant for it. */
  async remove(userId: number, dataset: string, now: number, actor?: string): Promise<boolean> {
    return this.#sql.transaction(async (tx) => {
      const user = await tx.get<{ email: string }>('SELECT email FROM users WHERE id = ?', [userId]);
      const removed = await tx.run('DELETE FROM grants WHERE user_id = ? AND dataset = ?', [userId, dataset]);
      if (removed.changes === 0 || user === undefined) return false;
      await this.#revocations.record(
        tx,
        { type: 'grant', email: user.email, dataset },
        { now, reason: 'grant-change', actor },
      );
      return true;
    });
  }

  async forUser(userId: number): Promise<Grant[]> {
    const rows = await this.#sql.all<{ dataset: string; client_auth_result: string }>(
      'SELECT dataset, client_auth_result FROM grants WHERE user_id = ? ORDER BY dataset',
      [userId],
    );
    return rows.map(toGrant);
  }
}
