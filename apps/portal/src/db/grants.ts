import type Database from 'better-sqlite3';
import { DATASET_LABEL } from '@pp-embed/viz-api';

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
 * Grants: user + dataset + clientAuthResult, at most one per user and dataset.
 *
 * @example
 * const grants = new GrantStore(db);
 * grants.set(ana.id, 'PPDemo', { role: 'analyst' }, Date.now());
 * grants.forUser(ana.id); // [{ dataset: 'PPDemo', clientAuthResult: { role: 'analyst' } }]
 */
export class GrantStore {
  readonly #upsert: Database.Statement<[number, string, string, number]>;
  readonly #delete: Database.Statement<[number, string]>;
  readonly #forUser: Database.Statement<[number], { dataset: string; client_auth_result: string }>;

  constructor(db: Database.Database) {
    this.#upsert = db.prepare(
      `INSERT INTO grants (user_id, dataset, client_auth_result, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, dataset) DO UPDATE SET client_auth_result = excluded.client_auth_result`,
    );
    this.#delete = db.prepare('DELETE FROM grants WHERE user_id = ? AND dataset = ?');
    this.#forUser = db.prepare(
      'SELECT dataset, client_auth_result FROM grants WHERE user_id = ? ORDER BY dataset',
    );
  }

  /** Adds a grant or replaces its clientAuthResult. */
  set(userId: number, dataset: string, clientAuthResult: Record<string, unknown>, now: number): void {
    if (!DATASET_LABEL.test(dataset)) throw new RangeError(`not a dataset label: ${JSON.stringify(dataset)}`);
    this.#upsert.run(userId, dataset, JSON.stringify(clientAuthResult), now);
  }

  /** Returns false when the user had no grant for the dataset. */
  remove(userId: number, dataset: string): boolean {
    return this.#delete.run(userId, dataset).changes > 0;
  }

  forUser(userId: number): Grant[] {
    return this.#forUser.all(userId).map((row) => ({
      dataset: row.dataset,
      clientAuthResult: JSON.parse(row.client_auth_result) as Record<string, unknown>,
    }));
  }
}
