import { createHash, KeyObject } from 'node:crypto';
import { resolve as resolvePath } from 'node:path';
import {
  createSigner,
  createVerifier,
  readSecret,
  type RemoteJwksOptions,
  type SecretSource,
  type Signer,
  TokenSetupError,
  type VerificationKey,
  type Verifier,
  type VerifierOptions,
} from '@pp-embed/dataset-token';
import { closestName, ConfigError, type ConfigProblem, formatPath } from '@pp-embed/server-runtime';
import { DEFAULT_HEADER_KEY, ROUTES } from '@pp-embed/viz-api';
import type { z } from 'zod';
import {
  ANY,
  type DsName,
  type IpCheck,
  type PasswordEntry,
  PATTERN,
  type PolicyEntry,
  type RouteRef,
  SAMPLE_LEVEL,
  type ScriptAccess,
  type TokenEntry,
} from './entries.js';
import { describeRewrite, reshapeLegacy } from './migrate.js';
import { embedderKey } from './origin.js';
import type { TrustedIssuer } from './issuers.js';
import { parsePasswordHash, type PasswordHash } from './password.js';
import { type AccessPolicy, createPolicy, type DatasetBlock, type RouteBlock, throttleOf } from './policy.js';
import {
  ENTRY_FIELDS,
  entrySchema,
  HEADER_NAME,
  KEY_FIELDS,
  PASSWORD_TOKEN_AGE,
  PROTEINPAINT_FIELDS,
} from './schema.js';
import { LoginThrottle, type LoginThrottleOptions } from './throttle.js';

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
  /**
   * The labels of the datasets the server serves. When given, a dataset key that names none of them is an error
   * (with the closest label suggested): it would protect nothing, and the dataset it meant would stay open.
   */
  datasets?: readonly string[];
  /** Limits on dataset-password tries (`basic` entries). */
  loginThrottle?: LoginThrottleOptions;
  /**
   * Origins (`https://docs.example.org`) whose pages may read this server's answers besides the embedders the
   * block names: serverconfig.json's `corsOrigins`. They embed nothing the block does not let them.
   */
  corsOrigins?: readonly string[];
  /**
   * A policy this one replaces (the embedder registry changed): its verifiers are taken over where an entry's key
   * and rules are the same, so that their caches and fetched key sets carry on, and so is its login throttle.
   */
  reuse?: AccessPolicy;
  /**
   * Credentials from outside the block (the embedder registry), loaded with it as one policy. `label` names where
   * they come from in the paths of the blocks made for them: `embedderRegistry(embedders.json)`.
   */
  registered?: { readonly label: string; readonly credentials: readonly RegisteredCredential[] };
}

/**
 * A credential from outside the `dsCredentials` block: one portal (an embedder registry entry) allowed on some
 * datasets and routes, with the keys its tokens are checked with. `loadPolicy` builds it into the same credential
 * entry a `jwt` entry of the block becomes, under the portal's host, at each dataset and route it names, and
 * changes nothing for any other request (see `loadPolicy`).
 *
 * @example
 * const credential: RegisteredCredential = {
 *   path: 'embedderRegistry(embedders.json).embedders.portal.example.org', embedder: 'portal.example.org',
 *   datasets: ['TermdbTest'], routes: ['termdb'], key: { keys: [{ kid: 'k1', secret }] }, keySource: 'secret',
 *   algorithms: ['HS256'], rules: {}, retired: false,
 * };
 */
export interface RegisteredCredential {
  /** Where it is written, for messages, logs and `explain`; it names the registry entry. */
  readonly path: string;
  /** The portal's `host[:port]`, as an embedder key of the block would name it. */
  readonly embedder: string;
  /** Dataset keys (labels, or `*`), as the block's would be written. */
  readonly datasets: readonly string[];
  /** Route keys (`*`, `termdb`, route names), as the block's would be written. */
  readonly routes: readonly string[];
  readonly key: VerificationKey;
  /** What kind of key it is, as `explain` tells it. */
  readonly keySource: TokenEntry['keySource'];
  readonly algorithms: readonly string[];
  /** The other fields of a `jwt` entry: `headerKey`, `ipCheck` (or `looseIpCheck`), `maxTokenAge`, `dsnames`, `issuer`, `audience`. */
  readonly rules: Readonly<Record<string, unknown>>;
  /**
   * Retired: still loaded, so that its datasets stay closed and its tokens are recognized (the revocation check
   * refuses them), but it gives way to a live entry for the same dataset, route and host.
   */
  readonly retired: boolean;
}

/** The fields of a `jwt` entry a registered credential may set; its key and algorithm are the registry's. */
export const REGISTERED_RULES = [
  'headerKey',
  'ipCheck',
  'looseIpCheck',
  'maxTokenAge',
  'dsnames',
  'issuer',
  'audience',
] as const;

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

/** A dataset block's member that is not a route: the header of its entries, as ProteinPaint reads it. */
const DATASET_HEADER_KEY = 'headerKey';
/** ProteinPaint's documented synonym of the `*` route key. */
const ANY_ROUTE_GLOB = '/**';

// C0 controls, DEL and the Unicode line separators: never in a label or route name, and a way to forge log lines.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/;

// The server's routes: a route key must be "*", "termdb" or one of these names, since a misspelt route would
// otherwise leave the real route open.
const CATALOG: ReadonlyMap<string, RouteRef> = new Map(
  Object.values(ROUTES)
    // The login route is no route key: a password sent to it is checked for the route it names.
    .filter((r) => r.class !== 'login')
    .map((r: RouteRef): [string, RouteRef] => [r.name, { name: r.name, class: r.class }]),
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

  const warnings: ConfigProblem[] = [];
  const served = options.datasets === undefined ? undefined : new Set(options.datasets);
  const verifiers = new Verifiers(options.reuse === undefined ? undefined : verifiersOf.get(options.reuse));
  const top = level(input, 0, []);
  for (const [datasetKey, datasetValue] of top ?? []) {
    const datasetSegments = [datasetKey];
    // A bad key is reported and what it holds still checked, so that one pass finds every mistake.
    const labelOk = checkKey(datasetKey, datasetSegments, 'dataset label', report);
    if (!labelOk && UNCHECKED.has(datasetKey)) continue;
    if (labelOk) checkServed(datasetKey, datasetSegments, served, report);
    if (isObject(datasetValue)) {
      const legacy = reshapeLegacy(datasetValue);
      if (legacy !== undefined) {
        report(
          datasetSegments,
          'problem' in legacy
            ? legacy.problem
            : `ProteinPaint's legacy ${legacy.shape} shape, which pp-embed does not read; write it as ${describeRewrite(legacy.block)} (\`pp-token migrate-config\` rewrites the file)`,
        );
        continue;
      }
    }
    const routeMembers = level(datasetValue, 1, datasetSegments);
    if (routeMembers === undefined) continue;
    const routes = new Map<string, RouteBlock>();
    // ProteinPaint reads a dataset-level headerKey as the default of the dataset's entries.
    let datasetHeaderKey: string | undefined;
    const routeKeys = routeMembers.filter(([key, value]) => {
      if (key !== DATASET_HEADER_KEY) return true;
      const problem = headerKeyProblem(value);
      if (problem === undefined) datasetHeaderKey = (value as string).toLowerCase();
      else report([datasetKey, key], `${problem} (the header of every entry of this dataset without one)`);
      return false;
    });
    if (routeKeys.length === 0) {
      report(
        datasetSegments,
        'has no route keys; remove it, or add "*": {"*": {"type": "forbidden"}} to close the dataset',
      );
    }
    const routeWritten = new Map<string, string>();
    for (const [writtenRoute, routeValue] of routeKeys) {
      const routeSegments = [datasetKey, writtenRoute];
      const read = readRouteKey(writtenRoute, routeSegments, report);
      if (read === undefined) continue;
      if ('unknown' in read) {
        warnings.push({
          path: formatPath(root, routeSegments),
          message: `${read.unknown}; its entries are not read`,
        });
        continue;
      }
      const routeKey = read.key;
      if (routeWritten.has(routeKey)) {
        report(routeSegments, `the same route key as "${routeWritten.get(routeKey)}"; keep one of them`);
        continue;
      }
      routeWritten.set(routeKey, writtenRoute);
      const embedderMembers = level(routeValue, 2, routeSegments);
      if (embedderMembers === undefined) continue;
      const embedders = new Map<string, PolicyEntry>();
      const written = new Map<string, string>();
      if (embedderMembers.length === 0) {
        report(routeSegments, 'has no embedder keys; use {"*": {"type": "forbidden"}} to close the route');
      }
      for (const [key, entryValue] of embedderMembers) {
        const entrySegments = [datasetKey, writtenRoute, key];
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
          datasetHeaderKey,
          options,
          report,
          verifiers,
        });
        if (entry === undefined || host === undefined) continue;
        embedders.set(host, entry);
        entries.push(entry);
      }
      const scripts = [...embedders.values()].filter(
        (e): e is TokenEntry => e.type === 'jwt' && e.scripts !== false,
      );
      if (scripts.length > 1) {
        // A script sends no Origin, so nothing would choose between the entries' keys and rules.
        report(
          routeSegments,
          `more than one entry accepts scripts (${scripts.map((e) => `"${e.embedder}"`).join(', ')}); a script sends no Origin, so only one entry of a route block may take its requests`,
        );
      }
      routes.set(routeKey, {
        key: routeKey,
        path: formatPath(root, routeSegments),
        embedders,
        scripts: scripts[0],
      });
    }
    datasets.set(datasetKey, { key: datasetKey, path: formatPath(root, datasetSegments), routes });
  }

  if (options.registered !== undefined) {
    mergeRegistered(options.registered, { datasets, entries, served, options, seen, problems, verifiers });
  }

  if (problems.length > 0) throw new ConfigError(root, problems);
  const policy = createPolicy({
    datasets,
    entries,
    routeCatalog: CATALOG,
    warnings: [...warnings, ...shadowWarnings(datasets)],
    throttle:
      options.reuse === undefined ? new LoginThrottle(options.loginThrottle) : throttleOf(options.reuse),
    corsOrigins: new Set(options.corsOrigins ?? []),
  });
  verifiersOf.set(policy, verifiers.made);
  return policy;
}

const verifiersOf = new WeakMap<AccessPolicy, ReadonlyMap<string, Verifier>>();

/**
 * The verifiers of one load, by what each is made of (key, algorithms, claims rules, clock skew), so that entries
 * alike share one and a policy that replaces another takes over those it still needs, with their caches of
 * verified tokens and their fetched key sets.
 */
class Verifiers {
  readonly made = new Map<string, Verifier>();
  readonly #previous: ReadonlyMap<string, Verifier> | undefined;

  constructor(previous: ReadonlyMap<string, Verifier> | undefined) {
    this.#previous = previous;
  }

  get(options: VerifierOptions): Verifier {
    const id = verifierId(options);
    const verifier =
      (id === undefined ? undefined : (this.made.get(id) ?? this.#previous?.get(id))) ??
      createVerifier(options);
    if (id !== undefined) this.made.set(id, verifier);
    return verifier;
  }
}

/**
 * A digest of what a verifier is made of (secrets included, so that a changed secret makes another verifier; only
 * their digest is kept). The clock and the environment are the server's, alike for every load. Undefined for a
 * key given as a `KeyObject`, whose JSON says nothing of it.
 */
function verifierId(options: VerifierOptions): string | undefined {
  let describable = true;
  const text = JSON.stringify({ ...options, now: undefined, env: undefined }, (_key, value: unknown) => {
    if (value instanceof KeyObject) describable = false;
    return value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value;
  });
  return describable ? createHash('sha256').update(text).digest('base64url') : undefined;
}

/** A dataset key for no dataset the server serves protects nothing; the dataset it meant stays as open as it was. */
function checkServed(
  datasetKey: string,
  segments: Segments,
  served: ReadonlySet<string> | undefined,
  report: EntryPlace['report'],
): void {
  if (served === undefined || datasetKey === ANY || served.has(datasetKey)) return;
  const near = closestName(datasetKey, served);
  report(
    segments,
    near !== undefined
      ? `names no dataset this server serves; did you mean "${near}"? (labels are compared exactly)`
      : `names no dataset this server serves (${[...served].map((l) => `"${l}"`).join(', ') || 'none'}); use "*" for every dataset`,
  );
}

/**
 * A route key as written: `*` (or ProteinPaint's synonym `/**`), `termdb` or a route of the catalog. A slip close
 * to a real name is reported (it would leave the route it meant to broader keys, or open); a name far from every
 * route comes back as `unknown`, which the block warns about and a registered credential refuses.
 */
function readRouteKey(
  written: string,
  segments: Segments,
  report: EntryPlace['report'],
): { key: string } | { unknown: string } | undefined {
  const key = written === ANY_ROUTE_GLOB ? ANY : written;
  if (!checkKey(key, segments, 'route name', report) && UNCHECKED.has(key)) return undefined;
  if (key === ANY || key === SAMPLE_LEVEL || CATALOG.has(key) || PATTERN.test(key)) return { key };
  const near = closestName(key, [SAMPLE_LEVEL, ...CATALOG.keys()]);
  if (near !== undefined) {
    report(segments, `not a route of this server; did you mean "${near}"?`);
    return undefined;
  }
  return {
    unknown: `is not a route this server serves (its routes: "*", "termdb", ${[...CATALOG.keys()].map((n) => `"${n}"`).join(', ')})`,
  };
}

interface EntryPlace {
  segments: Segments;
  path: string;
  dataset: string;
  route: string;
  embedder: string;
  /** The dataset block's own `headerKey`, lowercase: the default of its entries. */
  datasetHeaderKey?: string | undefined;
  options: LoadPolicyOptions;
  report: (segments: Segments, message: string) => void;
  /** Fields the shape check found a problem in (`''` for the entry itself). */
  damaged?: ReadonlySet<string>;
  /** Where verifiers come from: made, or taken over from the policy this one replaces. */
  verifiers: Verifiers;
  /** A registered credential's key, which no field of the entry names; its problems are told to `report`. */
  injected?: {
    key: VerificationKey;
    keySource: TokenEntry['keySource'];
    report: (message: string) => void;
  };
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
  if (type !== 'jwt' && type !== 'basic' && type !== 'open' && type !== 'forbidden') return undefined;
  const allowed: readonly string[] = ENTRY_FIELDS[type];
  const damaged = place.damaged ?? new Set<string>();
  let clean = !damaged.has('');
  for (const field of Object.keys(raw)) {
    if (isComment(field) || allowed.includes(field)) continue;
    clean = false;
    report([...place.segments, field], unknownFieldMessage(type, field, allowed));
  }
  const base = { path: place.path, dataset: place.dataset, route: place.route, embedder: place.embedder };
  if (type === 'open' || type === 'forbidden') return clean ? Object.freeze({ type, ...base }) : undefined;

  if (raw.ipCheck !== undefined && raw.looseIpCheck !== undefined) {
    report(place.segments, 'give "ipCheck" or "looseIpCheck" (its older spelling), not both');
    clean = false;
  }
  const ipCheck: IpCheck =
    typeof raw.ipCheck === 'string'
      ? (raw.ipCheck as IpCheck)
      : raw.looseIpCheck === true
        ? 'loose'
        : 'strict';
  const headerKey =
    typeof raw.headerKey === 'string'
      ? raw.headerKey.toLowerCase()
      : (place.datasetHeaderKey ?? DEFAULT_HEADER_KEY);
  if (typeof raw.headerKey === 'string' && !damaged.has('headerKey')) {
    const problem = headerKeyProblem(raw.headerKey);
    if (problem !== undefined) {
      report([...place.segments, 'headerKey'], problem);
      clean = false;
    }
  }
  if (raw.scripts === 'pinned' && ipCheck === 'none') {
    report(
      [...place.segments, 'scripts'],
      '"pinned" needs an address check, and "ipCheck": "none" compares no address; use "strict" or "loose", or "scripts": true',
    );
    clean = false;
  }
  const rules = { ...base, headerKey, ipCheck };
  if (type === 'basic') {
    const entry = buildPasswordEntry(raw, place, rules);
    return clean ? entry : undefined;
  }

  const injected = place.injected;
  const given = injected !== undefined ? [] : KEY_FIELDS.filter((field) => raw[field] !== undefined);
  const issuerNames = Array.isArray(raw.issuers) ? (raw.issuers as unknown[]) : [];
  const issuers: TrustedIssuer[] = [];
  issuerNames.forEach((name, i) => {
    const trusted = typeof name === 'string' ? place.options.issuers?.get(name) : undefined;
    if (trusted !== undefined) issuers.push(trusted);
    else if (typeof name === 'string') {
      const names = [...(place.options.issuers?.keys() ?? [])];
      const known = names.map((n) => `"${n}"`).join(', ');
      report(
        [...place.segments, 'issuers', i],
        known === '' ? 'no trustedIssuers are configured' : `not one of the trustedIssuers (${known})`,
      );
      clean = false;
    }
  });
  if (raw.scripts === 'pinned' && issuerNames.length > 0) {
    // A trusted issuer's token carries no address, so "pinned" would refuse every one of them from a script.
    report(
      [...place.segments, 'scripts'],
      '"pinned" takes only tokens bound to an address ("ip"), and tokens of trusted issuers carry none; use "scripts": true to take them from scripts',
    );
    clean = false;
  }
  if (given.length === 0 && issuerNames.length === 0 && injected === undefined) {
    report(
      place.segments,
      'a "jwt" entry needs a key ("secret", "publicKey" or "jwks") or "issuers" (ProteinPaint treats a "jwt" entry without a secret as closed: write {"type": "forbidden"})',
    );
    return undefined;
  }
  if (given.length > 1) {
    // Two key sources would leave the choice of the key that checks a token to the order of our code.
    report(place.segments, `give one key source, not ${given.map((f) => `"${f}"`).join(' and ')}`);
    return undefined;
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
  };
  let verifier: Verifier | undefined;
  try {
    const key =
      injected?.key ?? (keyField === undefined ? undefined : verificationKey(raw, keyField, place.options));
    verifier =
      key === undefined
        ? undefined
        : place.verifiers.get({
            key,
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
    if (injected !== undefined && error.option !== 'maxTokenAgeSeconds') {
      injected.report(error.message);
      return undefined;
    }
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
    ...rules,
    scripts: (raw.scripts as ScriptAccess | undefined) ?? false,
    verifier,
    dsnames:
      entry.dsnames === undefined
        ? undefined
        : Object.freeze(
            entry.dsnames.map((d) =>
              Object.freeze(d.label === undefined ? { id: d.id } : { id: d.id, label: d.label }),
            ),
          ),
    issuers: Object.freeze(issuers),
    keySource: injected?.keySource ?? keyField,
    issuer: list(entry.issuer),
    audience: list(entry.audience),
    maxTokenAge: entry.maxTokenAge ?? 86_400,
  });
}

/** The issuer of the tokens this server signs for dataset passwords. */
const PASSWORD_TOKEN_ISSUER = 'pp-embed';

/**
 * A `basic` entry: the password hash, and the signer and verifier of the tokens issued for it. Both use the
 * entry's `tokenSecret`, with HS256 only, and bind each token to this entry by its `aud` (the entry's path), so
 * that a token issued for one dataset password opens nothing else, not even an entry sharing the secret.
 */
function buildPasswordEntry(
  raw: Json,
  place: EntryPlace,
  rules: {
    path: string;
    dataset: string;
    route: string;
    embedder: string;
    headerKey: string;
    ipCheck: IpCheck;
  },
): PasswordEntry | undefined {
  const { report } = place;
  const damaged = place.damaged ?? new Set<string>();
  // ProteinPaint's plaintext password is refused with its own sentence, which says what to write instead.
  if (raw.password !== undefined || raw.secret !== undefined) return undefined;
  if (raw.passwordHash === undefined || raw.tokenSecret === undefined) {
    const missing = ['passwordHash', 'tokenSecret'].filter((f) => raw[f] === undefined);
    report(
      place.segments,
      `a "basic" entry needs ${missing.map((f) => `"${f}"`).join(' and ')}: the hash of the dataset password (\`pp-token hash-password\`) and the secret this server signs its tokens with (\`pp-token secret\`)`,
    );
    return undefined;
  }
  let passwordHash: PasswordHash | undefined;
  if (typeof raw.passwordHash === 'string') {
    const parsed = parsePasswordHash(raw.passwordHash);
    if ('problem' in parsed) report([...place.segments, 'passwordHash'], parsed.problem);
    else passwordHash = parsed;
  }
  if (damaged.has('tokenSecret') || damaged.has('maxTokenAge') || passwordHash === undefined)
    return undefined;
  const maxTokenAge = typeof raw.maxTokenAge === 'number' ? raw.maxTokenAge : PASSWORD_TOKEN_AGE.default;
  // The entry's place in the block, not in the file: replicas agree however the block is included.
  const audience = `${PASSWORD_TOKEN_ISSUER}:${formatPath('', place.segments)}`;
  const secret = secretSourceOf(raw.tokenSecret as SecretField, place.options);
  let signer: Signer;
  let verifier: Verifier;
  try {
    const key = { secret: readSecret(secret, place.options.env) };
    signer = createSigner({
      algorithm: 'HS256',
      key,
      issuer: PASSWORD_TOKEN_ISSUER,
      audience,
      ttlSeconds: maxTokenAge,
      maxTtlSeconds: maxTokenAge,
      now: place.options.now,
    });
    verifier = createVerifier({
      key,
      algorithms: ['HS256'],
      issuer: PASSWORD_TOKEN_ISSUER,
      audience,
      maxTokenAgeSeconds: maxTokenAge,
      leewaySeconds: place.options.leewaySeconds,
      now: place.options.now,
    });
  } catch (error) {
    if (!(error instanceof TokenSetupError)) throw error;
    report([...place.segments, 'tokenSecret'], error.message);
    return undefined;
  }
  return Object.freeze({
    type: 'basic',
    ...rules,
    keySource: 'password',
    verifier,
    signer,
    passwordHash,
    audience,
    dsnames: undefined,
    maxTokenAge,
  });
}

/** "unknown field", with the field it most likely meant, or ProteinPaint's reason when it is one of its own. */
function unknownFieldMessage(type: string, field: string, allowed: readonly string[]): string {
  if (type === 'basic' && field === 'secret') return PROTEINPAINT_FIELDS.password as string;
  if (Object.hasOwn(PROTEINPAINT_FIELDS, field)) return PROTEINPAINT_FIELDS[field] as string;
  const known = new Set<string>(Object.values(ENTRY_FIELDS).flat());
  if (known.has(field)) return `has no effect on ${article(type)} "${type}" entry; remove it`;
  const near = closestName(field, allowed);
  const takes = `${article(type)} "${type}" entry takes ${allowed.map((f) => `"${f}"`).join(', ')}`;
  return near === undefined ? `unknown field; ${takes}` : `unknown field; did you mean "${near}"? (${takes})`;
}

/** A header name a page can send the token in, or the sentence saying why it is not. */
function headerKeyProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || !HEADER_NAME.test(value) || value.length > 256) {
    return "not a valid header name (RFC 9110 §5.6.2: letters, digits and !#$%&'*+-.^_`|~)";
  }
  const name = value.toLowerCase();
  if (FORBIDDEN_REQUEST_HEADERS.has(name) || /^(proxy|sec)-/.test(name)) {
    return 'a header that browsers do not let a page set; use a custom name such as x-ds-access-token';
  }
  return undefined;
}

type SecretField = string | { env: string } | { file: string };

function secretSourceOf(secret: SecretField, options: LoadPolicyOptions): SecretSource {
  if (typeof secret === 'string') return secret;
  return 'env' in secret ? { env: secret.env } : { file: resolvePath(options.baseDir, secret.file) };
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
  if (field === 'secret') return { secret: secretSourceOf(raw.secret as SecretField, options) };
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

// ---- credentials from the embedder registry -------------------------------------------------------------------

interface MergeContext {
  datasets: Map<string, DatasetBlock>;
  entries: PolicyEntry[];
  served: ReadonlySet<string> | undefined;
  options: LoadPolicyOptions;
  /** Problems already reported, to report each once. */
  seen: Set<string>;
  problems: ConfigProblem[];
  verifiers: Verifiers;
}

/** One place a registered credential is written into: a dataset key, a route key, and its entry there. */
interface Placement {
  dataset: string;
  route: string;
  entry: TokenEntry;
  credential: RegisteredCredential;
}

// Broader keys first, so that a block made for a narrower key starts from what the broader one holds by then.
const datasetRank = (key: string): number => (key === ANY ? 0 : 1);
const routeRank = (key: string): number => (key === ANY ? 0 : key === SAMPLE_LEVEL ? 1 : 2);

/** The blocks (mutable while loading) a `DatasetBlock` and `RouteBlock` are made of. */
const routesOf = (block: DatasetBlock) => block.routes as Map<string, RouteBlock>;
const embeddersOf = (block: RouteBlock) => block.embedders as Map<string, PolicyEntry>;

/**
 * Builds each registered credential as a `jwt` entry of the block (the same checks, the same verifier, one per
 * credential) and writes it under its portal's host at every dataset and route key it names, so that the portal
 * may use exactly those; every other request is decided as before:
 *
 * - a dataset block made for a credential starts as a copy of the `*` dataset block, and a route block as a copy
 *   of the broader route block that decided its routes until then, so that no other portal gains or loses a
 *   route, and nothing that was closed opens;
 * - the portal is also written into the narrower blocks that would hide the one it names (a `*` dataset's
 *   exact-label blocks; a `*` or `termdb` route's narrower route blocks), where it has no entry of its own.
 *
 * The same dataset, route and host in the block and a live credential, or in two live credentials, is a
 * conflict, reported at both. A retired credential is loaded too (its datasets stay closed, and its tokens are
 * recognized and refused by the revocation check), unless a live entry holds its place.
 */
function mergeRegistered(registered: NonNullable<LoadPolicyOptions['registered']>, ctx: MergeContext): void {
  const placements: Placement[] = [];
  for (const credential of registered.credentials) placements.push(...placeCredential(credential, ctx));
  placements.sort(
    (a, b) => datasetRank(a.dataset) - datasetRank(b.dataset) || routeRank(a.route) - routeRank(b.route),
  );
  const retired = new Set(registered.credentials.filter((c) => c.retired).map((c) => c.path));
  for (const { dataset, route, entry, credential } of placements) {
    const host = entry.embedder;
    const targets =
      dataset === ANY
        ? [
            datasetBlock(ctx, ANY, registered.label),
            ...[...ctx.datasets.values()].filter((b) => b.key !== ANY),
          ]
        : [datasetBlock(ctx, dataset, registered.label)];
    let placed = false;
    for (const block of targets) {
      const named = routeBlock(block, route);
      const present = embeddersOf(named).get(host);
      if (block.key !== dataset) {
        // A "*" dataset's portal, in a block of its own label: an entry there for the host comes first.
        if (present !== undefined) continue;
      } else if (present !== undefined && present.dataset === dataset && present.route === route) {
        if (retired.has(entry.path)) continue;
        if (!retired.has(present.path)) {
          // Both would decide the same requests: which one does must be written, not left to load order.
          const where = formatPath('', [dataset, route, host]);
          reporter(ctx, credential.path)(
            [],
            `conflicts with ${present.path}: both name ${where}; keep one of them`,
          );
          reporter(ctx, present.path)(
            [],
            `conflicts with ${credential.path}: both name ${where}; keep one of them`,
          );
          continue;
        }
      }
      embeddersOf(named).set(host, entry);
      placed = true;
      // The narrower route blocks decide their routes alone: the portal is written there too.
      for (const narrower of routesOf(block).values()) {
        if (covers(route, narrower.key) && !embeddersOf(narrower).has(host))
          embeddersOf(narrower).set(host, entry);
      }
    }
    if (placed) ctx.entries.push(entry);
  }
}

/** True when route key `broad` covers the routes of the narrower key `narrow` (and is not it). */
function covers(broad: string, narrow: string): boolean {
  if (broad === narrow) return false;
  if (broad === ANY) return true;
  return broad === SAMPLE_LEVEL && CATALOG.get(narrow)?.class === 'sample-level';
}

function reporter(ctx: MergeContext, root: string): EntryPlace['report'] {
  return (segments, message) => {
    const problem = { path: formatPath(root, segments), message };
    const id = `${problem.path}\u0000${message}`;
    if (ctx.seen.has(id)) return;
    ctx.seen.add(id);
    ctx.problems.push(problem);
  };
}

/** The dataset block for `key`, made as a copy of the `*` dataset block when there is none yet. */
function datasetBlock(ctx: MergeContext, key: string, label: string): DatasetBlock {
  const found = ctx.datasets.get(key);
  if (found !== undefined) return found;
  const star = key === ANY ? undefined : ctx.datasets.get(ANY);
  const routes = new Map<string, RouteBlock>();
  for (const [routeKey, block] of star?.routes ?? []) {
    routes.set(routeKey, { ...block, embedders: new Map(block.embedders) });
  }
  const block: DatasetBlock = { key, path: formatPath(label, [key]), routes };
  ctx.datasets.set(key, block);
  return block;
}

/** The route block for `key` in `block`, made as a copy of the broader block that decided its routes until now. */
function routeBlock(block: DatasetBlock, key: string): RouteBlock {
  const routes = routesOf(block);
  const found = routes.get(key);
  if (found !== undefined) return found;
  const broader =
    key === ANY
      ? undefined
      : ((CATALOG.get(key)?.class === 'sample-level' ? routes.get(SAMPLE_LEVEL) : undefined) ??
        routes.get(ANY));
  const made: RouteBlock = {
    key,
    path: formatPath(block.path, [key]),
    embedders: new Map(broader?.embedders ?? []),
    scripts: broader?.scripts,
  };
  routes.set(key, made);
  return made;
}

/**
 * Checks one credential's keys and rules and builds its entry once (one verifier, shared by every place it is
 * written); one placement per dataset and route key.
 */
function placeCredential(credential: RegisteredCredential, ctx: MergeContext): Placement[] {
  const report = reporter(ctx, credential.path);
  let ok = true;
  const parsed = embedderKey(credential.embedder);
  let host: string | undefined;
  if ('problem' in parsed) {
    report(['embedder'], parsed.problem);
    ok = false;
  } else if (parsed.host === ANY) {
    report(['embedder'], 'a registered embedder is one portal\'s host, not "*"');
    ok = false;
  } else host = parsed.host;
  const datasets: string[] = [];
  credential.datasets.forEach((key, i) => {
    if (!checkKey(key, ['datasets', i], 'dataset label', report)) ok = false;
    else {
      checkServed(key, ['datasets', i], ctx.served, (segments, message) => {
        ok = false;
        report(segments, message);
      });
      datasets.push(key);
    }
  });
  const routes: string[] = [];
  credential.routes.forEach((written, i) => {
    const read = readRouteKey(written, ['routes', i], report);
    if (read === undefined) ok = false;
    else if ('unknown' in read) {
      report(['routes', i], read.unknown);
      ok = false;
    } else routes.push(read.key);
  });
  for (const field of Object.keys(credential.rules)) {
    if (!(REGISTERED_RULES as readonly string[]).includes(field)) {
      report(
        ['rules', field],
        `is not a rule of a registered embedder (it takes ${REGISTERED_RULES.map((f) => `"${f}"`).join(', ')})`,
      );
      ok = false;
    }
  }
  if (!ok || host === undefined || datasets.length === 0 || routes.length === 0) return [];
  const entry = readEntry(
    { type: 'jwt', ...credential.rules, algorithms: [...credential.algorithms] },
    {
      segments: ['rules'],
      path: credential.path,
      dataset: datasets[0] as string,
      route: routes[0] as string,
      embedder: host,
      options: ctx.options,
      report,
      verifiers: ctx.verifiers,
      injected: {
        key: credential.key,
        keySource: credential.keySource,
        report: (message) => report(['keys'], message),
      },
    },
  );
  if (entry === undefined || entry.type !== 'jwt') return [];
  return datasets.flatMap((dataset) =>
    routes.map((route) => ({
      dataset,
      route,
      credential,
      entry: Object.freeze({ ...entry, dataset, route }),
    })),
  );
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
