/**
 * Compact JWS built by hand with node:crypto, so that every byte of a hostile token is ours to choose: header and
 * payload as raw text (duplicate members, non-objects, odd numbers), any algorithm name, any key, any signature.
 * The token package's signer refuses to make most of these, which is the point of having its own verifier tested
 * against them.
 */
import { createHmac, type KeyObject, constants, sign } from 'node:crypto';

/** Algorithms this module can actually compute a signature for. */
export type ForgeAlgorithm =
  | 'HS256'
  | 'HS384'
  | 'HS512'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512';

/**
 * Base64url without padding (RFC 7515 §2).
 *
 * @example
 * b64u('{"alg":"none"}'); // 'eyJhbGciOiJub25lIn0'
 */
export function b64u(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64url');
}

/** A JSON value as a base64url segment. */
export function jsonSegment(value: unknown): string {
  return b64u(JSON.stringify(value));
}

const HASH = { '256': 'sha256', '384': 'sha384', '512': 'sha512' } as const;

/**
 * The raw signature bytes of `input` under `alg` with `key`. HMAC takes any bytes as the key (that is how the
 * "public key as HMAC secret" attack is built); the others take a private KeyObject.
 *
 * @example
 * signatureBytes('HS256', 'secret', 'eyJ….eyJ…');
 */
export function signatureBytes(
  alg: ForgeAlgorithm,
  key: KeyObject | string | Uint8Array,
  input: string,
  options: { dsaEncoding?: 'der' | 'ieee-p1363' } = {},
): Buffer {
  const hash = HASH[alg.slice(2) as keyof typeof HASH];
  if (alg.startsWith('HS')) {
    return createHmac(hash, key as string | Uint8Array | KeyObject)
      .update(input)
      .digest();
  }
  const privateKey = key as KeyObject;
  if (alg.startsWith('PS')) {
    return sign(hash, Buffer.from(input), {
      key: privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    });
  }
  if (alg.startsWith('ES')) {
    return sign(hash, Buffer.from(input), {
      key: privateKey,
      dsaEncoding: options.dsaEncoding ?? 'ieee-p1363',
    });
  }
  return sign(hash, Buffer.from(input), privateKey);
}

export interface ForgeOptions {
  /** Header object, encoded with JSON.stringify. Ignored when `headerText` is given. */
  header?: Record<string, unknown>;
  /** Header as raw JSON text (duplicate members, arrays, anything). */
  headerText?: string;
  /** Header segment exactly as it goes on the wire. */
  headerSegment?: string;
  /** Payload value, encoded with JSON.stringify. */
  payload?: unknown;
  /** Payload as raw JSON text. */
  payloadText?: string;
  /** Payload segment exactly as it goes on the wire. */
  payloadSegment?: string;
  /** Signs with this algorithm's function, whatever the header says. */
  signWith?: ForgeAlgorithm;
  key?: KeyObject | string | Uint8Array;
  /** ECDSA signature encoding; JWS wants the raw r||s form (RFC 7518 §3.4). */
  dsaEncoding?: 'der' | 'ieee-p1363';
  /** Signature segment exactly as it goes on the wire; no signature is computed. */
  signatureSegment?: string;
}

/**
 * A compact JWS with every part under the caller's control.
 *
 * @example
 * forge({ header: { alg: 'HS256' }, payload: { datasets: ['D'] }, signWith: 'HS256', key: secret });
 * forge({ header: { alg: 'none' }, payload: claims, signatureSegment: '' });
 */
export function forge(options: ForgeOptions): string {
  const header =
    options.headerSegment ??
    (options.headerText !== undefined ? b64u(options.headerText) : jsonSegment(options.header ?? {}));
  const payload =
    options.payloadSegment ??
    (options.payloadText !== undefined ? b64u(options.payloadText) : jsonSegment(options.payload ?? {}));
  const input = `${header}.${payload}`;
  if (options.signatureSegment !== undefined) return `${input}.${options.signatureSegment}`;
  if (options.signWith === undefined || options.key === undefined) {
    throw new Error('forge needs signWith and key, or signatureSegment');
  }
  const bytes = signatureBytes(options.signWith, options.key, input, {
    ...(options.dsaEncoding !== undefined && { dsaEncoding: options.dsaEncoding }),
  });
  return `${input}.${b64u(bytes)}`;
}

/** The three segments of a compact token (or fewer, for a malformed one). */
export function segments(token: string): string[] {
  return token.split('.');
}
