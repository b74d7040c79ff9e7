import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { readSecret, type SecretSource } from '@pp-embed/dataset-token';

/** The bytes of a key-encryption key: 256 bits, for AES-256-GCM (NIST SP 800-38D) once derived. */
export const REGISTRY_KEY_BYTES = 32;

const IV_BYTES = 12; // SP 800-38D §8.2: 96-bit IVs, drawn at random for every encryption.
const TAG_BYTES = 16;
const SEALED_PREFIX = 'gcm1:';

/**
 * The registry's key-encryption key, and the keys derived from it. The key itself never encrypts anything: HKDF
 * (RFC 5869) derives one key to wrap data keys, one to authenticate the file, and a short public identifier, so
 * that no key serves two purposes.
 *
 * @example
 * const key = registryKey({ env: 'PP_EMBEDDERS_KEY' }, process.env);
 * key.id; // 12 characters, written in the registry: a wrong key is named as such
 */
export interface RegistryKey {
  /** Public: identifies the key without revealing it. */
  readonly id: string;
  /** Wraps and unwraps each entry's data key. */
  readonly wrapKey: Buffer;
  /** Authenticates the whole file (HMAC-SHA256). */
  readonly macKey: Buffer;
}

/** A key-encryption key that cannot be used: unset, unreadable, or not 32 bytes of base64url. */
export class RegistryKeyError extends Error {
  override readonly name = 'RegistryKeyError';
}

const INFO = {
  id: 'pp-embed embedder registry: key id',
  wrap: 'pp-embed embedder registry: data key wrapping',
  mac: 'pp-embed embedder registry: file authentication',
} as const;

const derive = (key: Buffer, info: string, bytes: number): Buffer =>
  Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), info, bytes));

/**
 * Reads the key-encryption key from where serverconfig.json says (an environment variable or a file), as the
 * base64url text of 32 random bytes (`pp-token secret` prints one), and derives its working keys.
 *
 * @throws RegistryKeyError when it is unset, unreadable or not 32 bytes.
 * @example
 * const key = registryKey({ file: '/etc/pp/embedders.key' });
 */
export function registryKey(source: SecretSource, env?: NodeJS.ProcessEnv): RegistryKey {
  let text: string;
  try {
    text = Buffer.from(readSecret(source, env)).toString('utf8').trim();
  } catch (error) {
    throw new RegistryKeyError((error as Error).message);
  }
  const bytes = /^[A-Za-z0-9_-]+$/.test(text) ? Buffer.from(text, 'base64url') : Buffer.alloc(0);
  if (bytes.length !== REGISTRY_KEY_BYTES) {
    throw new RegistryKeyError(
      `the registry key must be ${REGISTRY_KEY_BYTES} random bytes in base64url (43 characters); make one with \`pp-token secret\``,
    );
  }
  return registryKeyFromBytes(bytes);
}

/**
 * The working keys of a key-encryption key given as bytes (tests, and a new key being made).
 *
 * @example
 * const key = registryKeyFromBytes(randomBytes(32));
 */
export function registryKeyFromBytes(bytes: Uint8Array): RegistryKey {
  const kek = Buffer.from(bytes);
  if (kek.length !== REGISTRY_KEY_BYTES) {
    throw new RegistryKeyError(`the registry key must be ${REGISTRY_KEY_BYTES} bytes`);
  }
  return Object.freeze({
    id: derive(kek, INFO.id, 9).toString('base64url'),
    wrapKey: derive(kek, INFO.wrap, 32),
    macKey: derive(kek, INFO.mac, 32),
  });
}

/**
 * Encrypts with AES-256-GCM under a fresh random IV; `aad` is authenticated, not encrypted (RFC 5116 §2.1), so that
 * a blob copied to another place, or whose place was changed, fails its tag. The result is text:
 * `gcm1:` and base64url of IV, ciphertext and tag.
 *
 * @example
 * const blob = seal(dataKey, secretBytes, aadFor(entry, kid));
 */
export function seal(key: Uint8Array, plaintext: Uint8Array, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return SEALED_PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

/**
 * Decrypts a {@link seal}ed blob. Returns undefined when the blob is malformed or its tag does not match (the wrong
 * key, another AAD, a changed byte): the caller says which value failed, never why in cryptographic detail.
 *
 * @example
 * const secret = open(dataKey, blob, aadFor(entry, kid)); // undefined when tampered with
 */
export function open(key: Uint8Array, blob: string, aad: string): Buffer | undefined {
  if (!blob.startsWith(SEALED_PREFIX)) return undefined;
  const raw = Buffer.from(blob.slice(SEALED_PREFIX.length), 'base64url');
  if (raw.length < IV_BYTES + TAG_BYTES) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES), {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}

/**
 * HMAC-SHA256 of text, base64url.
 *
 * @example
 * const mac = authenticate(key.macKey, canonicalJson(body));
 */
export function authenticate(key: Uint8Array, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('base64url');
}

/**
 * Compares two MACs in constant time.
 *
 * @example
 * if (!sameMac(file.mac, authenticate(key.macKey, canonicalJson(body)))) refuse();
 */
export function sameMac(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * JSON with every object's keys sorted, so that the same content always gives the same bytes to authenticate.
 *
 * @example
 * canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }); // '{"a":[2,{"c":4,"d":3}],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const members = Object.keys(value)
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}
