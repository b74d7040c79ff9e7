import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  createSigner,
  type JsonWebKeySet,
  MAX_LEEWAY_SECONDS,
  privateKeyFrom,
  publicJwk,
  type Signer,
  TokenSetupError,
} from '@pp-embed/dataset-token';
import type { Sql } from '../db/sql.js';
import type { RegisteredCredential, SigningConfig } from '../config.js';
import type { Logger } from '@pp-embed/server-runtime';

/**
 * The portal's signing keys: the signer for new tokens, and the public keys to publish.
 *
 * @example
 * const keys = hs256Keys(secret, { ttlSeconds: 600 });
 * keys.signer().sign({ datasets: ['PPDemo'], email: 'ana@example.org' });
 */
export interface TokenKeys {
  readonly algorithm: 'HS256' | 'ES256' | 'RS256';
  /** The signer for a token (or the revocation feed) signed now. */
  signer(): Promise<Signer>;
  /** The JWKS to publish at `/.well-known/jwks.json`; undefined when the portal signs with a shared secret. */
  jwks(): Promise<JsonWebKeySet | undefined>;
  /** Reads the key directory again now (ES256); a no-op for HS256. */
  reload(): Promise<void>;
}

/**
 * Options shared by both kinds of keys.
 *
 * @example
 * const options: KeyOptions = { ttlSeconds: 600, clock: () => frozenNow };
 */
export interface KeyOptions {
  /** The lifetime of every token the portal mints. */
  ttlSeconds: number;
  /** Milliseconds since the epoch. */
  clock?: () => number;
}

/**
 * Keys for HS256: one secret, shared with the visualization server. Nothing is published.
 *
 * @example
 * const keys = hs256Keys(config.signing.secret.reveal(), { ttlSeconds: config.tokenTtlSeconds });
 */
export function hs256Keys(secret: Uint8Array, options: KeyOptions): TokenKeys {
  const signer = createSigner({
    algorithm: 'HS256',
    key: { secret },
    ttlSeconds: options.ttlSeconds,
    maxTtlSeconds: options.ttlSeconds,
    now: options.clock ?? Date.now,
  });
  return {
    algorithm: 'HS256',
    signer: async () => signer,
    jwks: async () => undefined,
    reload: async () => undefined,
  };
}

/**
 * How long the portal's JWKS may be cached (`Cache-Control: max-age`): a verifier refreshes it at least this often.
 *
 * @example
 * c.header('Cache-Control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
 */
export const JWKS_MAX_AGE_SECONDS = 60;

/**
 * The rotation rule: a new key is published this long before it signs, the JWKS's max-age plus a minute for a
 * verifier whose refresh failed once or whose clock runs behind. Every verifier then holds the key before the
 * first token signed with it arrives, so no user is refused during a rotation.
 *
 * @example
 * const signsFrom = publishedAt + PUBLISH_AHEAD_SECONDS * 1000;
 */
export const PUBLISH_AHEAD_SECONDS = JWKS_MAX_AGE_SECONDS + 60;

/**
 * Options of {@link es256KeyDirectory}.
 *
 * @example
 * const options: KeyDirectoryOptions = { dir: 'keys', sql: store.sql, ttlSeconds: 600, rescanSeconds: 60 };
 */
export interface KeyDirectoryOptions extends KeyOptions {
  dir: string;
  /** The store where the public halves, publication and retirement times are kept (the `signing_keys` table). */
  sql: Sql;
  /** How often the directory is looked at for a new key. Default 60 s. */
  rescanSeconds?: number;
  /** How long a new key is published before it signs. Default {@link PUBLISH_AHEAD_SECONDS}. */
  publishAheadSeconds?: number;
  logger?: Logger;
}

interface KeyRow {
  kid: string;
  public_jwk: string;
  first_seen_at: number;
  retired_at: number | null;
  max_ttl_seconds: number;
}

/** One private key of the directory. */
interface FileKey {
  name: string;
  signer: Signer;
  /** Its public key as published, with the same kid. */
  jwk: JsonWebKeySet['keys'][number];
}

interface Loaded {
  /** Names, sizes and modification times of the PEM files: unchanged means nothing to read again. */
  fingerprint: string;
  /** In file name order. */
  keys: readonly FileKey[];
}

/**
 * ES256 keys from a directory holding one private key per `.pem` file, for rotation without a refused token:
 *
 * 1. Add a new key file whose name sorts after the others (`pp-portal-users keys-add` names files by date).
 *    Within `rescanSeconds` it is published in the JWKS, and `publishAheadSeconds` later (two minutes by default:
 *    the JWKS's max-age plus one) it signs every new token, so every verifier already has it; the previous key is
 *    then retired.
 * 2. A retired key stays in the JWKS until `retiredAt + token ttl + 60 s` (the longest clock leeway a verifier
 *    accepts), i.e. until every token it signed has expired everywhere. Its public half is kept in the database,
 *    so this holds even when its file is deleted at once.
 * 3. After that, delete the old file whenever convenient.
 *
 * The first key of a new directory signs at once: no verifier can hold an older one. Publication times are kept
 * in the database, so several portal processes on one database switch keys together and a restart does not
 * start the wait again. `reload()` (SIGHUP) publishes a new key at once; it still signs only after the wait. The
 * signing key's `kid` is its RFC 7638 thumbprint. Throws a {@link TokenSetupError} naming the file when a key
 * cannot be used, or when the directory holds none.
 *
 * @example
 * const keys = await es256KeyDirectory({ dir: '/etc/pp-portal/keys', sql: store.sql, ttlSeconds: 600 });
 * app.get('/.well-known/jwks.json', async (c) => c.json(await keys.jwks()));
 */
export async function es256KeyDirectory(options: KeyDirectoryOptions): Promise<TokenKeys> {
  const clock = options.clock ?? Date.now;
  const rescanMs = (options.rescanSeconds ?? 60) * 1000;
  const aheadMs = (options.publishAheadSeconds ?? PUBLISH_AHEAD_SECONDS) * 1000;
  const { sql, dir, ttlSeconds } = options;

  function fingerprintOf(files: readonly string[]): string {
    return files
      .map((name) => {
        const s = statSync(join(dir, name));
        return `${name}:${s.size}:${s.mtimeMs}`;
      })
      .join('\n');
  }

  function pemFiles(): string[] {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (cause) {
      throw new TokenSetupError('key_unavailable', `cannot read the key directory ${dir}`, { cause });
    }
    return names.filter((n) => n.endsWith('.pem')).sort();
  }

  function load(files: readonly string[], fingerprint: string): Loaded {
    if (files.length === 0) {
      throw new TokenSetupError('key_unavailable', `the key directory ${dir} holds no .pem file`);
    }
    // Every file is checked, not only the newest: a broken key is reported when it is added, not at rotation.
    const keys = files.map((name): FileKey => {
      const file = join(dir, name);
      try {
        const key = privateKeyFrom(readFileSync(file, 'utf8'));
        const signer = createSigner({
          algorithm: 'ES256',
          key: { privateKey: key },
          ttlSeconds,
          maxTtlSeconds: ttlSeconds,
          now: clock,
        });
        return { name, signer, jwk: publicJwk(key, 'ES256', signer.kid) };
      } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new TokenSetupError(
          'key_invalid',
          `${file}: ${reason} (an ES256 P-256 private key is needed)`,
          {
            cause,
          },
        );
      }
    });
    return { fingerprint, keys };
  }

  /**
   * Publishes every key of the directory and picks the signer: the last key, in file name order, that has been
   * published for `publishAheadSeconds`; while none has, the key that signed so far; failing that (a new
   * directory, or a restart after the signing key's file was removed), the last key.
   */
  async function choose(loaded: Loaded, current: Signer | undefined, now: number): Promise<Signer> {
    return sql.transaction(async (tx) => {
      for (const key of loaded.keys) {
        const published = await tx.run(
          `INSERT INTO signing_keys (kid, public_jwk, first_seen_at, retired_at, max_ttl_seconds)
           VALUES (?, ?, ?, NULL, ?)
           ON CONFLICT (kid) DO NOTHING`,
          [key.signer.kid, JSON.stringify(key.jwk), now, ttlSeconds],
        );
        if (published.changes > 0) {
          options.logger?.info('signing_key_published', {
            kid: key.signer.kid,
            signsFrom: new Date(now + aheadMs).toISOString(),
          });
        }
      }
      const ripe: FileKey[] = [];
      for (const key of loaded.keys) {
        const row = await tx.get<Pick<KeyRow, 'first_seen_at'>>(
          'SELECT first_seen_at FROM signing_keys WHERE kid = ?',
          [key.signer.kid],
        );
        // PostgreSQL's BIGINT arrives as a string.
        if (row !== undefined && Number(row.first_seen_at) + aheadMs <= now) ripe.push(key);
      }
      const chosen = ripe.at(-1)?.signer ?? current ?? (loaded.keys.at(-1) as FileKey).signer;
      const kid = chosen.kid as string;
      if (current !== undefined && current.kid !== kid) {
        // Another process on the same store may have retired our previous key earlier than we stopped using it.
        await tx.run(
          `UPDATE signing_keys SET retired_at = CASE WHEN coalesce(retired_at, 0) > ? THEN retired_at ELSE ? END
           WHERE kid = ?`,
          [now, now, current.kid],
        );
      }
      // The signing key is never retired, even if a key that replaced it was removed and it signs again.
      await tx.run(
        `UPDATE signing_keys SET retired_at = NULL, max_ttl_seconds = CASE
           WHEN max_ttl_seconds > ? THEN max_ttl_seconds ELSE ? END
         WHERE kid = ?`,
        [ttlSeconds, ttlSeconds, kid],
      );
      // Keys that have been published long enough to sign but do not: a newer key took over. Keys still waiting
      // out their publication time are not touched.
      await tx.run(
        'UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL AND kid <> ? AND first_seen_at <= ?',
        [now, kid, now - aheadMs],
      );
      return chosen;
    });
  }

  const files = pemFiles();
  let state = load(files, fingerprintOf(files));
  let signer = await choose(state, undefined, clock());
  let checkedAt = clock();

  async function rescan(force: boolean): Promise<void> {
    const now = clock();
    if (!force && now - checkedAt < rescanMs) return;
    checkedAt = now;
    try {
      const names = pemFiles();
      const fingerprint = fingerprintOf(names);
      if (fingerprint !== state.fingerprint) state = load(names, fingerprint);
      const previous = signer;
      signer = await choose(state, previous, now);
      if (signer.kid !== previous.kid) {
        options.logger?.info('signing_key_rotated', { kid: signer.kid, retired: previous.kid });
      }
    } catch (error) {
      // A half-copied or broken new file must not stop minting: keep signing with the last good key.
      options.logger?.error('signing_keys_unusable', {
        dir,
        message: error instanceof Error ? error.message : String(error),
      });
    }
  }

  return {
    algorithm: 'ES256',
    async signer() {
      await rescan(false);
      return signer;
    },
    async jwks() {
      await rescan(false);
      const now = clock();
      const rows = await sql.all<KeyRow>(
        'SELECT kid, public_jwk, retired_at, max_ttl_seconds FROM signing_keys ORDER BY first_seen_at, kid',
      );
      const keys = rows
        .map((row) => ({
          ...row,
          retired_at: row.retired_at === null ? null : Number(row.retired_at),
          max_ttl_seconds: Number(row.max_ttl_seconds),
        }))
        .filter(
          (row) =>
            row.retired_at === null ||
            now < row.retired_at + (row.max_ttl_seconds + MAX_LEEWAY_SECONDS) * 1000,
        )
        .map((row) => JSON.parse(row.public_jwk) as JsonWebKeySet['keys'][number]);
      return { keys };
    },
    reload: () => rescan(true),
  };
}

/**
 * Keys from the credential file of a portal registered with `pp-token embedder add`: its one secret or private
 * key, and its `kid` in every token's header, which is how the visualization server picks the key of the entry
 * (during a rotation it holds two). A private key's public half is published, for the revocation feed's readers.
 *
 * @example
 * const keys = registeredKeys(config.signing.credential, { ttlSeconds: 600 });
 */
export function registeredKeys(credential: RegisteredCredential, options: KeyOptions): TokenKeys {
  const text = Buffer.from(credential.key.reveal()).toString('utf8');
  const signer = createSigner({
    algorithm: credential.alg,
    key: credential.alg === 'HS256' ? { secret: credential.key.reveal() } : { privateKey: text },
    kid: credential.kid,
    ttlSeconds: options.ttlSeconds,
    maxTtlSeconds: options.ttlSeconds,
    now: options.clock ?? Date.now,
  });
  const jwks: JsonWebKeySet | undefined =
    credential.alg === 'HS256'
      ? undefined
      : { keys: [publicJwk(privateKeyFrom(text), credential.alg, credential.kid)] };
  return {
    algorithm: credential.alg,
    signer: async () => signer,
    jwks: async () => jwks,
    reload: async () => undefined,
  };
}

/**
 * The keys a configuration asks for: the HS256 secret, the ES256 key directory, or a registered credential.
 *
 * @example
 * const keys = await createTokenKeys(config.signing, { sql: store.sql, ttlSeconds: config.tokenTtlSeconds, logger });
 */
export async function createTokenKeys(
  signing: SigningConfig,
  options: KeyOptions & { sql: Sql; logger?: Logger },
): Promise<TokenKeys> {
  if (signing.algorithm === 'registered') return registeredKeys(signing.credential, options);
  return signing.algorithm === 'HS256'
    ? hs256Keys(signing.secret.reveal(), options)
    : es256KeyDirectory({ ...options, dir: signing.keysDir });
}
