import { resolve as resolvePath } from 'node:path';
import {
  createVerifier,
  type RemoteJwksOptions,
  TokenSetupError,
  type VerificationKey,
  type Verifier,
} from '@pp-embed/dataset-token';
import { ConfigError, type ConfigProblem, formatPath } from '@pp-embed/server-runtime';
import { DEFAULT_HEADER_KEY, ROUTES } from '@pp-embed/viz-api';
import type { z } from 'zod';
import { ANY, type DsName, type PolicyEntry, type RouteRef, SAMPLE_LEVEL } from './entries.js';
import { embedderKey } from './origin.js';
import type { TrustedIssuer } from './issuers.js';
import { type AccessPolicy, createPolicy, type DatasetBlock, type RouteBlock } from './policy.js';
import { ENTRY_FIELDS, entrySchema, HEADER_NAME, KEY_FIELDS } from './schema.js';

export interface LoadPolicyOptions {
  /** Directory that relative `secret.file`, `publicKey` and `jwks` paths are resolved against: the config file's. */
  baseDir: string;
  /** Environment for `{"env": "NAME"}` secrets. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where the block sits in the config file, for messages. Default `dsCredentials`. */
  path?: string;
  /** Clock in milliseconds for every verifier (tests freeze it). */
  now?: () => number;
  /** Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds. Default 5. */
  leewaySeconds?: number;
  /** Options for `jwks` entries given as an https URL (timeouts; an injected fetch in tests). */
  remoteJwks?: RemoteJwksOptions;
  /** The trusted issuers entries may name in `issuers` (`loadTrustedIssuers`). */
  issuers?: ReadonlyMap<string, TrustedIssuer>;
}

type Segments = readonly (string | number)[];

interface Found {
  segments: Segments;
  message: string;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isComment = (key: string): boolean => key.startsWith('#');

// Characters that would make a key a glob in ProteinPaint. We match keys exactly, so a pattern would silently
// match nothing and leave the requests it was meant to cover without its credential.
const PATTERN = /[*?[\]{}]|^!/;
// C0 controls, DEL and the Unicode line separators: never in a label or route name, and a way to forge log lines.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/;

// The server's routes: a route key must be "*", "termdb" or one of these names, since a misspelt route would
// otherwise leave the real route open.
const CATALOG: ReadonlyMap<string, RouteRef> = new Map(
  Object.values(ROUTES).map((r: RouteRef): [string, RouteRef] => [r.name, { name: r.name, class: r.class }]),
);

// Fetch Standard, "forbidden request-header": a page's script cannot set these, so the widget could never send a
// token in one of them.
const FORBIDDEN_REQUEST_HEADERS = new Set([
  'accept-charset',
  'accept-encoding',
  'access-control-request-headers',
  'access-control-request-method',
  'connection',
  'content-length',
  'cookie',
  'cookie2',
  'date',
  'dnt',
  'expect',
  'host',
  'keep-alive',
  'origin',
  'referer',
  'set-cookie',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'via',
]);

/** Each key level: what its keys are, for messages. */
const LEVEL_EXPECTED = [
  'an object whose keys are dataset labels or "*"',
  'an object whose keys are route names, "termdb" or "*"',
  'an object whose keys are portal hosts or "*"',
] as const;

/**
 * Reads a `dsCredentials` block once, at server start, in one walk: each level's keys, then each entry's fields
 * with {@link entrySchema}, then what the shape cannot say (one key source per entry, host syntax, secret
 * strength, that every environment variable and key file exists), building each entry's token verifier on the
 * way. Every mistake is collected, in file order, and thrown together as a {@link ConfigError}; nothing is
 * checked again per request.
 *
 * `undefined` (no block) gives a policy with no credentials: every dataset is open, as in ProteinPaint.
 *
 * @example
 * const config = JSON.parse(readFileSync('serverconfig.json', 'utf8'));
 * const policy = loadPolicy(config.dsCredentials, { baseDir: dirname(resolve('serverconfig.json')) });
 * await policy.ready(); // fetches remote JWKS, if any
 */
export function loadPolicy(raw: unknown, options: LoadPolicyOptions): AccessPolicy {
  const root = options.path ?? 'dsCredentials';
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  const report = (segments: Segments, message: string): void => {
    const problem = { path: formatPath(root, segments), message };
    const id = `${problem.path}\u0000${message}`;
    if (seen.has(id)) return;
    seen.add(id);
    problems.push(problem);
  };
  const datasets = new Map<string, DatasetBlock>();
  const entries: PolicyEntry[] = [];
  const input = raw === undefined ? {} : raw;

  // Each level: comments are skipped (but must be JSON), and every other key is checked before what it holds.
  const level = (value: unknown, depth: 0 | 1 | 2, segments: Segments): [string, unknown][] | undefined => {
    if (!isObject(value)) {
      report(
        segments,
        notJson(value)
          ? 'is not a JSON value'
          : `expected ${LEVEL_EXPECTED[depth]}, got ${describeValue(value)}`,
      );
      return undefined;
    }
    const members: [string, unknown][] = [];
    for (const key of Object.keys(value)) {
      if (isComment(key)) {
        for (const bad of nonJsonValues(value[key], [...segments, key])) report(bad, 'is not a JSON value');
      } else members.push([key, value[key]]);
    }
    return members;
  };

  const top = level(input, 0, []);
  for (const [datasetKey, datasetValue] of top ?? []) {
    const datasetSegments = [datasetKey];
    // A bad key is reported and what it holds still checked, so that one pass finds every mistake.
    if (!checkKey(datasetKey, datasetSegments, 'dataset label', report) && UNCHECKED.has(datasetKey))
      continue;
    const routeMembers = level(datasetValue, 1, datasetSegments);
    if (routeMembers === undefined) continue;
    const routes = new Map<string, RouteBlock>();
    if (routeMembers.length === 0) {
      report(
        datasetSegments,
        'has no route keys; remove it, or add "*": {"*": {"type": "forbidden"}} to close the dataset',
      );
    }
    for (const [routeKey, routeValue] of routeMembers) {
      const routeSegments = [datasetKey, routeKey];
      if (!checkKey(routeKey, routeSegments, 'route name', report) && UNCHECKED.has(routeKey)) continue;
      if (
        routeKey !== ANY &&
        routeKey !== SAMPLE_LEVEL &&
        !CATALOG.has(routeKey) &&
        !PATTERN.test(routeKey)
      ) {
        const known = [...CATALOG.keys()].map((name) => `"${name}"`).join(', ');
        report(
          routeSegments,
          `unknown route; expected "*", "termdb" or one of the server's routes: ${known}`,
        );
      }
      const embedderMembers = level(routeValue, 2, routeSegments);
      if (embedderMembers === undefined) continue;
      const embedders = new Map<string, PolicyEntry>();
      const written = new Map<string, string>();
      if (embedderMembers.length === 0) {
        report(routeSegments, 'has no embedder keys; use {"*": {"type": "forbidden"}} to close the route');
      }
      for (const [key, entryValue] of embedderMembers) {
        const entrySegments = [datasetKey, routeKey, key];
        let host: string | undefined;
        if (checkKey(key, entrySegments, 'embedder host', report)) {
          const parsed = embedderKey(key);
          if ('problem' in parsed) report(entrySegments, parsed.problem);
          else if (written.has(parsed.host)) {
            report(entrySegments, `the same embedder as "${written.get(parsed.host)}"; keep one of them`);
          } else {
            host = parsed.host;
            written.set(host, key);
          }
        }
        if (UNCHECKED.has(key)) continue;
        const entry = readEntry(entryValue, {
          segments: entrySegments,
          path: formatPath(root, entrySegments),
          dataset: datasetKey,
          route: routeKey,
          embedder: host ?? key,
          options,
          report,
        });
        if (entry === undefined || host === undefined) continue;
        embedders.set(host, entry);
        entries.push(entry);
      }
      routes.set(routeKey, { key: routeKey, path: formatPath(root, routeSegments), embedders });
    }
    datasets.set(datasetKey, { key: datasetKey, path: formatPath(root, datasetSegments), routes });
  }

  if (problems.length > 0) throw new ConfigError(root, problems);
  return createPolicy({ datasets, entries, routeCatalog: CATALOG, warnings: shadowWarnings(datasets) });
}

interface EntryPlace {
  segments: Segments;
  path: string;
  dataset: string;
  route: string;
  embedder: string;
  options: LoadPolicyOptions;
  report: (segments: Segments, message: string) => void;
  /** Fields the shape check found a problem in (`''` for the entry itself). */
  damaged?: ReadonlySet<string>;
}

/**
 * One entry: its shape (zod, entry-local), then everything else. Its problems are reported in the order of its
 * fields, so that the whole block reads in file order.
 */
function readEntry(value: unknown, place: EntryPlace): PolicyEntry | undefined {
  const bad = nonJsonValues(value, place.segments);
  if (bad.length > 0) {
    for (const segments of bad) place.report(segments, 'is not a JSON value');
    return undefined;
  }
  const found: Found[] = [];
  const local = {
    ...place,
    report: (segments: Segments, message: string) => found.push({ segments, message }),
  };
  const shape = entrySchema.safeParse(value);
  const damaged = new Set<string>();
  if (!shape.success) {
    for (const issue of shape.error.issues) {
      found.push(...describeIssue(issue, value, place.segments));
      damaged.add(issue.path.length === 0 ? '' : String(issue.path[0]));
    }
  }
  const entry = isObject(value) ? buildEntry(value, { ...local, damaged }) : undefined;
  // Sorted by the position of the field each problem is about; the entry itself comes first.
  const order = isObject(value) ? Object.keys(value) : [];
  const depth = place.segments.length;
  const rank = (f: Found): number => {
    const field = f.segments[depth];
    return field === undefined
      ? -1
      : order.indexOf(String(field)) === -1
        ? order.length
        : order.indexOf(String(field));
  };
  found
    .map((f, i) => ({ f, i, r: rank(f) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .forEach(({ f }) => place.report(f.segments, f.message));
  return found.length === 0 ? entry : undefined;
}

/** Paths of the values in `value` that JSON cannot hold (a cycle included), depth-first. */
function nonJsonValues(value: unknown, segments: Segments, ancestors: readonly unknown[] = []): Segments[] {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return [];
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [segments];
  if (typeof value !== 'object' || ancestors.includes(value)) return [segments];
  const inner = [...ancestors, value];
  const members = Array.isArray(value) ? value.map((item, i) => [i, item] as const) : Object.entries(value);
  return members.flatMap(([key, item]) => nonJsonValues(item, [...segments, key], inner));
}

function notJson(value: unknown): boolean {
  return nonJsonValues(value, []).length > 0;
}

const article = (word: string): string => (/^[aeiou]/.test(word) ? 'an' : 'a');

// Keys whose contents are not read: `__proto__` would be the prototype of a plain object, and '' names nothing.
// They are only reported.
const UNCHECKED = new Set(['', '__proto__']);

function checkKey(key: string, segments: Segments, what: string, report: EntryPlace['report']): boolean {
  if (key === '') {
    report(segments, `an empty key; expected ${article(what)} ${what} or "*"`);
    return false;
  }
  // Plain objects treat this key as the prototype, not as a member; no real name needs it.
  if (key === '__proto__') {
    report(segments, `"__proto__" cannot be used as ${article(what)} ${what}`);
    return false;
  }
  if (CONTROL.test(key)) {
    report(segments, `${article(what)} ${what} must not contain control characters`);
    return false;
  }
  if (key !== ANY && what !== 'embedder host' && PATTERN.test(key)) {
    report(segments, `patterns are not supported; write each ${what} exactly, or use "*"`);
    return false;
  }
  return true;
}

function buildEntry(raw: Json, place: EntryPlace): PolicyEntry | undefined {
  const { report } = place;
  const type = raw.type;
  if (type !== 'jwt' && type !== 'open' && type !== 'forbidden') return undefined;
  const allowed: readonly string[] = ENTRY_FIELDS[type];
  const damaged = place.damaged ?? new Set<string>();
  let clean = !damaged.has('');
  for (const field of Object.keys(raw)) {
    if (isComment(field) || allowed.includes(field)) continue;
    clean = false;
    const known: readonly string[] = ENTRY_FIELDS.jwt;
    report(
      [...place.segments, field],
      type !== 'jwt' && known.includes(field)
        ? `has no effect on ${article(type)} "${type}" entry; remove it`
        : `unknown field; ${article(type)} "${type}" entry takes ${allowed.map((f) => `"${f}"`).join(', ')}`,
    );
  }
  const base = { path: place.path, dataset: place.dataset, route: place.route, embedder: place.embedder };
  if (type !== 'jwt') return clean ? Object.freeze({ type, ...base }) : undefined;

  const given = KEY_FIELDS.filter((field) => raw[field] !== undefined);
  const issuerNames = Array.isArray(raw.issuers) ? (raw.issuers as unknown[]) : [];
  const issuers: TrustedIssuer[] = [];
  issuerNames.forEach((name, i) => {
    const trusted = typeof name === 'string' ? place.options.issuers?.get(name) : undefined;
    if (trusted !== undefined) issuers.push(trusted);
    else if (typeof name === 'string') {
      const known = [...(place.options.issuers?.keys() ?? [])].map((n) => `"${n}"`).join(', ');
      report(
        [...place.segments, 'issuers', i],
        known === '' ? 'no trustedIssuers are configured' : `not one of the trustedIssuers (${known})`,
      );
      clean = false;
    }
  });
  if (given.length === 0 && issuerNames.length === 0) {
    report(place.segments, 'a "jwt" entry needs a key ("secret", "publicKey" or "jwks") or "issuers"');
    return undefined;
  }
  if (given.length > 1) {
    // Two key sources would leave the choice of the key that checks a token to the order of our code.
    report(place.segments, `give one key source, not ${given.map((f) => `"${f}"`).join(' and ')}`);
    return undefined;
  }
  const headerKey = typeof raw.headerKey === 'string' ? raw.headerKey.toLowerCase() : DEFAULT_HEADER_KEY;
  if (
    HEADER_NAME.test(headerKey) &&
    (FORBIDDEN_REQUEST_HEADERS.has(headerKey) || /^(proxy|sec)-/.test(headerKey))
  ) {
    report(
      [...place.segments, 'headerKey'],
      'a header that browsers do not let a page set; use a custom name such as x-ds-access-token',
    );
    clean = false;
  }
  const keyField = given[0];
  // Build the verifier whenever the fields it reads are sound, so that a weak secret is reported together with
  // a bad headerKey rather than after it is fixed.
  if (
    [keyField ?? 'secret', 'algorithms', 'issuer', 'audience', 'maxTokenAge', 'issuers'].some((field) =>
      damaged.has(field),
    )
  )
    return undefined;

  const entry = raw as {
    algorithms?: string[];
    issuer?: string | string[];
    audience?: string | string[];
    maxTokenAge?: number;
    dsnames?: DsName[];
    looseIpCheck?: boolean;
  };
  let verifier: Verifier | undefined;
  try {
    verifier =
      keyField === undefined
        ? undefined
        : createVerifier({
            key: verificationKey(raw, keyField, place.options),
            algorithms: entry.algorithms,
            issuer: entry.issuer,
            audience: entry.audience,
            maxTokenAgeSeconds: entry.maxTokenAge,
            leewaySeconds: place.options.leewaySeconds,
            now: place.options.now,
            env: place.options.env,
          });
  } catch (error) {
    if (!(error instanceof TokenSetupError)) throw error;
    const field =
      error.option === 'algorithms' && entry.algorithms !== undefined
        ? 'algorithms'
        : error.option === 'maxTokenAgeSeconds'
          ? 'maxTokenAge'
          : (keyField ?? 'issuers');
    report([...place.segments, field], error.message);
    return undefined;
  }
  if (!clean) return undefined;
  const list = (value: string | string[] | undefined): readonly string[] | undefined =>
    value === undefined ? undefined : Object.freeze(([] as string[]).concat(value));
  return Object.freeze({
    type,
    ...base,
    headerKey,
    verifier,
    dsnames:
      entry.dsnames === undefined
        ? undefined
        : Object.freeze(
            entry.dsnames.map((d) =>
              Object.freeze(d.label === undefined ? { id: d.id } : { id: d.id, label: d.label }),
            ),
          ),
    looseIpCheck: entry.looseIpCheck ?? false,
    issuers: Object.freeze(issuers),
    keySource: keyField,
    issuer: list(entry.issuer),
    audience: list(entry.audience),
    maxTokenAge: entry.maxTokenAge ?? 86_400,
  });
}

const URL_LIKE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * The verification key a `secret`, `publicKey` or `jwks` field names, as a credential entry reads it: files relative
 * to the config's folder, a pasted PEM, a JWKS file or URL. Shared with the other blocks of serverconfig.json that
 * name a portal's key (`revocationFeeds`).
 *
 * @example
 * verificationKey({ jwks: 'https://portal.example.org/.well-known/jwks.json' }, 'jwks', { baseDir });
 */
export function verificationKey(
  raw: Json,
  field: (typeof KEY_FIELDS)[number],
  options: LoadPolicyOptions,
): VerificationKey {
  const inDir = (file: string): string => resolvePath(options.baseDir, file);
  if (field === 'secret') {
    const secret = raw.secret as string | { env: string } | { file: string };
    if (typeof secret === 'string') return { secret };
    return 'env' in secret ? { secret: { env: secret.env } } : { secret: { file: inDir(secret.file) } };
  }
  const value = raw[field] as string;
  if (field === 'publicKey') {
    // A public key is no secret, so a PEM pasted into the config is accepted as well as a path.
    return value.trimStart().startsWith('-----BEGIN')
      ? { publicKey: value }
      : { publicKeyFile: inDir(value) };
  }
  return URL_LIKE.test(value)
    ? { jwksUrl: value, ...(options.remoteJwks !== undefined && { options: options.remoteJwks }) }
    : { jwksFile: inDir(value) };
}

/** The `*` dataset block is not consulted for a dataset with its own key; say so when that drops routes. */
function shadowWarnings(datasets: ReadonlyMap<string, DatasetBlock>): ConfigProblem[] {
  const star = datasets.get(ANY);
  if (star === undefined) return [];
  const warnings: ConfigProblem[] = [];
  for (const block of datasets.values()) {
    if (block.key === ANY) continue;
    const dropped = [...star.routes.keys()].filter((route) => !block.routes.has(route));
    if (dropped.length === 0) continue;
    warnings.push({
      path: block.path,
      message: `replaces the "*" dataset block for this dataset, so its route keys ${dropped.map((r) => `"${r}"`).join(', ')} do not apply here`,
    });
  }
  return warnings;
}

function valueAt(root: unknown, segments: readonly PropertyKey[]): unknown {
  let value = root;
  for (const segment of segments) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

// ---- zod issues as plain sentences ---------------------------------------------------------------------------

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a whole number' : 'a number';
  return `a ${typeof value}`;
}

/** A zod issue of one entry as a plain sentence, at its path below the entry. */
function describeIssue(issue: z.core.$ZodIssue, entry: unknown, at: Segments): Found[] {
  const below = issue.path.map((s) => (typeof s === 'symbol' ? String(s) : s));
  const segments = [...at, ...below];
  const value = valueAt(entry, issue.path);
  if (issue.code === 'unrecognized_keys') {
    const takes = segments.includes('dsnames') ? '; a dsnames item takes "id" and "label"' : '';
    return issue.keys.map((key) => ({ segments: [...segments, key], message: `unknown field${takes}` }));
  }
  if (
    below.length === 0 &&
    !isObject(value) &&
    (issue.code === 'invalid_type' || issue.code === 'invalid_union')
  ) {
    return [
      {
        segments,
        message: `expected an entry such as {"type": "jwt", "secret": {"env": "NAME"}}, got ${describeValue(value)}`,
      },
    ];
  }
  if (issue.code === 'invalid_union' && 'discriminator' in issue && issue.discriminator === 'type') {
    const what =
      value === undefined
        ? 'missing'
        : typeof value === 'string'
          ? `unknown type "${value}"`
          : `got ${describeValue(value)}`;
    return [{ segments, message: `${what}; ${issue.message}` }];
  }
  if (issue.code === 'invalid_type' || issue.code === 'invalid_union') {
    const expected = 'expected' in issue ? issue.expected : 'another value';
    const message = issue.message.startsWith('Invalid input') ? `expected ${expected}` : issue.message;
    return [
      {
        segments,
        message: value === undefined ? `missing; ${message}` : `${message}, got ${describeValue(value)}`,
      },
    ];
  }
  return [{ segments, message: issue.message }];
}
