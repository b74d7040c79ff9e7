import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { Algorithm } from './algorithms.js';
import { publicJwk } from './keys.js';
import type { JsonWebKeySet } from './jwks.js';

/**
 * A new random HMAC secret, base64url encoded: 32 random bytes for HS256 (43 characters), 48 for HS384,
 * 64 for HS512, so that its UTF-8 form is longer than the hash in any case.
 *
 * @example
 * generateSecret(); // 'q3J9…' (43 characters)
 */
export function generateSecret(alg: 'HS256' | 'HS384' | 'HS512' = 'HS256'): string {
  const bytes = { HS256: 32, HS384: 48, HS512: 64 }[alg];
  return randomBytes(bytes).toString('base64url');
}

/**
 * A new signing key pair: the private key as PKCS#8 PEM, and the public key as a JWKS with its RFC 7638
 * thumbprint as `kid`.
 *
 * @example
 * const { privateKeyPem, jwks, kid } = generateKeyPair('ES256');
 */
export function generateKeyPair(alg: 'ES256' | 'RS256'): {
  privateKeyPem: string;
  jwks: JsonWebKeySet;
  kid: string;
} {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicJwk(pair.publicKey, alg as Algorithm);
  return {
    privateKeyPem: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    jwks: { keys: [jwk] },
    kid: jwk.kid,
  };
}
