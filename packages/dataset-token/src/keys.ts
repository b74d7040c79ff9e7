import { createHash, createPrivateKey, createPublicKey, createSecretKey, KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HMAC_MIN_SECRET_BYTES, type Algorithm, algorithmFamily } from './algorithms.js';
import { TokenSetupError } from './errors.js';

/**
 * A JSON Web Key (RFC 7517 §4) as `publicKeyFrom`, `privateKeyFrom` and a JWKS take it and `publicJwk` returns
 * it. Declared here, in the shape of Node's own, because the published declarations must compile with every
 * supported `@types/node`, and `node:crypto` no longer exports a `JsonWebKey` type in `@types/node` 26.
 *
 * @example
 * const jwk: JsonWebKey = { kty: 'EC', crv: 'P-256', x: '…', y: '…' };
 */
export interface JsonWebKey {
  crv?: string;
  d?: string;
  dp?: string;
  dq?: string;
  e?: string;
  k?: string;
  kty?: string;
  n?: string;
  p?: string;
  q?: string;
  qi?: string;
  x?: string;
  y?: string;
  [member: string]: unknown;
}

/**
 * Where a shared HMAC secret comes from: the value itself, an environment variable, or a file (one trailing
 * newline is dropped, as editors add one).
 */
export type SecretSource = string | Uint8Array | { env: string } | { file: string };

// Secrets copied from tutorials and documentation: long enough to pass a length check, known to everyone.
const WELL_KNOWN_SECRETS: ReadonlySet<string> = new Set([
  'a-string-secret-at-least-256-bits-long',
  'your-256-bit-secret',
  'your-384-bit-secret',
  'your-512-bit-secret',
  'my-secret',
  '<my-secret>',
  'secret',
  'changeme',
  'change-me',
  'changeit',
  'password',
  'supersecret',
  'shhhhh',
  'keyboard cat',
  'secretOrPrivateKey',
  'replace-with-a-long-random-secret-of-at-least-32-bytes',
]);

/**
 * Reads a secret from its source. An unset or empty environment variable or file is an error, so a server never
 * starts with an empty secret.
 *
 * @example
 * const secret = readSecret({ env: 'PP_DS_SECRET' });
 */
export function readSecret(source: SecretSource, env: NodeJS.ProcessEnv = process.env): Uint8Array {
  if (typeof source === 'string') return Buffer.from(source, 'utf8');
  if (source instanceof Uint8Array) return source;
  if ('env' in source) {
    // Own members only: a name such as "constructor" must not reach Object.prototype.
    const value = Object.hasOwn(env, source.env) ? env[source.env] : undefined;
    if (typeof value !== 'string' || value === '') {
      throw new TokenSetupError('key_unavailable', `environment variable ${source.env} is not set`);
    }
    return Buffer.from(value, 'utf8');
  }
  let text: string;
  try {
    text = readFileSync(source.file, 'utf8');
  } catch (cause) {
    throw new TokenSetupError('key_unavailable', `cannot read secret file ${source.file}`, { cause });
  }
  text = text.replace(/\r?\n$/, '');
  if (text === '') throw new TokenSetupError('key_unavailable', `secret file ${source.file} is empty`);
  return Buffer.from(text, 'utf8');
}

/**
 * Checks an HMAC secret's strength for an algorithm: at least the hash size in bytes (RFC 7518 §3.2), not a
 * secret published in tutorials, not a run of one repeated character or a handful of distinct ones.
 * Returns a sentence describing the problem, or undefined when the secret is acceptable.
 *
 * @example
 * secretProblem(Buffer.from('short'), 'HS256'); // '5 bytes, HS256 needs at least 32'
 */
export function secretProblem(secret: Uint8Array, alg: Algorithm): string | undefined {
  const min = HMAC_MIN_SECRET_BYTES[alg as keyof typeof HMAC_MIN_SECRET_BYTES];
  if (min === undefined) return `${alg} is not an HMAC algorithm`;
  const text = Buffer.from(secret).toString('utf8');
  if (WELL_KNOWN_SECRETS.has(text)) return 'a well-known example secret; generate one with `pp-token secret`';
  if (secret.byteLength < min) return `${secret.byteLength} bytes, ${alg} needs at least ${min}`;
  if (new Set(secret).size < 8)
    return 'too few distinct characters to be random; generate one with `pp-token secret`';
  return undefined;
}

/**
 * Turns a secret into a KeyObject once, after checking its strength for every algorithm it will be used with.
 *
 * @example
 * const key = secretKey(readSecret({ env: 'PP_DS_SECRET' }), ['HS256']);
 */
export function secretKey(secret: Uint8Array, algorithms: readonly Algorithm[]): KeyObject {
  for (const alg of algorithms) {
    const problem = secretProblem(secret, alg);
    if (problem !== undefined) {
      throw new TokenSetupError(
        problem.startsWith('a well-known') || problem.startsWith('too few')
          ? 'secret_weak'
          : 'secret_too_short',
        problem,
      );
    }
  }
  return createSecretKey(secret);
}

/**
 * Parses a PEM (or a JWK object) public key into a KeyObject. A private key is accepted and reduced to its
 * public half, so a verifier can never sign.
 *
 * @example
 * const key = publicKeyFrom(readFileSync('portal-public.pem', 'utf8'));
 */
export function publicKeyFrom(input: string | KeyObject | JsonWebKey): KeyObject {
  let key: KeyObject;
  try {
    if (typeof input === 'string') key = createPublicKey(input);
    else if (input instanceof KeyObject) key = input.type === 'private' ? createPublicKey(input) : input;
    else key = createPublicKey({ key: input, format: 'jwk' });
  } catch (cause) {
    throw new TokenSetupError('key_invalid', 'not a valid public key (PEM or JWK expected)', { cause });
  }
  if (key.type !== 'public')
    throw new TokenSetupError('key_invalid', 'a public key is needed here, not a secret');
  algorithmFamily(key);
  return key;
}

/**
 * Parses a PEM (or JWK object) private key for signing into a KeyObject, checking type and size.
 *
 * @example
 * const key = privateKeyFrom(readFileSync('portal-private.pem', 'utf8'));
 */
export function privateKeyFrom(input: string | KeyObject | JsonWebKey): KeyObject {
  let key: KeyObject;
  try {
    if (typeof input === 'string') key = createPrivateKey(input);
    else if (input instanceof KeyObject) key = input;
    else key = createPrivateKey({ key: input, format: 'jwk' });
  } catch (cause) {
    throw new TokenSetupError('key_invalid', 'not a valid private key (PEM or JWK expected)', { cause });
  }
  if (key.type !== 'private') throw new TokenSetupError('key_invalid', 'a private key is needed to sign');
  algorithmFamily(key);
  return key;
}

/** Reads a PEM file, with an error that names the file. */
export function readPemFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new TokenSetupError('key_unavailable', `cannot read key file ${file}`, { cause });
  }
}

/**
 * The RFC 7638 JWK thumbprint (SHA-256, base64url) of an asymmetric key's public half: the `kid` that
 * `pp-token keygen` writes and that a signer puts in the header when no other `kid` is given.
 *
 * @example
 * jwkThumbprint(publicKey); // 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'
 */
export function jwkThumbprint(key: KeyObject): string {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  // RFC 7638 §3.2: only the required members, in lexicographic order, no white space.
  const members =
    jwk.kty === 'EC'
      ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
      : jwk.kty === 'RSA'
        ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
        : undefined;
  if (members === undefined)
    throw new TokenSetupError('key_unsupported', `cannot compute a thumbprint for ${jwk.kty}`);
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/**
 * The public JWK of a key, with `kid`, `alg` and `use: "sig"`, ready to publish in a JWKS.
 *
 * @example
 * const jwks = { keys: [publicJwk(privateKey, 'ES256')] };
 */
export function publicJwk(
  key: KeyObject,
  alg: Algorithm,
  kid: string = jwkThumbprint(key),
): JsonWebKey & { kid: string } {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return { ...pub.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}
