import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * scrypt cost parameters: N = 2^logN, block size r, parallelism p.
 *
 * @example
 * const cheapForTests: ScryptParams = { logN: 10, r: 8, p: 1 };
 */
export interface ScryptParams {
  logN: number;
  r: number;
  p: number;
}

/**
 * The parameters new hashes get: one of OWASP's equivalent scrypt settings (N=2^15, r=8, p=3; 32 MiB), chosen
 * over N=2^17 so that a few concurrent sign-ins do not take hundreds of megabytes.
 *
 * @example
 * const stronger: ScryptParams = { ...DEFAULT_SCRYPT, logN: 16 };
 */
export const DEFAULT_SCRYPT: ScryptParams = { logN: 15, r: 8, p: 3 };

const KEY_BYTES = 32;
const SALT_BYTES = 16;
/**
 * Longer passwords are refused before hashing: nobody types more, and it bounds the work per attempt.
 *
 * @example
 * if (typed.length > MAX_PASSWORD_LENGTH) return wrongCredentials();
 */
export const MAX_PASSWORD_LENGTH = 1024;
/**
 * Shorter passwords are refused when set.
 *
 * @example
 * `at least ${MIN_PASSWORD_LENGTH} characters`;
 */
export const MIN_PASSWORD_LENGTH = 12;

// PHC string format: $scrypt$ln=15,r=8,p=3$<salt>$<hash>, both in unpadded base64.
const PHC =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,64})\$([A-Za-z0-9+/]{40,88})$/;

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.logN;
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFC'),
      salt,
      KEY_BYTES,
      { N, r: params.r, p: params.p, maxmem: 256 * N * params.r },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

function checkParams(params: ScryptParams): void {
  const { logN, r, p } = params;
  // Bounds on what a stored hash may ask for, so that a tampered row cannot make one sign-in take minutes.
  if (!(logN >= 10 && logN <= 20 && r >= 1 && r <= 32 && p >= 1 && p <= 16)) {
    throw new RangeError('scrypt parameters out of range');
  }
}

/**
 * Hashes a password with scrypt and a random salt; the parameters are stored with the hash, so they can be
 * raised later without breaking existing passwords.
 *
 * @example
 * const stored = await hashPassword('correct horse battery staple');
 * // '$scrypt$ln=15,r=8,p=3$…$…'
 */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  checkParams(params);
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params);
  const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
  return `$scrypt$ln=${params.logN},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}

/**
 * Parses a stored hash; undefined when it is not one this module wrote.
 *
 * @example
 * parseHash(stored)?.params; // { logN: 15, r: 8, p: 3 }
 */
export function parseHash(stored: string): { params: ScryptParams; salt: Buffer; key: Buffer } | undefined {
  const m = PHC.exec(stored);
  if (m === null) return undefined;
  const params = { logN: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  try {
    checkParams(params);
  } catch {
    return undefined;
  }
  return { params, salt: Buffer.from(m[4] as string, 'base64'), key: Buffer.from(m[5] as string, 'base64') };
}

/**
 * Checks a password against a stored hash in constant time. A malformed hash never matches.
 *
 * @example
 * if (await verifyPassword(typed, stored)) signIn();
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (parsed === undefined || password.length > MAX_PASSWORD_LENGTH) return false;
  const key = await derive(password, parsed.salt, parsed.params);
  return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
}

/**
 * Whether a stored hash was made with weaker parameters than `params` (and should be redone at the next
 * successful sign-in).
 *
 * @example
 * if (needsRehash(stored)) users.setPasswordHash(email, await hashPassword(typed));
 */
export function needsRehash(stored: string, params: ScryptParams = DEFAULT_SCRYPT): boolean {
  const parsed = parseHash(stored);
  if (parsed === undefined) return true;
  const p = parsed.params;
  return p.logN < params.logN || p.r < params.r || p.p < params.p;
}

/**
 * Why a new password cannot be used, or undefined when it can.
 *
 * @example
 * passwordProblem('short'); // 'at least 12 characters are needed'
 */
export function passwordProblem(password: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return `at least ${MIN_PASSWORD_LENGTH} characters are needed`;
  if (password.length > MAX_PASSWORD_LENGTH) return `at most ${MAX_PASSWORD_LENGTH} characters are allowed`;
  if (password.trim() !== password) return 'it must not start or end with a space';
  return undefined;
}
