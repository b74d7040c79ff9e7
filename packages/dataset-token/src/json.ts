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
  if (hasDuplicateMember(text)) return { problem: 'has a member named twice' };
  return { value: value as Record<string, unknown> };
}

/** True when any JSON object in `text` (already known to be valid JSON) names a member twice. */
export function hasDuplicateMember(text: string): boolean {
  // One entry per open container: a Set of member names for objects, null for arrays.
  const stack: (Set<string> | null)[] = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectName = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectName = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectName = false;
    } else if (c === 0x2c /* , */) {
      expectName = stack[stack.length - 1] instanceof Set;
    } else if (c === 0x22 /* " */) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      if (expectName) {
        const names = stack[stack.length - 1];
        const name = JSON.parse(text.slice(i, j + 1)) as string;
        if (names instanceof Set) {
          if (names.has(name)) return true;
          names.add(name);
        }
        expectName = false;
      }
      i = j;
    }
  }
  return false;
}
