import { resolve as resolvePath } from 'node:path';
import {
  createVerifier,
  type RemoteJwksOptions,
  TokenSetupError,
  type VerificationKey,
  type Verifier,
} from '@pp-embed/dataset-token';
import type { z } from 'zod';
import { ANY, type DsName, type PolicyEntry, type RouteRef, SAMPLE_LEVEL } from './entries.js';
import { embedderKey } from './origin.js';
import { type AccessPolicy, createPolicy, type DatasetBlock, type RouteBlock } from './policy.js';
import { formatPath, PolicyConfigError, type PolicyProblem } from './problems.js';
import { DEFAULT_HEADER_KEY, dsCredentialsSchema, ENTRY_FIELDS, HEADER_NAME, KEY_FIELDS } from './schema.js';

export interface LoadPolicyOptions {
  /** Directory that relative `secret.file`, `publicKey` and `jwks` paths are resolved against: the config file's. */
  baseDir: string;
  /** Environment for `{"env": "NAME"}` secrets. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * The server's routes. When given, a route key that is not `*`, `termdb` or one of these names is an error
   * (a misspelt route would otherwise leave the real route open), and `explain` can take a bare route name.
   */
  routes?: readonly RouteRef[];
  /** Where the block sits in the config file, for messages. Default `dsCredentials`. */
  path?: string;
  /** Clock in milliseconds for every verifier (tests freeze it). */
  now?: () => number;
  /** Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds. Default 5. */
  leewaySeconds?: number;
  /** Options for `jwks` entries given as an https URL (timeouts; an injected fetch in tests). */
  remoteJwks?: RemoteJwksOptions;
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
const members = (object: Json): string[] => Object.keys(object).filter((key) => !isComment(key));

// Characters that would make a key a glob in ProteinPaint. We match keys exactly, so a pattern would silently
// match nothing and leave the requests it was meant to cover without its credential.
const PATTERN = /[*?[\]{}]|^!/;
// C0 controls, DEL and the Unicode line separators: never in a label or route name, and a way to forge log lines.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/;

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

/**
 * Reads a `dsCredentials` block once, at server start: checks its shape with {@link dsCredentialsSchema}, then
 * everything the shape cannot say (one key source per entry, host syntax, secret strength, that every
 * environment variable and key file exists), and builds each entry's token verifier. Every mistake is collected
 * and thrown together as a {@link PolicyConfigError}; nothing is checked again per request.
 *
 * `undefined` (no block) gives a policy with no credentials: every dataset is open, as in ProteinPaint.
 *
 * @example
 * const config = JSON.parse(readFileSync('serverconfig.json', 'utf8'));
 * const policy = loadPolicy(config.dsCredentials, { baseDir: dirname(resolve('serverconfig.json')), routes });
 * await policy.ready(); // fetches remote JWKS, if any
 */
export function loadPolicy(raw: unknown, options: LoadPolicyOptions): AccessPolicy {
  const root = options.path ?? 'dsCredentials';
  const input = raw === undefined ? {} : raw;
  const found: Found[] = [];
  const report = (segments: Segments, message: string): void => {
    found.push({ segments, message });
  };

  // A block built in code (not read from JSON) may hold values JSON cannot: NaN, functions, undefined members.
  // They are reported where they are, and the shape check, which cannot merge NaN with itself, is spared them.
  const foreign = nonJsonValues(input);
  if (foreign.length > 0) {
    throw new PolicyConfigError(
      toProblems(
        foreign.map((segments) => ({ segments, message: 'is not a JSON value' })),
        input,
        root,
      ),
    );
  }
  const shape = dsCredentialsSchema.safeParse(input);
  // Where the shape check found problems: entries (3 segments) and their fields (4 segments).
  const damaged = new Set<string>();
  if (!shape.success) {
    for (const issue of shape.error.issues) {
      for (const problem of describeIssue(issue, input)) report(problem.segments, problem.message);
      damaged.add(JSON.stringify(issue.path.slice(0, 3)));
      damaged.add(JSON.stringify(issue.path.slice(0, 4)));
    }
  }

  const routeCatalog =
    options.routes === undefined ? undefined : new Map(options.routes.map((r) => [r.name, r]));
  const datasets = new Map<string, DatasetBlock>();
  const entries: PolicyEntry[] = [];
  const context: EntryContext = { options, report };

  if (isObject(input)) {
    for (const datasetKey of members(input)) {
      const datasetSegments = [datasetKey];
      // A bad key is reported and what it holds still checked, so that one pass finds every mistake.
      if (!checkKey(datasetKey, datasetSegments, 'dataset label', report) && UNCHECKED.has(datasetKey))
        continue;
      const datasetValue = input[datasetKey];
      if (!isObject(datasetValue)) continue;
      const routes = new Map<string, RouteBlock>();
      if (members(datasetValue).length === 0) {
        report(
          datasetSegments,
          'has no route keys; remove it, or add "*": {"*": {"type": "forbidden"}} to close the dataset',
        );
      }
      for (const routeKey of members(datasetValue)) {
        const routeSegments = [datasetKey, routeKey];
        if (!checkKey(routeKey, routeSegments, 'route name', report) && UNCHECKED.has(routeKey)) continue;
        if (
          routeCatalog !== undefined &&
          routeKey !== ANY &&
          routeKey !== SAMPLE_LEVEL &&
          !routeCatalog.has(routeKey)
        ) {
          const known = [...routeCatalog.keys()].map((name) => `"${name}"`).join(', ');
          report(
            routeSegments,
            `unknown route; expected "*", "termdb" or one of the server's routes: ${known}`,
          );
        }
        const routeValue = datasetValue[routeKey];
        if (!isObject(routeValue)) continue;
        const embedders = new Map<string, PolicyEntry>();
        const written = new Map<string, string>();
        if (members(routeValue).length === 0) {
          report(routeSegments, 'has no embedder keys; use {"*": {"type": "forbidden"}} to close the route');
        }
        for (const key of members(routeValue)) {
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
          const entryValue = routeValue[key];
          if (!isObject(entryValue) || UNCHECKED.has(key)) continue;
          const entry = buildEntry(entryValue, {
            segments: entrySegments,
            path: formatPath(root, entrySegments),
            dataset: datasetKey,
            route: routeKey,
            embedder: host ?? key,
            damaged: (field) =>
              damaged.has(JSON.stringify(field === undefined ? entrySegments : [...entrySegments, field])),
            context,
          });
          if (entry === undefined || host === undefined) continue;
          embedders.set(host, entry);
          entries.push(entry);
        }
        routes.set(routeKey, { key: routeKey, path: formatPath(root, routeSegments), embedders });
      }
      datasets.set(datasetKey, { key: datasetKey, path: formatPath(root, datasetSegments), routes });
    }
  }

  if (found.length > 0) throw new PolicyConfigError(toProblems(found, input, root));
  return createPolicy({ datasets, entries, routeCatalog, warnings: shadowWarnings(datasets) });
}

interface EntryContext {
  options: LoadPolicyOptions;
  report: (segments: Segments, message: string) => void;
}

interface EntryPlace {
  segments: Segments;
  path: string;
  dataset: string;
  route: string;
  embedder: string;
  /** True when the shape check already found a problem in this entry, or in one of its fields. */
  damaged: (field?: string) => boolean;
  context: EntryContext;
}

/** Paths of the values in `value` that JSON cannot hold (a cycle included), depth-first. */
function nonJsonValues(
  value: unknown,
  segments: Segments = [],
  ancestors: readonly unknown[] = [],
): Segments[] {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return [];
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [segments];
  if (typeof value !== 'object' || ancestors.includes(value)) return [segments];
  const inner = [...ancestors, value];
  const entries = Array.isArray(value) ? value.map((item, i) => [i, item] as const) : Object.entries(value);
  return entries.flatMap(([key, item]) => nonJsonValues(item, [...segments, key], inner));
}

const article = (word: string): string => (/^[aeiou]/.test(word) ? 'an' : 'a');

// Keys whose values the shape check never sees: zod skips `__proto__`, and '' matches neither the comment nor the
// member pattern. Their contents are not trusted, only reported.
const UNCHECKED = new Set(['', '__proto__']);

function checkKey(key: string, segments: Segments, what: string, report: EntryContext['report']): boolean {
  if (key === '') {
    report(segments, `an empty key; expected ${article(what)} ${what} or "*"`);
    return false;
  }
  // zod and plain objects treat this key as the prototype, not as a member; no real name needs it.
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
  const { report } = place.context;
  const type = raw.type;
  if (type !== 'jwt' && type !== 'open' && type !== 'forbidden') return undefined;
  const allowed: readonly string[] = ENTRY_FIELDS[type];
  let clean = !place.damaged();
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
  if (given.length === 0) {
    report(place.segments, 'a "jwt" entry needs a key: "secret", "publicKey" or "jwks"');
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
  const keyField = given[0] as (typeof KEY_FIELDS)[number];
  // Build the verifier whenever the fields it reads are sound, so that a weak secret is reported together with
  // a bad headerKey rather than after it is fixed.
  if ([keyField, 'algorithms', 'issuer', 'audience', 'maxTokenAge'].some((field) => place.damaged(field)))
    return undefined;

  const entry = raw as {
    algorithms?: string[];
    issuer?: string | string[];
    audience?: string | string[];
    maxTokenAge?: number;
    dsnames?: DsName[];
    looseIpCheck?: boolean;
  };
  let verifier: Verifier;
  try {
    verifier = createVerifier({
      key: verificationKey(raw, keyField, place.context.options),
      algorithms: entry.algorithms,
      issuer: entry.issuer,
      audience: entry.audience,
      maxTokenAgeSeconds: entry.maxTokenAge,
      leewaySeconds: place.context.options.leewaySeconds,
      now: place.context.options.now,
      env: place.context.options.env ?? process.env,
    });
  } catch (error) {
    if (!(error instanceof TokenSetupError)) throw error;
    const field =
      error.code === 'algorithm_not_allowed' && entry.algorithms !== undefined
        ? 'algorithms'
        : error.code === 'option_invalid' && error.message.startsWith('maxTokenAge')
          ? 'maxTokenAge'
          : keyField;
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
    keySource: keyField,
    issuer: list(entry.issuer),
    audience: list(entry.audience),
    maxTokenAge: entry.maxTokenAge ?? 86_400,
  });
}

const URL_LIKE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

function verificationKey(
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
function shadowWarnings(datasets: ReadonlyMap<string, DatasetBlock>): PolicyProblem[] {
  const star = datasets.get(ANY);
  if (star === undefined) return [];
  const warnings: PolicyProblem[] = [];
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

// ---- turning zod issues into plain sentences ------------------------------------------------------------------

function valueAt(root: unknown, segments: readonly PropertyKey[]): unknown {
  let value = root;
  for (const segment of segments) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a whole number' : 'a number';
  return `a ${typeof value}`;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): Found[] {
  const segments = issue.path.map((s) => (typeof s === 'symbol' ? String(s) : s));
  const value = valueAt(input, issue.path);
  if (issue.code === 'unrecognized_keys') {
    const takes = segments.includes('dsnames') ? '; a dsnames item takes "id" and "label"' : '';
    return issue.keys.map((key) => ({ segments: [...segments, key], message: `unknown field${takes}` }));
  }
  if (
    issue.path.length === 3 &&
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

/** Problems in the order their keys appear in the file, each once. */
function toProblems(found: readonly Found[], input: unknown, root: string): PolicyProblem[] {
  const rank = (segments: Segments): number[] => {
    const out: number[] = [];
    let value = input;
    for (const segment of segments) {
      if (typeof segment === 'number') out.push(segment);
      else out.push(isObject(value) ? indexOrEnd(Object.keys(value), segment) : Number.MAX_SAFE_INTEGER);
      value =
        isObject(value) || Array.isArray(value)
          ? (value as Record<string | number, unknown>)[segment]
          : undefined;
    }
    return out;
  };
  const ranked = found.map((f, order) => ({ ...f, order, rank: rank(f.segments) }));
  ranked.sort((a, b) => compareRanks(a.rank, b.rank) || a.order - b.order);
  const seen = new Set<string>();
  const problems: PolicyProblem[] = [];
  for (const f of ranked) {
    const problem = { path: formatPath(root, f.segments), message: f.message };
    const id = `${problem.path}\u0000${problem.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    problems.push(problem);
  }
  return problems;
}

function indexOrEnd(keys: readonly string[], key: string): number {
  const i = keys.indexOf(key);
  return i === -1 ? keys.length : i;
}

function compareRanks(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
