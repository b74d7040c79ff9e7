/**
 * Strict decoding of the JOSE header and the claims set. JSON.parse alone keeps the last of two members with
 * the same name, so a token could say one thing to us and another to a different parser; RFC 7515 §5.2 lets a
 * recipient refuse such input, and we do.
 */

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Decodes one base64url segment of a compact JWS into a plain JSON object, or returns a reason for refusing it. */
export function decodeJsonSegment(segment: string): { value: Record<string, unknown> } | { problem: string } {
  // Node's base64url decoder skips characters outside the alphabet; check first so that junk is refused.
  if (!BASE64URL.test(segment) || segment.length % 4 === 1) return { problem: 'is not base64url' };
  const text = Buffer.from(segment, 'base64url').toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'is not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { problem: 'is not a JSON object' };
  if (hasDuplicateMember(text, value)) return { problem: 'has a member named twice' };
  return { value: value as Record<string, unknown> };
}

/**
 * True when any JSON object in `text` (already known to be valid JSON) names a member twice. With the parsed
 * value at hand a cheap count settles the common case: every member name is followed by a colon, so when the
 * text holds no more colons than the parsed value holds members, no name can have been dropped as a duplicate.
 */
export function hasDuplicateMember(text: string, parsed?: unknown): boolean {
  if (parsed !== undefined && countColons(text) === countMembers(parsed)) return false;
  // One entry per open container: the member names seen so far for an object, null for an array. Claims objects
  // are small, where an array search beats hashing into a Set.
  const stack: (string[] | null)[] = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Find the closing quote: one not preceded by an odd number of backslashes.
      let j = text.indexOf('"', i + 1);
      while (j > 0 && isEscaped(text, j)) j = text.indexOf('"', j + 1);
      if (expectName) {
        const raw = text.slice(i + 1, j);
        const name = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        const names = stack[stack.length - 1] as string[];
        if (names.includes(name)) return true;
        names.push(name);
        expectName = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      stack.push([]);
      expectName = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      expectName = stack[stack.length - 1] != null;
    }
  }
  return false;
}

function isEscaped(text: string, quote: number): boolean {
  let backslashes = 0;
  for (let k = quote - 1; text.charCodeAt(k) === 0x5c /* \\ */; k--) backslashes++;
  return backslashes % 2 === 1;
}

function countColons(text: string): number {
  let count = 0;
  for (let i = text.indexOf(':'); i !== -1; i = text.indexOf(':', i + 1)) count++;
  return count;
}

function countMembers(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let count = 0;
  if (Array.isArray(value)) {
    for (const item of value) count += countMembers(item);
    return count;
  }
  for (const key in value) {
    count += 1 + countMembers((value as Record<string, unknown>)[key]);
  }
  return count;
}
