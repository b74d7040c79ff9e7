import { randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { type Algorithm, isAlgorithm, pinAlgorithms } from './algorithms.js';
import { checkSubject, type TokenSubject } from './claims.js';
import { TokenSetupError } from './errors.js';
import {
  jwkThumbprint,
  privateKeyFrom,
  readPemFile,
  readSecret,
  type SecretSource,
  secretKey,
} from './keys.js';

/** Where a signer gets its key. */
export type SigningKey =
  { secret: SecretSource } | { privateKey: string | KeyObject } | { privateKeyFile: string };

export interface SignerOptions {
  /** Required, never inferred: the portal states which algorithm it signs with. */
  algorithm: Algorithm;
  key: SigningKey;
  /** Header `kid`. Default: none for secrets, the RFC 7638 thumbprint for private keys. */
  kid?: string;
  issuer?: string;
  audience?: string | readonly string[];
  /** Lifetime of a token when `sign` is not given one. Default 600 s (10 minutes). */
  ttlSeconds?: number;
  /** Longest lifetime `sign` accepts. Default 3600 s. */
  maxTtlSeconds?: number;
  now?: () => number;
  env?: NodeJS.ProcessEnv;
}

export interface SignRequest extends TokenSubject {
  /** Lifetime of this token in seconds; at most the signer's `maxTtlSeconds`. */
  ttlSeconds?: number;
}

/** Mints dataset tokens with a key fixed at construction. */
export interface Signer {
  /** Returns a compact JWS. Throws {@link TokenSetupError} `claims_invalid` for claims a verifier would refuse. */
  sign(request: SignRequest): string;
  /**
   * Signs a document other than a dataset token with the same key (a revocation feed), with `iat` now, `exp`
   * `ttlSeconds` later and the given `typ` header, which a token verifier refuses (RFC 8725 §3.11).
   */
  signDocument(
    payload: Readonly<Record<string, unknown>>,
    options: { typ: string; ttlSeconds: number },
  ): string;
  readonly algorithm: Algorithm;
  readonly kid: string | undefined;
  /** The default lifetime in seconds, so that an endpoint can answer `expiresIn`. */
  readonly ttlSeconds: number;
}

function lifetime(name: 'ttlSeconds' | 'maxTtlSeconds', value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new TokenSetupError(
      'option_invalid',
      `${name} must be a whole number of seconds from 1 to ${max}`,
      {
        option: name,
      },
    );
  }
  return value;
}

/**
 * Builds a signer for a portal's server. The key is checked and turned into a KeyObject here: an HMAC secret
 * shorter than the hash or copied from a tutorial, an RSA key under 2048 bits, or an algorithm that does not fit
 * the key throws a {@link TokenSetupError} now.
 *
 * @example
 * const signer = createSigner({ algorithm: 'HS256', key: { secret: { env: 'PP_DS_SECRET' } } });
 * const token = signer.sign({ datasets: ['TermdbTest'], email: 'ana@example.org', clientAuthResult: { role: 'analyst' } });
 */
export function createSigner(options: SignerOptions): Signer {
  const { algorithm } = options;
  if (!isAlgorithm(algorithm)) {
    throw new TokenSetupError('algorithm_not_allowed', `algorithm ${String(algorithm)} is not supported`);
  }
  const maxTtl = lifetime('maxTtlSeconds', options.maxTtlSeconds ?? 3600, 366 * 86_400);
  const ttl = lifetime('ttlSeconds', options.ttlSeconds ?? Math.min(600, maxTtl), maxTtl);
  const now = options.now ?? Date.now;
  const source = options.key;
  let key: KeyObject;
  let kid = options.kid;
  if ('secret' in source) {
    if (!algorithm.startsWith('HS')) {
      throw new TokenSetupError(
        'algorithm_not_allowed',
        `algorithm ${algorithm} needs a private key, not a secret`,
      );
    }
    key = secretKey(readSecret(source.secret, options.env), [algorithm]);
  } else {
    key = privateKeyFrom('privateKey' in source ? source.privateKey : readPemFile(source.privateKeyFile));
    pinAlgorithms(key, [algorithm]);
    kid ??= jwkThumbprint(key);
  }
  const audience = options.audience === undefined ? undefined : ([] as string[]).concat(options.audience);

  return {
    algorithm,
    kid,
    ttlSeconds: ttl,
    sign(request) {
      try {
        checkSubject(request as unknown as Record<string, unknown>, (claim, problem) => {
          throw new TokenSetupError('claims_invalid', `${claim} ${problem}`);
        });
      } catch (error) {
        if (error instanceof TokenSetupError) throw error;
        throw new TokenSetupError('claims_invalid', 'claims are not valid', { cause: error });
      }
      const seconds = lifetime('ttlSeconds', request.ttlSeconds ?? ttl, maxTtl);
      const iat = Math.floor(now() / 1000);
      const payload: Record<string, unknown> = {
        datasets: [...request.datasets],
        email: request.email,
        iat,
        exp: iat + seconds,
        jti: randomUUID(),
      };
      if (request.ip !== undefined) payload.ip = request.ip;
      if (request.clientAuthResult !== undefined) payload.clientAuthResult = request.clientAuthResult;
      if (request.access !== undefined) payload.access = request.access;
      if (request.client !== undefined) payload.client = request.client;
      if (request.apiTokenId !== undefined) payload.apiTokenId = request.apiTokenId;
      if (request.routeClasses !== undefined) payload.routeClasses = [...request.routeClasses];
      if (options.issuer !== undefined) payload.iss = options.issuer;
      if (audience !== undefined) payload.aud = audience.length === 1 ? audience[0] : audience;
      return jwt.sign(payload, key, {
        algorithm,
        header: kid === undefined ? { alg: algorithm, typ: 'JWT' } : { alg: algorithm, typ: 'JWT', kid },
      });
    },
    signDocument(document, { typ, ttlSeconds }) {
      if (typ === 'JWT' || typ === '') {
        throw new TokenSetupError('option_invalid', 'a document needs a typ of its own, not "JWT"');
      }
      const iat = Math.floor(now() / 1000);
      const seconds = lifetime('ttlSeconds', ttlSeconds, 366 * 86_400);
      return jwt.sign({ ...document, iat, exp: iat + seconds }, key, {
        algorithm,
        header: kid === undefined ? { alg: algorithm, typ } : { alg: algorithm, typ, kid },
      });
    },
  };
}
