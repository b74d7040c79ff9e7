/**
 * The text of a personal API token: `ppat_`, a public id, a secret and a checksum, all base62 so that a double
 * click selects the whole token. The prefix lets secret scanners find leaked tokens; the checksum lets them (and
 * the portal, before any database lookup) tell a real token from a random string that looks like one.
 * @module
 */
import { randomBytes } from 'node:crypto';

/** What every personal API token starts with. @example token.startsWith(API_TOKEN_PREFIX); */
export const API_TOKEN_PREFIX = 'ppat_';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** The public id: 12 base62 characters (71 bits), shown in lists and audit lines to name the token. */
const ID_LENGTH = 12;
/** The secret: 43 base62 characters, 256 bits from the system's CSPRNG. */
const SECRET_LENGTH = 43;
/** CRC-32 of everything before it, as 6 base62 characters (62^6 > 2^32). */
const CHECKSUM_LENGTH = 6;

/** The length of a token: 66 characters. @example token.length === API_TOKEN_LENGTH; */
export const API_TOKEN_LENGTH = API_TOKEN_PREFIX.length + ID_LENGTH + SECRET_LENGTH + CHECKSUM_LENGTH;

/**
 * A personal API token wherever it appears in text, for secret scanners (a pattern to register with GitHub's
 * secret scanning, gitleaks or trufflehog); confirm a match with {@link parseApiToken}, which checks the checksum.
 *
 * @example
 * for (const match of text.matchAll(API_TOKEN_PATTERN)) if (parseApiToken(match[0])) report(match.index);
 */
export const API_TOKEN_PATTERN = /\bppat_[0-9A-Za-z]{61}\b/g;

const WHOLE = new RegExp(`^${API_TOKEN_PREFIX}[0-9A-Za-z]{${API_TOKEN_LENGTH - API_TOKEN_PREFIX.length}}$`);

/** Uniform base62 characters from the CSPRNG: bytes 248..255 are dropped, so that no character is likelier. */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHABET[byte % 62];
    }
  }
  return out;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as zlib and Python's `zlib.crc32` compute it) of ASCII text. */
function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) {
    crc = (CRC_TABLE[(crc ^ text.charCodeAt(i)) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function checksum(body: string): string {
  let n = crc32(body);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/**
 * A new personal API token and its public id. The token is shown to its owner once; the portal keeps only the id
 * and a hash of the token.
 *
 * @example
 * const { token, id } = generateApiToken();
 * token; // 'ppat_3kQ9…' (66 characters)
 */
export function generateApiToken(): { token: string; id: string } {
  const id = randomBase62(ID_LENGTH);
  const body = `${API_TOKEN_PREFIX}${id}${randomBase62(SECRET_LENGTH)}`;
  return { token: `${body}${checksum(body)}`, id };
}

/**
 * The public id of a well-formed token: the prefix, the length, base62 and the checksum are checked, nothing else
 * (whether the portal issued it, and whether it is live, only the portal can tell). Undefined for anything else;
 * never throws.
 *
 * @example
 * parseApiToken(token); // { id: '3kQ9…' }
 * parseApiToken('ppat_not-a-token'); // undefined
 */
export function parseApiToken(text: unknown): { id: string } | undefined {
  if (typeof text !== 'string' || text.length !== API_TOKEN_LENGTH || !WHOLE.test(text)) return undefined;
  const body = text.slice(0, -CHECKSUM_LENGTH);
  if (checksum(body) !== text.slice(-CHECKSUM_LENGTH)) return undefined;
  return { id: text.slice(API_TOKEN_PREFIX.length, API_TOKEN_PREFIX.length + ID_LENGTH) };
}

/**
 * Whether text is shaped like a token id (what lists, audit lines and revocation forms name).
 *
 * @example
 * isApiTokenId('3kQ9aZ0pLm2x'); // true
 */
export function isApiTokenId(text: unknown): text is string {
  return typeof text === 'string' && new RegExp(`^[0-9A-Za-z]{${ID_LENGTH}}$`).test(text);
}
