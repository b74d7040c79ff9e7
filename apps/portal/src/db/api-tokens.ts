import { createHash, timingSafeEqual } from 'node:crypto';
import { generateApiToken, MAX_API_TOKEN_DAYS, parseApiToken } from '@pp-embed/api-token';
import { DATASET_LABEL, GRANTED_ROUTE_CLASSES, type GrantedRouteClass } from '@pp-embed/viz-api';
import { type Grant, toGrant } from './grants.js';
import { LIMIT_REACHED_AT, retryAfter, type WindowLimit, windowParams } from './login-failures.js';
import { cutoffQuery, type Recorder } from './revocations.js';
import type { Sql } from './sql.js';

/**
 * The most live (not revoked, not expired) API tokens one user may hold: enough for a laptop, a cluster and a
 * workflow engine, few enough that a list is read at a glance and a leaked session cannot mint without bound.
 *
 * @example
 * if (live.length >= MAX_API_TOKENS_PER_USER) refuse();
 */
export const MAX_API_TOKENS_PER_USER = 10;

/** The longest token name, in characters. @example name.slice(0, MAX_API_TOKEN_NAME_LENGTH); */
export const MAX_API_TOKEN_NAME_LENGTH = 100;

/**
 * A personal API token as the portal keeps it: everything but the token, which only its hash stands for.
 *
 * @example
 * const live = record.revokedAt === null && record.expiresAt > Date.now();
 */
export interface ApiTokenRecord {
  /** The public id, part of the token. */
  id: string;
  userId: number;
  /** The owner, as dataset tokens name them. */
  email: string;
  name: string;
  /** The datasets it may open: a subset of the owner's grants when it was made. */
  datasets: string[];
  routeClasses: GrantedRouteClass[];
  /** Whether each dataset token it is exchanged for carries the address that asked for it (`ip`). */
  pinned: boolean;
  createdAt: number;
  lastUsedAt: number | null;
  expiresAt: number;
  revokedAt: number | null;
  /** Who revoked it: the owner's email, an administrator's, or `cli:<user>`. */
  revokedBy: string | null;
}

/**
 * What a new token opens, and for how long.
 *
 * @example
 * const spec: ApiTokenSpec = { name: 'cluster', datasets: ['PPDemo'], routeClasses: ['aggregated'], pinned: false, days: 90 };
 */
export interface ApiTokenSpec {
  name: string;
  datasets: readonly string[];
  routeClasses: readonly GrantedRouteClass[];
  pinned: boolean;
  /** 1 to {@link MAX_API_TOKEN_DAYS}. */
  days: number;
}

/**
 * Why a token was not made; the message is a sentence for the owner's page.
 *
 * @example
 * if (error instanceof ApiTokenRefused) return page({ error: error.message });
 */
export class ApiTokenRefused extends Error {
  override readonly name = 'ApiTokenRefused';
}

/**
 * Whether a token opens anything now: `active`, `expired` or `revoked`.
 *
 * @example
 * apiTokenStatus(record, Date.now()); // 'active'
 */
export function apiTokenStatus(record: ApiTokenRecord, now: number): 'active' | 'expired' | 'revoked' {
  if (record.revokedAt !== null) return 'revoked';
  return record.expiresAt <= now ? 'expired' : 'active';
}

interface Row {
  id: string;
  user_id: number;
  email: string;
  name: string;
  secret_hash: string;
  datasets: string;
  route_classes: string;
  pinned: number;
  created_at: number;
  last_used_at: number | null;
  expires_at: number;
  revoked_at: number | null;
  revoked_by: string | null;
}

const COLUMNS = `t.id, t.user_id, u.email, t.name, t.secret_hash, t.datasets, t.route_classes, t.pinned,
  t.created_at, t.last_used_at, t.expires_at, t.revoked_at, t.revoked_by`;

const SELECT = `SELECT ${COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id`;

// The address's limit and the token named by the id, in one round trip; one row whether or not the id exists.
const CHECK = `SELECT (${LIMIT_REACHED_AT}) AS limit_reached_at, ${COLUMNS}
  FROM (SELECT 1 AS one) q LEFT JOIN api_tokens t ON t.id = ? LEFT JOIN users u ON u.id = t.user_id`;

/**
 * A rate limit to check under a key of LoginFailureStore's table.
 *
 * @example
 * const perAddress: Counter = { key: 'exchange-address:203.0.113.7', limit: { limit: 30, windowMs: 600_000 } };
 */
export interface Counter {
  key: string;
  limit: WindowLimit;
}

/**
 * What an exchange needs to know of a live API token's owner, read in one round trip: how long the token must wait
 * under its own limit (0: not at all), the owner's grants of this moment, and the revocation cutoff a dataset token
 * minted now for the datasets asked for would have to be born after (0: none).
 *
 * @example
 * const { retryAfterMs, grants, cutoff } = await store.apiTokens.forExchange(record, now, { counter, datasets });
 */
export interface ExchangeContext {
  retryAfterMs: number;
  grants: Grant[];
  cutoff: number;
}

function toRecord(row: Row): ApiTokenRecord {
  const nullable = (v: number | null) => (v === null ? null : Number(v));
  return {
    id: row.id,
    userId: Number(row.user_id),
    email: row.email,
    name: row.name,
    datasets: JSON.parse(row.datasets) as string[],
    routeClasses: JSON.parse(row.route_classes) as GrantedRouteClass[],
    pinned: Number(row.pinned) === 1,
    createdAt: Number(row.created_at),
    lastUsedAt: nullable(row.last_used_at),
    expiresAt: Number(row.expires_at),
    revokedAt: nullable(row.revoked_at),
    revokedBy: row.revoked_by,
  };
}

/**
 * What the database keeps of a token: SHA-256 of the whole text. A fast hash is the right one here, unlike for a
 * password: the token holds 256 random bits, so no dictionary or brute force gets anywhere near it, and a slow
 * KDF (scrypt) would cost every exchange tens of milliseconds of CPU, a denial of service for free.
 */
const tokenHash = (token: string): Buffer => createHash('sha256').update(token).digest();

// Compared against when the id names no token, so that an unknown token costs what a wrong one does.
const DUMMY_HASH = tokenHash(generateApiToken().token);
const NO_ID = '~';

// A token's last use is written at most this often, so that each exchange is not a write for it.
const TOUCH_EVERY_MS = 60_000;

/** Serializes the writers of one user's or one token's rows on PostgreSQL (SQLite has one writer anyway). */
async function lock(tx: Sql, key: string): Promise<void> {
  if (tx.dialect === 'postgres') await tx.run('SELECT pg_advisory_xact_lock(hashtext(?))', [key]);
}

/**
 * Personal API tokens: made by their owner within the owner's grants, at most {@link MAX_API_TOKENS_PER_USER} live
 * at once, checked in constant time, revoked by the owner or an administrator. Revoking one withdraws the dataset
 * tokens it was exchanged for, through the revocation feed, in the same transaction.
 *
 * @example
 * const tokens = new ApiTokenStore(sql, revocations);
 * const { token } = await tokens.create(user, { name: 'laptop', datasets: ['PPDemo'], routeClasses: ['aggregated'], pinned: false, days: 90 }, Date.now());
 */
export class ApiTokenStore {
  readonly #sql: Sql;
  readonly #revocations: Recorder;

  constructor(sql: Sql, revocations: Recorder) {
    this.#sql = sql;
    this.#revocations = revocations;
  }

  /**
   * Makes a token and returns it with its record: the only time the token is seen. Throws
   * {@link ApiTokenRefused} for a scope outside the owner's grants (as they are now, read in the same
   * transaction), a name in use by a live token, too many live tokens, or a bad name, class or expiry.
   */
  async create(
    user: { id: number },
    spec: ApiTokenSpec,
    now: number,
  ): Promise<{ token: string; record: ApiTokenRecord }> {
    const name = spec.name.trim();
    // eslint-disable-next-line no-control-regex -- control characters are what is refused here
    if (name === '' || name.length > MAX_API_TOKEN_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(name)) {
      throw new ApiTokenRefused(`Give the token a name of 1 to ${MAX_API_TOKEN_NAME_LENGTH} characters.`);
    }
    const datasets = [...new Set(spec.datasets)];
    if (datasets.length === 0 || !datasets.every((d) => DATASET_LABEL.test(d))) {
      throw new ApiTokenRefused('Choose at least one of your datasets.');
    }
    const classes = GRANTED_ROUTE_CLASSES.filter((c) => spec.routeClasses.includes(c));
    if (classes.length === 0 || classes.length !== new Set(spec.routeClasses).size) {
      throw new ApiTokenRefused('Choose aggregated data, or sample-level data too.');
    }
    if (!Number.isInteger(spec.days) || spec.days < 1 || spec.days > MAX_API_TOKEN_DAYS) {
      throw new ApiTokenRefused(`A token lasts 1 to ${MAX_API_TOKEN_DAYS} days.`);
    }
    const { token, id } = generateApiToken();
    await this.#sql.transaction(async (tx) => {
      await lock(tx, `api-tokens:user:${user.id}`);
      const granted = new Set(
        (await tx.all<{ dataset: string }>('SELECT dataset FROM grants WHERE user_id = ?', [user.id])).map(
          (g) => g.dataset,
        ),
      );
      const outside = datasets.filter((d) => !granted.has(d));
      if (outside.length > 0) {
        throw new ApiTokenRefused(`You have no grant for ${outside.join(', ')}.`);
      }
      const live = await tx.all<{ name: string }>(
        'SELECT name FROM api_tokens WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?',
        [user.id, now],
      );
      if (live.length >= MAX_API_TOKENS_PER_USER) {
        throw new ApiTokenRefused(
          `You have ${MAX_API_TOKENS_PER_USER} live tokens, the most one account may hold: revoke one first.`,
        );
      }
      if (live.some((t) => t.name === name)) {
        throw new ApiTokenRefused('A live token has this name already: choose another.');
      }
      await tx.run(
        `INSERT INTO api_tokens (id, user_id, name, secret_hash, datasets, route_classes, pinned, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          id,
          user.id,
          name,
          tokenHash(token).toString('hex'),
          JSON.stringify(datasets),
          JSON.stringify(classes),
          spec.pinned ? 1 : 0,
          now,
          now + spec.days * 86_400_000,
        ],
      );
    });
    return { token, record: (await this.find(id)) as ApiTokenRecord };
  }

  /**
   * The live token this text is, checked with the client's limit of failures (`address`) in the same statement:
   * `throttled` (how long to wait) when the address has failed too often, whatever the text; `record` for a live
   * token; `refused` for a malformed, unknown, wrong, expired or revoked one alike. Every text costs that one
   * statement (a lookup by id that returns one row whether or not the id exists) and one constant-time comparison
   * of SHA-256 hashes, so the time taken does not tell an unknown token from a wrong one. The failure itself is
   * counted by the caller (LoginFailureStore.hit), which knows what failed.
   */
  async authenticate(
    text: string,
    now: number,
    address: Counter,
  ): Promise<{ throttled: number } | { record: ApiTokenRecord } | { refused: true }> {
    const parsed = parseApiToken(text);
    const given = tokenHash(text);
    const row = await this.#sql.get<{ limit_reached_at: number | null } & (Row | { id: null })>(CHECK, [
      ...windowParams(address.key, address.limit, now),
      parsed?.id ?? NO_ID,
    ]);
    const throttled = retryAfter(row?.limit_reached_at, address.limit, now);
    const found = row === undefined || row.id === null ? undefined : (row as Row);
    const stored = found === undefined ? DUMMY_HASH : Buffer.from(found.secret_hash, 'hex');
    const same = stored.length === given.length && timingSafeEqual(stored, given);
    if (throttled > 0) return { throttled };
    if (!same || found === undefined || parsed === undefined) return { refused: true };
    const record = toRecord(found);
    return apiTokenStatus(record, now) === 'active' ? { record } : { refused: true };
  }

  /**
   * What an exchange with this live token needs ({@link ExchangeContext}) in one statement: the token's own limit
   * (`counter`), the owner's grants, and the revocation cutoff for `datasets` (those asked for, a superset of those
   * the dataset token will carry: a cutoff for one more dataset can only make the exchange wait, never mint a token
   * born revoked).
   */
  async forExchange(
    record: ApiTokenRecord,
    now: number,
    options: { counter: Counter; datasets: readonly string[] },
  ): Promise<ExchangeContext> {
    const { counter } = options;
    const cutoff = cutoffQuery(record.email, options.datasets, now);
    const rows = await this.#sql.all<{
      limit_reached_at: number | null;
      cutoff: number | null;
      dataset: string | null;
      client_auth_result: string | null;
    }>(
      `SELECT (${LIMIT_REACHED_AT}) AS limit_reached_at, (${cutoff.text}) AS cutoff, g.dataset, g.client_auth_result
       FROM (SELECT 1 AS one) q LEFT JOIN grants g ON g.user_id = ? ORDER BY g.dataset`,
      [...windowParams(counter.key, counter.limit, now), ...cutoff.params, record.userId],
    );
    const first = rows[0];
    return {
      retryAfterMs: retryAfter(first?.limit_reached_at, counter.limit, now),
      cutoff: Number(first?.cutoff ?? 0),
      grants: rows.flatMap((row) =>
        row.dataset === null || row.client_auth_result === null
          ? []
          : [toGrant({ dataset: row.dataset, client_auth_result: row.client_auth_result })],
      ),
    };
  }

  async find(id: string): Promise<ApiTokenRecord | undefined> {
    const row = await this.#sql.get<Row>(`${SELECT} WHERE t.id = ?`, [id]);
    return row === undefined ? undefined : toRecord(row);
  }

  /** A user's tokens, newest first, revoked and expired ones included. */
  async forUser(userId: number): Promise<ApiTokenRecord[]> {
    const rows = await this.#sql.all<Row>(`${SELECT} WHERE t.user_id = ? ORDER BY t.created_at DESC, t.id`, [
      userId,
    ]);
    return rows.map(toRecord);
  }

  /** Every user's tokens, newest first, for the administrator; `email` narrows to one user. */
  async list(options: { email?: string; limit: number }): Promise<ApiTokenRecord[]> {
    const rows =
      options.email === undefined
        ? await this.#sql.all<Row>(`${SELECT} ORDER BY t.created_at DESC, t.id LIMIT ?`, [options.limit])
        : await this.#sql.all<Row>(`${SELECT} WHERE u.email = ? ORDER BY t.created_at DESC, t.id LIMIT ?`, [
            options.email,
            options.limit,
          ]);
    return rows.map(toRecord);
  }

  /**
   * Revokes a token and, in the same transaction, every dataset token it was exchanged for that has not expired
   * (by `jti`, through the revocation feed). `ownerId` limits it to that user's tokens (the owner's own page).
   * Returns false when there is no such live token.
   */
  async revoke(
    id: string,
    options: { now: number; actor: string; ownerId?: number | undefined },
  ): Promise<boolean> {
    return this.#sql.transaction(async (tx) => {
      await lock(tx, `api-tokens:token:${id}`);
      const row = await tx.get<{ user_id: number; revoked_at: number | null }>(
        'SELECT user_id, revoked_at FROM api_tokens WHERE id = ?',
        [id],
      );
      if (row === undefined || row.revoked_at !== null) return false;
      if (options.ownerId !== undefined && Number(row.user_id) !== options.ownerId) return false;
      await tx.run('UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE id = ?', [
        options.now,
        options.actor,
        id,
      ]);
      const minted = await tx.all<{ jti: string; exp_s: number }>(
        'SELECT jti, exp_s FROM api_token_minted WHERE api_token_id = ? AND exp_s > ?',
        [id, Math.floor(options.now / 1000)],
      );
      for (const m of minted) {
        await this.#revocations.record(
          tx,
          { type: 'token', jti: m.jti, exp: Number(m.exp_s) },
          { now: options.now, reason: 'api-token-revoked', actor: options.actor },
        );
      }
      await tx.run('DELETE FROM api_token_minted WHERE api_token_id = ?', [id]);
      return true;
    });
  }

  /**
   * Records a dataset token the API token was exchanged for (so that revoking the API token withdraws it), the
   * API token's use (at most once a minute) and, with `counter`, one attempt under that key of the rate limits,
   * unless the API token was revoked since it was checked: then nothing is recorded and the answer is false, and
   * the dataset token must not be handed out. Serialized with {@link ApiTokenStore.revoke}, so that a revocation
   * either sees this dataset token or is seen by this call. One round trip on PostgreSQL, one transaction on SQLite.
   */
  async recordExchange(
    record: ApiTokenRecord,
    minted: { jti: string; exp: number },
    now: number,
    counter?: { key: string },
  ): Promise<boolean> {
    if (this.#sql.dialect === 'postgres') {
      // One statement, so one round trip and its own transaction. FOR SHARE is what serializes it with revoke:
      // revoke's UPDATE of the row waits for this statement's commit (and then finds its record), and this one,
      // finding the row locked by a revocation under way, waits for it and reads the row again (revoked: nothing
      // inserted). The foreign key's own lock (KEY SHARE) would not wait for an update of revoked_at.
      const row = await this.#sql.get<{ recorded: number }>(
        `WITH minted AS (
           INSERT INTO api_token_minted (jti, api_token_id, exp_s)
           SELECT ?, id, ? FROM api_tokens WHERE id = ? AND revoked_at IS NULL AND expires_at > ? FOR SHARE
           RETURNING api_token_id
         ), touched AS (
           UPDATE api_tokens SET last_used_at = ? WHERE id IN (SELECT api_token_id FROM minted)
             AND (last_used_at IS NULL OR last_used_at <= ?)
         ), counted AS (
           INSERT INTO login_failures (key, at_ms) SELECT ?, ? FROM minted WHERE ?
         )
         SELECT count(*)::int AS recorded FROM minted`,
        [
          minted.jti,
          minted.exp,
          record.id,
          now,
          now,
          now - TOUCH_EVERY_MS,
          counter?.key ?? '',
          now,
          counter !== undefined,
        ],
      );
      return row?.recorded === 1;
    }
    // SQLite has one writer: the transaction alone serializes this with revoke.
    return this.#sql.transaction(async (tx) => {
      // Recorded only while the token is live, in one statement: no row means it was revoked or expired since.
      const inserted = await tx.run(
        `INSERT INTO api_token_minted (jti, api_token_id, exp_s)
         SELECT ?, id, ? FROM api_tokens WHERE id = ? AND revoked_at IS NULL AND expires_at > ?`,
        [minted.jti, minted.exp, record.id, now],
      );
      if (inserted.changes === 0) return false;
      if (record.lastUsedAt === null || now - record.lastUsedAt >= TOUCH_EVERY_MS) {
        await tx.run('UPDATE api_tokens SET last_used_at = ? WHERE id = ?', [now, record.id]);
      }
      // The exchange counted against the token's rate limit (LoginFailureStore's table), in the same commit.
      if (counter !== undefined) {
        await tx.run('INSERT INTO login_failures (key, at_ms) VALUES (?, ?)', [counter.key, now]);
      }
      return true;
    });
  }

  /**
   * Forgets the records of dataset tokens that have expired, and tokens that expired or were revoked more than
   * `keepDays` ago (their rows stay that long for the owner's list and the administrator).
   */
  async purge(now: number, keepDays = 90): Promise<number> {
    await this.#sql.run('DELETE FROM api_token_minted WHERE exp_s <= ?', [Math.floor(now / 1000)]);
    const before = now - keepDays * 86_400_000;
    const removed = await this.#sql.run(
      'DELETE FROM api_tokens WHERE expires_at <= ? OR (revoked_at IS NOT NULL AND revoked_at <= ?)',
      [before, before],
    );
    return removed.changes;
  }
}
