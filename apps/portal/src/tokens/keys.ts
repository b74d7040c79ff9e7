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
import type { SigningConfig } from '../config.js';
import type { Logger } from '@pp-embed/server-runtime';

/**
 * The portal's signing keys: the signer for new tokens, and the public keys to publish.
 *
 * @example
 * const keys = hs256Keys(secret, { ttlSeconds: 600 });
 * keys.signer().sign({ datasets: ['PPDemo'], email: 'ana@example.org' });
 */
export interface TokenKeys {
  readonly algorithm: 'HS256' | 'ES256';
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
 * Options of {@link es256KeyDirectory}.
 *
 * @example
 * const options: KeyDirectoryOptions = { dir: 'keys', sql: store.sql, ttlSeconds: 600, rescanSeconds: 60 };
 */
export interface KeyDirectoryOptions extends KeyOptions {
  dir: string;
  /** The store where the public halves and retirement times are kept (the `signing_keys` table). */
  sql: Sql;
  /** How often the directory is looked at for a new key. Default 60 s. */
  rescanSeconds?: number;
  logger?: Logger;
}

interface KeyRow {
  kid: string;
  public_jwk: string;
  retired_at: number | null;
  max_ttl_seconds: number;
}

interface Loaded {
  /** Names, sizes and modification times of the PEM files: unchanged means nothing to do. */
  fingerprint: string;
  signer: Signer;
  /** The signer's public key as published, with the same kid. */
  jwk: JsonWebKeySet['keys'][number];
}

/**
 * ES256 keys from a directory holding one private key per `.pem` file, for rotation without downtime:
 *
 * 1. Add a new key file whose name sorts after the others (e.g. `pp-portal-users keys-add`, which names files by
 *    date). Within `rescanSeconds` it signs every new token and is published; the previous key is retired.
 * 2. A retired key stays in the JWKS until `retiredAt + token ttl + 60 s` (the longest clock leeway a verifier
 *    accepts), i.e. until every token it signed has expired everywhere. Its public half is kept in the database,
 *    so this holds even when its file is deleted at once.
 * 3. After that, delete the old file whenever convenient.
 *
 * The signing key's `kid` is its RFC 7638 thumbprint. Throws a {@link TokenSetupError} naming the file when a
 * key cannot be used, or when the directory holds none.
 *
 * @example
 * const keys = await es256KeyDirectory({ dir: '/etc/pp-portal/keys', sql: store.sql, ttlSeconds: 600 });
 * app.get('/.well-known/jwks.json', async (c) => c.json(await keys.jwks()));
 */
export async function es256KeyDirectory(options: KeyDirectoryOptions): Promise<TokenKeys> {
  const clock = options.clock ?? Date.now;
  const rescanMs = (options.rescanSeconds ?? 60) * 1000;
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
    let loaded: Loaded | undefined;
    for (const name of files) {
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
        loaded = { fingerprint, signer, jwk: publicJwk(key, 'ES256', signer.kid) };
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
    }
    return loaded as Loaded;
  }

  async function activate(loaded: Loaded, previousKid: string | undefined, now: number): Promise<void> {
    const kid = loaded.signer.kid as string;
    await sql.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO signing_keys (kid, public_jwk, first_seen_at, retired_at, max_ttl_seconds)
         VALUES (?, ?, ?, NULL, ?)
         ON CONFLICT (kid) DO UPDATE SET retired_at = NULL, max_ttl_seconds = CASE
           WHEN signing_keys.max_ttl_seconds > excluded.max_ttl_seconds THEN signing_keys.max_ttl_seconds
           ELSE excluded.max_ttl_seconds END`,
        [kid, JSON.stringify(loaded.jwk), now, ttlSeconds],
      );
      if (previousKid !== undefined && previousKid !== kid) {
        // Another process on the same store may have retired our previous key earlier than we stopped using it.
        await tx.run(
          `UPDATE signing_keys SET retired_at = CASE WHEN coalesce(retired_at, 0) > ? THEN retired_at ELSE ? END
           WHERE kid = ?`,
          [now, now, previousKid],
        );
      }
      await tx.run('UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL AND kid <> ?', [
        now,
        kid,
      ]);
    });
  }

  const files = pemFiles();
  let state = load(files, fingerprintOf(files));
  await activate(state, undefined, clock());
  let checkedAt = clock();

  async function rescan(force: boolean): Promise<void> {
    const now = clock();
    if (!force && now - checkedAt < rescanMs) return;
    checkedAt = now;
    try {
      const names = pemFiles();
      const fingerprint = fingerprintOf(names);
      if (fingerprint === state.fingerprint) return;
      const next = load(names, fingerprint);
      const previousKid = state.signer.kid;
      state = next;
      await activate(next, previousKid, now);
      if (next.signer.kid !== previousKid) {
        options.logger?.info('signing_key_rotated', { kid: next.signer.kid, retired: previousKid });
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
      return state.signer;
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
 * The keys a configuration asks for: the HS256 secret, or the ES256 key directory.
 *
 * @example
 * const keys = await createTokenKeys(config.signing, { sql: store.sql, ttlSeconds: config.tokenTtlSeconds, logger });
 */
export async function createTokenKeys(
  signing: SigningConfig,
  options: KeyOptions & { sql: Sql; logger?: Logger },
): Promise<TokenKeys> {
  return signing.algorithm === 'HS256'
    ? hs256Keys(signing.secret.reveal(), options)
    : es256KeyDirectory({ ...options, dir: signing.keysDir });
}
