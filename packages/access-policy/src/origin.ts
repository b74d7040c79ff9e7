/**
 * Who embeds the widget, as far as the server can tell: the host of the request's `Origin` header.
 *
 * - `host`: a well-formed http(s) origin, reduced to lowercase `host[:port]` with the scheme's default port
 *   dropped; `hostname` is the same without any port. An embedder key without a port matches `hostname` (any
 *   port of that host, as ProteinPaint does); a key with a port matches `host` only.
 * - `absent`: no `Origin` header (a script, curl, a same-origin GET).
 * - `null`: the literal `Origin: null` (sandboxed iframes, `file:` pages, some redirects).
 * - `malformed`: anything else.
 *
 * Only a `host` can match an embedder key; the other three match only a `*` embedder.
 */
export type Embedder =
  | { readonly kind: 'host'; readonly host: string; readonly hostname: string }
  | { readonly kind: 'absent' }
  | { readonly kind: 'null' }
  | { readonly kind: 'malformed' };

const ABSENT: Embedder = Object.freeze({ kind: 'absent' });
const NULL_ORIGIN: Embedder = Object.freeze({ kind: 'null' });
const MALFORMED: Embedder = Object.freeze({ kind: 'malformed' });

// RFC 6454 §7.1: origin = "null" / scheme "://" host [ ":" port ], nothing more: no user info, path, query or
// fragment. Checked on the raw text because the URL parser would quietly accept and drop some of them.
const SERIALIZED_ORIGIN = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#@\\\s]+$/;

/** Longer than any real origin; refused before the URL parser sees it. */
const MAX_ORIGIN_LENGTH = 2048;

/**
 * Reads the embedder from a raw `Origin` header value. Never throws.
 *
 * @example
 * embedderFromOrigin('https://Portal.Example.org:443'); // { kind: 'host', host: 'portal.example.org', hostname: 'portal.example.org' }
 * embedderFromOrigin('http://localhost:5173');          // { kind: 'host', host: 'localhost:5173', hostname: 'localhost' }
 * embedderFromOrigin('null');                           // { kind: 'null' }
 * embedderFromOrigin(undefined);                        // { kind: 'absent' }
 */
export function embedderFromOrigin(origin: string | null | undefined): Embedder {
  if (origin === undefined || origin === null || origin === '') return ABSENT;
  if (typeof origin !== 'string') return MALFORMED;
  if (origin === 'null') return NULL_ORIGIN;
  if (origin.length > MAX_ORIGIN_LENGTH || !SERIALIZED_ORIGIN.test(origin)) return MALFORMED;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return MALFORMED;
  }
  // Only web origins embed a page; an extension or custom-scheme origin is not a portal host.
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return MALFORMED;
  if (url.host === '') return MALFORMED;
  return { kind: 'host', host: url.host, hostname: url.hostname };
}

/**
 * Checks an embedder key from the config and returns the host it stands for, or a sentence saying what is wrong.
 * A key is `*` or a host as browsers send it in `Origin`: `portal.example.org`, `localhost:5173`, `[::1]:8080`.
 * Keys are compared without the scheme, so `http://` and `https://` pages of one host are the same embedder. A
 * key without a port stands for every port of the host (ProteinPaint keys embedders by hostname); a key with a
 * port for that port only.
 *
 * @example
 * embedderKey('Portal.Example.org');         // { host: 'portal.example.org' }
 * embedderKey('https://portal.example.org'); // { problem: 'a host such as portal.example.org, not a URL: write "portal.example.org"' }
 */
export function embedderKey(key: string): { host: string } | { problem: string } {
  if (key === '*') return { host: '*' };
  if (key === '')
    return { problem: 'an empty embedder key; write a host such as portal.example.org, or "*"' };
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(key);
  if (scheme !== null) {
    const host = hostOf(key);
    const hint = host === undefined ? '' : `: write "${host}"`;
    return { problem: `a host such as portal.example.org, not a URL${hint}` };
  }
  if (/[*?[\]{}]/.test(key.replace(/^\[[0-9A-Fa-f:.]*\]/, '')) || key.startsWith('!')) {
    return { problem: 'patterns are not supported; list each host, or use "*" for every embedder' };
  }
  if (/[/?#@\\\s]/.test(key)) {
    return { problem: 'a host[:port] such as portal.example.org, without a path, user or spaces' };
  }
  let url: URL;
  try {
    url = new URL(`http://${key}`);
  } catch {
    return { problem: 'not a valid host[:port] such as portal.example.org' };
  }
  // The Origin header never carries a default port (RFC 6454 §6.2), so a key with one would never match.
  if (url.port === '443' || (url.port === '' && /:\d+$/.test(key))) {
    return {
      problem: `the Origin header never carries a default port, so this key would match nothing: write "${url.hostname}" (every port of the host)`,
    };
  }
  if (url.host !== key.toLowerCase()) return { problem: `write the host as browsers send it: "${url.host}"` };
  return { host: url.host };
}

function hostOf(text: string): string | undefined {
  try {
    const host = new URL(text).host;
    return host === '' ? undefined : host;
  } catch {
    return undefined;
  }
}
