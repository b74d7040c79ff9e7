import { randomBytes, scrypt, type ScryptOptions, timingSafeEqual } from 'node:crypto';

/**
 * A dataset password as the config holds it: never the password, only its scrypt hash (RFC 7914) in the PHC
 * string format, `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (salt and hash in unpadded base64), as passlib and
 * `pp-token hash-password` write it.
 */
export interface PasswordHash {
  /** log2 of the CPU/memory cost N. */
  readonly ln: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/** The default cost: N = 2^15, r = 8, p = 1, which needs 32 MiB and tens of milliseconds per check. */
export const DEFAULT_PASSWORD_COST = { ln: 15, r: 8, p: 1 } as const;

/** Bounds a hash must fall in: cheaper is too easy to guess offline, dearer would let a login stall the server. */
const LIMITS = { ln: [14, 20], r: [8, 32], p: [1, 4], salt: 16, hashBytes: [32, 64] } as const;

/** The longest password accepted; longer input is refused before any hashing. */
export const MAX_PASSWORD_LENGTH = 1024;

const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** 128·N·r bytes, plus headroom; Node refuses a cost above its default `maxmem` of 32 MiB otherwise. */
function scryptOptions(h: Pick<PasswordHash, 'ln' | 'r' | 'p'>): ScryptOptions {
  return { N: 2 ** h.ln, r: h.r, p: h.p, maxmem: 128 * 2 ** h.ln * h.r + 1024 * 1024 };
}

function derive(password: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  // NFC: the same password typed on two systems is the same bytes.
  const bytes = Buffer.from(password.normalize('NFC'), 'utf8');
  return new Promise((resolve, reject) => {
    scrypt(bytes, salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

const b64 = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '');

/**
 * Hashes a dataset password for the config's `passwordHash`, with a fresh random salt.
 *
 * @example
 * const passwordHash = await hashPassword('correct horse battery staple');
 * // '$scrypt$ln=15,r=8,p=1$…$…'
 */
export async function hashPassword(
  password: string,
  cost: Pick<PasswordHash, 'ln' | 'r' | 'p'> = DEFAULT_PASSWORD_COST,
): Promise<string> {
  if (typeof password !== 'string' || password === '') throw new TypeError('the password is empty');
  if (password.length > MAX_PASSWORD_LENGTH)
    throw new TypeError(`the password is longer than ${MAX_PASSWORD_LENGTH} characters`);
  const salt = randomBytes(16);
  const hash = await derive(password, salt, 32, scryptOptions(cost));
  return `$scrypt$ln=${cost.ln},r=${cost.r},p=${cost.p}$${b64(salt)}$${b64(hash)}`;
}

/**
 * Reads a `passwordHash` from the config, or says in a sentence what is wrong with it.
 *
 * @example
 * parsePasswordHash('$scrypt$ln=15,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$…'); // { ln: 15, r: 8, p: 1, salt, hash }
 * parsePasswordHash('hunter2'); // { problem: 'not a password hash; …' }
 */
export function parsePasswordHash(text: string): PasswordHash | { problem: string } {
  const match = PHC.exec(text);
  if (match === null) {
    return {
      problem:
        'not a password hash: expected "$scrypt$ln=…,r=…,p=…$salt$hash" as `pp-token hash-password` prints it',
    };
  }
  const [ln, r, p] = [match[1], match[2], match[3]].map(Number) as [number, number, number];
  const salt = Buffer.from(match[4] as string, 'base64');
  const hash = Buffer.from(match[5] as string, 'base64');
  const within = (value: number, [min, max]: readonly [number, number]): boolean =>
    value >= min && value <= max;
  if (!within(ln, LIMITS.ln) || !within(r, LIMITS.r) || !within(p, LIMITS.p)) {
    return {
      problem: `scrypt cost ln=${ln},r=${r},p=${p} is outside ln ${LIMITS.ln.join('-')}, r ${LIMITS.r.join('-')}, p ${LIMITS.p.join('-')}; hash the password again with \`pp-token hash-password\``,
    };
  }
  if (salt.length < LIMITS.salt || !within(hash.length, LIMITS.hashBytes)) {
    return {
      problem: 'the salt or hash is too short; hash the password again with `pp-token hash-password`',
    };
  }
  return Object.freeze({ ln, r, p, salt, hash });
}

/**
 * Whether `password` is the one `hash` was made from, compared in constant time.
 *
 * @example
 * if (await verifyPassword(entry.passwordHash, offered)) issueToken();
 */
export async function verifyPassword(hash: PasswordHash, password: string): Promise<boolean> {
  if (typeof password !== 'string' || password === '' || password.length > MAX_PASSWORD_LENGTH) return false;
  const derived = await derive(password, hash.salt, hash.hash.length, scryptOptions(hash));
  return timingSafeEqual(derived, hash.hash);
}
