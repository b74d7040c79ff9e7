import type { KeyObject } from 'node:crypto';
import { TokenSetupError } from './errors.js';

/** The JWS algorithms this package signs and verifies. `none` is never one of them (RFC 8725 §3.1). */
export const ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
] as const;

export type Algorithm = (typeof ALGORITHMS)[number];

const ALGORITHM_SET: ReadonlySet<string> = new Set(ALGORITHMS);

/** True when `value` is one of {@link ALGORITHMS}, compared exactly (so `none`, `None` and `hs256` are not). */
export function isAlgorithm(value: unknown): value is Algorithm {
  return typeof value === 'string' && ALGORITHM_SET.has(value);
}

/** Bytes an HMAC secret needs for each HS algorithm: at least the hash output size (RFC 7518 §3.2). */
export const HMAC_MIN_SECRET_BYTES: Readonly<Record<'HS256' | 'HS384' | 'HS512', number>> = {
  HS256: 32,
  HS384: 48,
  HS512: 64,
};

const EC_CURVE_ALGORITHM: Readonly<Record<string, Algorithm>> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
};

/** The smallest RSA modulus accepted (RFC 7518 §3.3). */
export const RSA_MIN_BITS = 2048;

/**
 * The algorithms a key may be used with: one family per key (RFC 8725 §3.1). An HMAC secret gets HS*, an RSA
 * key RS* and PS*, an EC key only the ES algorithm of its curve. Rejects unsupported key types and weak RSA keys.
 *
 * @example
 * algorithmFamily(createPublicKey(pem)); // ['ES256'] for a P-256 key
 */
export function algorithmFamily(key: KeyObject): readonly Algorithm[] {
  if (key.type === 'secret') return ['HS256', 'HS384', 'HS512'];
  const type = key.asymmetricKeyType;
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < RSA_MIN_BITS) {
      throw new TokenSetupError(
        'key_unsupported',
        `RSA key of ${bits} bits; at least ${RSA_MIN_BITS} are needed`,
      );
    }
    return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
  }
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
    const alg = EC_CURVE_ALGORITHM[curve];
    if (alg === undefined) throw new TokenSetupError('key_unsupported', `EC curve ${curve} is not supported`);
    return [alg];
  }
  throw new TokenSetupError(
    'key_unsupported',
    `${type ?? 'unknown'} keys are not supported; use HMAC, RSA or EC`,
  );
}

/** The algorithm a key gets when none is asked for: HS256, RS256, or its curve's ES algorithm. */
export function defaultAlgorithm(key: KeyObject): Algorithm {
  const family = algorithmFamily(key);
  // The family is never empty: algorithmFamily throws instead.
  return family[0] as Algorithm;
}

/**
 * Checks that every requested algorithm belongs to the key's family and returns the pinned list.
 * Without a request the key's default algorithm alone is pinned, so a verifier never accepts more than one
 * algorithm unless the operator asked for it.
 */
export function pinAlgorithms(
  key: KeyObject,
  requested: readonly string[] | undefined,
): readonly Algorithm[] {
  const family = algorithmFamily(key);
  if (requested === undefined) return [defaultAlgorithm(key)];
  if (requested.length === 0)
    throw new TokenSetupError('algorithm_not_allowed', 'algorithms must not be empty');
  for (const alg of requested) {
    if (!isAlgorithm(alg))
      throw new TokenSetupError('algorithm_not_allowed', `algorithm ${alg} is not supported`);
    if (!family.includes(alg)) {
      throw new TokenSetupError(
        'algorithm_not_allowed',
        `algorithm ${alg} does not fit a ${describeKey(key)}`,
      );
    }
  }
  return [...new Set(requested as readonly Algorithm[])];
}

/** A short, secret-free description of a key for error messages. */
export function describeKey(key: KeyObject): string {
  if (key.type === 'secret') return 'shared secret';
  if (key.asymmetricKeyType === 'ec') return `EC ${key.asymmetricKeyDetails?.namedCurve ?? ''} key`;
  if (key.asymmetricKeyType === 'rsa') return `RSA ${key.asymmetricKeyDetails?.modulusLength ?? ''}-bit key`;
  return `${key.asymmetricKeyType ?? 'unknown'} key`;
}
