import {
  ANY,
  type ForbiddenEntry,
  type OpenEntry,
  type PolicyEntry,
  type RouteRef,
  SAMPLE_LEVEL,
  type CredentialEntry,
  type TokenEntry,
} from './entries.js';
import type { LoginThrottle } from './throttle.js';
import type { ConfigProblem } from '@pp-embed/server-runtime';
import type { TrustedIssuer } from './issuers.js';
import type { KeySetHealth } from '@pp-embed/viz-api';
import { type Embedder, embedderFromOrigin } from './origin.js';

/** Codes for a request refused before any token is looked at. */
export type ForbiddenCode = 'embedder_not_allowed' | 'route_forbidden' | 'scripts_not_allowed';

/**
 * What a request needs, decided from the dataset, route and origin alone:
 *
 * - `open`: no token. `entry` is the `open` entry that says so, or undefined when no credential covers the
 *   dataset and route at all.
 * - `forbidden`: refuse with 403 and `code`; `path` names the config entry or route block that decided it.
 * - `needs-token`: verify the token in `entry.headerKey` with `entry.verifier`, then call `authorize`.
 */
export type Resolution =
  | { readonly kind: 'open'; readonly entry: OpenEntry | undefined }
  | {
      readonly kind: 'forbidden';
      readonly code: ForbiddenCode;
      readonly path: string;
      readonly entry: ForbiddenEntry | undefined;
    }
  | { readonly kind: 'needs-token'; readonly entry: CredentialEntry };

/** Whether one route needs a token from one origin, for the server's `/termdb/config` answer. */
export interface RouteRequirement {
  readonly route: string;
  readonly kind: Resolution['kind'];
  /** The header to send the token in, when `kind` is `needs-token`. */
  readonly headerKey?: string;
  /**
   * Where that token comes from, when `kind` is `needs-token`: the portal (`jwt`) or the login route, for the
   * dataset password (`basic`).
   */
  readonly credential?: 'jwt' | 'basic';
  /** The refusal, when `kind` is `forbidden`. */
  readonly code?: ForbiddenCode;
}

export interface TokenRequirements {
  /**
   * The header for this dataset's tokens: that of the first route (in the order asked) that needs one, or
   * undefined when none does. Routes of one dataset normally share it; `routes` has each route's own.
   */
  readonly headerKey: string | undefined;
  /** Route name → true when the route needs a token from this origin. A null-prototype object. */
  readonly tokenRequired: Readonly<Record<string, boolean>>;
  /** Route name → true when that token is the one issued for the dataset password. A null-prototype object. */
  readonly passwordRequired: Readonly<Record<string, boolean>>;
  readonly routes: readonly RouteRequirement[];
}

/** A loaded `dsCredentials` block. Built by `loadPolicy`; immutable. */
export interface AccessPolicy {
  /**
   * Decides what a request needs. Never throws; any dataset label, route name or origin text is safe here.
   *
   * Precedence, most specific first, each level decided before the next:
   * 1. dataset: the exact label's block; only when there is none, the `*` block (ProteinPaint's rule: an exact
   *    label replaces `*` entirely, it does not fall back to it);
   * 2. route, within that block: the exact route name, then `termdb` (sample-level routes only), then `*`;
   * 3. embedder, within that route block: the origin's `host:port`, then its host alone (a key without a port
   *    matches every port), then `*`. A request without an `Origin` is a script's: the route block's entry with
   *    `"scripts"` decides it; without one, an `open` or `forbidden` `*` entry does, and otherwise it is refused
   *    with `scripts_not_allowed` (fail closed).
   * No route key covers the request: open. A route block covers it but no embedder key matches: forbidden
   * `embedder_not_allowed` (fail closed; ProteinPaint answers open here).
   *
   * Requests are decided by `decide`, which starts here; `resolve` alone answers what a route needs.
   *
   * @example
   * const r = policy.resolve('TermdbTest', ROUTES.samples, req.header('origin'));
   * r.kind; // 'needs-token'
   */
  resolve(dataset: string, route: RouteRef, origin: string | null | undefined): Resolution;
  /**
   * For CORS: true when the origin's host matches an embedder key anywhere in the block (a key without a port
   * matches every port of its host), when it is one of the `corsOrigins` it was loaded with, or when any route
   * has a `*` embedder (then every origin, including `null` and no origin, is allowed). An allowed origin is
   * not a granted one: `resolve` still decides each request. Tokens travel in a header, never a cookie, so the
   * server answers without `Access-Control-Allow-Credentials`.
   *
   * @example
   * if (policy.allowsOrigin(origin)) c.header('Access-Control-Allow-Origin', origin);
   */
  allowsOrigin(origin: string | null | undefined): boolean;
  /**
   * Every header a token may come in, lowercase, sorted, for `Access-Control-Allow-Headers`.
   *
   * @example
   * c.header('Access-Control-Allow-Headers', ['content-type', ...policy.headerKeys()].join(', '));
   */
  headerKeys(): readonly string[];
  /**
   * Which of a dataset's routes need a token from this origin, and in which header.
   *
   * @example
   * const { headerKey, tokenRequired } = policy.tokenRequirements('TermdbTest', catalog, origin);
   * // headerKey 'x-ds-access-token', tokenRequired { 'termdb/terms': false, 'termdb/samples': true }
   */
  tokenRequirements(
    dataset: string,
    routes: readonly RouteRef[],
    origin: string | null | undefined,
  ): TokenRequirements;
  /**
   * Loads remote JWKS ahead of the first request (a no-op for local keys). Rejects when one cannot be fetched.
   *
   * @example
   * await policy.ready();
   */
  ready(): Promise<void>;
  /**
   * The state of every key set fetched from a JWKS URL, one per URL, for the server's health check.
   *
   * @example
   * const stale = policy.keySets().filter((k) => k.status !== 'ok');
   */
  keySets(): KeySetHealth[];
  /** A route of the server's catalog, by name (`termdb/samples`). */
  route(name: string): RouteRef | undefined;
  /** Every entry, in file order. */
  readonly entries: readonly PolicyEntry[];
  /** Legal but probably unintended: an exact dataset block that drops routes the `*` block protects. */
  readonly warnings: readonly ConfigProblem[];
}

/** @internal */
export interface RouteBlock {
  readonly key: string;
  readonly path: string;
  readonly embedders: ReadonlyMap<string, PolicyEntry>;
  /** The one entry that takes scripts (requests without an `Origin`), if any. */
  readonly scripts: TokenEntry | undefined;
}

/** @internal */
export interface DatasetBlock {
  readonly key: string;
  readonly path: string;
  readonly routes: ReadonlyMap<string, RouteBlock>;
}

/** @internal */
export interface PolicyTables {
  datasets: ReadonlyMap<string, DatasetBlock>;
  entries: readonly PolicyEntry[];
  routeCatalog: ReadonlyMap<string, RouteRef>;
  warnings: readonly ConfigProblem[];
  throttle: LoginThrottle;
  corsOrigins: ReadonlySet<string>;
}

/** Every step of one decision, for `explain`. @internal */
export interface Trace {
  readonly dataset: {
    readonly block: DatasetBlock | undefined;
    readonly via: 'exact' | 'star' | 'none';
    readonly starIgnored: boolean;
  };
  readonly route: {
    readonly name: string;
    readonly class: RouteRef['class'];
    readonly block: RouteBlock | undefined;
    readonly via: 'exact' | 'termdb' | 'star' | 'none';
  };
  readonly embedder: Embedder;
  /**
   * `exact`: the key is the origin's `host[:port]`; `hostname`: a key without a port matched the origin's host on
   * another port; `star`: the `*` key; `script`: the request has no `Origin` and the entry that takes scripts
   * matched; `none`: no key matched.
   */
  readonly embedderVia: 'exact' | 'hostname' | 'star' | 'script' | 'none' | undefined;
  readonly result: Resolution;
}

const tracersOf = new WeakMap<AccessPolicy, Tracer>();
const throttles = new WeakMap<AccessPolicy, LoginThrottle>();

/** @internal The dataset-password throttle of `policy`: one per loaded policy, so per server process. */
export function throttleOf(policy: AccessPolicy): LoginThrottle {
  const throttle = throttles.get(policy);
  if (throttle === undefined) throw new TypeError('not a policy built by loadPolicy');
  return throttle;
}

type Tracer = (dataset: string, route: RouteRef, origin: string | null | undefined) => Trace;

/** @internal How `policy` resolves a request, step by step; the same memoized answer every caller gets. */
export function traceResolution(
  policy: AccessPolicy,
  dataset: string,
  route: RouteRef,
  origin: string | null | undefined,
): Trace {
  const tracer = tracersOf.get(policy);
  if (tracer === undefined) throw new TypeError('not a policy built by loadPolicy');
  return tracer(dataset, route, origin);
}

// A resolution depends only on the config and (dataset, route, origin), so it is worked out once per triple.
// Origins come from clients: the memo is bounded and starts over when full, so junk origins cost a little
// speed, never memory.
const MEMO_LIMIT = 4096;

function memoized(tables: PolicyTables): Tracer {
  const memo = new Map<string, Trace>();
  return (dataset, route, origin) => {
    if (typeof route !== 'object' || route === null) return trace(tables, dataset, route, origin);
    const key = `${dataset}\u0000${route.name}\u0000${route.class}\u0000${origin ?? ''}`;
    let found = memo.get(key);
    if (found === undefined) {
      found = trace(tables, dataset, route, origin);
      if (memo.size >= MEMO_LIMIT) memo.clear();
      memo.set(key, found);
    }
    return found;
  };
}

function trace(
  tables: PolicyTables,
  dataset: string,
  route: RouteRef,
  origin: string | null | undefined,
): Trace {
  const exact = tables.datasets.get(dataset);
  const star = tables.datasets.get(ANY);
  const block = exact ?? star;
  const datasetStep = {
    block,
    via:
      exact !== undefined ? ('exact' as const) : star !== undefined ? ('star' as const) : ('none' as const),
    starIgnored: exact !== undefined && star !== undefined && dataset !== ANY,
  };
  // A malformed route from a JavaScript caller counts as sample-level: the stricter reading.
  const name =
    typeof route === 'object' && route !== null && typeof route.name === 'string' ? route.name : '';
  const routeClass: RouteRef['class'] =
    typeof route === 'object' &&
    route !== null &&
    (route.class === 'aggregated' || route.class === 'discovery')
      ? route.class
      : 'sample-level';
  const sampleLevel = routeClass === 'sample-level';
  const embedder = embedderFromOrigin(origin);

  let routeBlock: RouteBlock | undefined;
  let routeVia: Trace['route']['via'] = 'none';
  if (block !== undefined) {
    // `*` and `termdb` are keys with a meaning of their own, never route names.
    const named = name === ANY || name === SAMPLE_LEVEL ? undefined : block.routes.get(name);
    const termdb = sampleLevel ? block.routes.get(SAMPLE_LEVEL) : undefined;
    const any = block.routes.get(ANY);
    [routeBlock, routeVia] =
      named !== undefined
        ? [named, 'exact']
        : termdb !== undefined
          ? [termdb, 'termdb']
          : any !== undefined
            ? [any, 'star']
            : [undefined, 'none'];
  }
  const routeStep = { name, class: routeClass, block: routeBlock, via: routeVia };
  if (routeBlock === undefined) {
    return {
      dataset: datasetStep,
      route: routeStep,
      embedder,
      embedderVia: undefined,
      result: OPEN_UNCOVERED,
    };
  }

  if (embedder.kind === 'absent') {
    return { dataset: datasetStep, route: routeStep, embedder, ...scriptResolution(routeBlock) };
  }
  // host[:port] first, then the host on any port (a key without a port), then `*`.
  const exactHost = embedder.kind === 'host' ? routeBlock.embedders.get(embedder.host) : undefined;
  const anyPort =
    exactHost === undefined && embedder.kind === 'host' && embedder.hostname !== embedder.host
      ? routeBlock.embedders.get(embedder.hostname)
      : undefined;
  const entry = exactHost ?? anyPort ?? routeBlock.embedders.get(ANY);
  const embedderVia =
    exactHost !== undefined
      ? 'exact'
      : anyPort !== undefined
        ? 'hostname'
        : entry !== undefined
          ? 'star'
          : 'none';
  let result: Resolution;
  if (entry === undefined) {
    // Fail closed: the dataset and route are protected and this embedder has no credential for them.
    result = Object.freeze({
      kind: 'forbidden',
      code: 'embedder_not_allowed',
      path: routeBlock.path,
      entry: undefined,
    });
  } else if (entry.type === 'open') {
    result = Object.freeze({ kind: 'open', entry });
  } else if (entry.type === 'forbidden') {
    result = Object.freeze({ kind: 'forbidden', code: 'route_forbidden', path: entry.path, entry });
  } else {
    result = Object.freeze({ kind: 'needs-token', entry });
  }
  return { dataset: datasetStep, route: routeStep, embedder, embedderVia, result };
}

const OPEN_UNCOVERED: Resolution = Object.freeze({ kind: 'open', entry: undefined });

/**
 * A request without an `Origin`: a script, curl, a browser's own address bar, never the widget (a cross-origin
 * page always sends one). The entry that takes scripts decides it; a `*` entry that is `open` or `forbidden`
 * says the same to everyone; any other request for a protected route is refused (fail closed), since a browser's
 * token used outside its page is what it would be.
 */
function scriptResolution(block: RouteBlock): Pick<Trace, 'embedderVia' | 'result'> {
  if (block.scripts !== undefined) {
    return { embedderVia: 'script', result: Object.freeze({ kind: 'needs-token', entry: block.scripts }) };
  }
  const star = block.embedders.get(ANY);
  if (star?.type === 'open')
    return { embedderVia: 'star', result: Object.freeze({ kind: 'open', entry: star }) };
  if (star?.type === 'forbidden') {
    return {
      embedderVia: 'star',
      result: Object.freeze({ kind: 'forbidden', code: 'route_forbidden', path: star.path, entry: star }),
    };
  }
  return {
    embedderVia: star === undefined ? 'none' : 'star',
    result: Object.freeze({
      kind: 'forbidden',
      code: 'scripts_not_allowed',
      path: block.path,
      entry: undefined,
    }),
  };
}

/** @internal Builds the policy object over tables made by `loadPolicy`. */
export function createPolicy(tables: PolicyTables): AccessPolicy {
  const hosts = new Set<string>();
  let anyEmbedder = false;
  const headers = new Set<string>();
  const verifiers = new Set<NonNullable<CredentialEntry['verifier']>>();
  const issuers = new Set<TrustedIssuer>();
  for (const entry of tables.entries) {
    if (entry.embedder === ANY) anyEmbedder = true;
    else hosts.add(entry.embedder);
    if (entry.type === 'jwt' || entry.type === 'basic') {
      headers.add(entry.headerKey);
      if (entry.verifier !== undefined) verifiers.add(entry.verifier);
      if (entry.type === 'jwt') for (const trusted of entry.issuers) issuers.add(trusted);
    }
  }
  const headerKeys = Object.freeze([...headers].sort());
  const entries = Object.freeze([...tables.entries]);
  const warnings = Object.freeze([...tables.warnings]);

  const tracer = memoized(tables);
  const policy: AccessPolicy = {
    entries,
    warnings,
    resolve: (dataset, route, origin) => tracer(dataset, route, origin).result,
    allowsOrigin(origin) {
      if (anyEmbedder) return true;
      if (typeof origin === 'string' && tables.corsOrigins.has(origin)) return true;
      const embedder = embedderFromOrigin(origin);
      // A key without a port is the host's name alone, so `hosts` holds it when any port is allowed.
      return embedder.kind === 'host' && (hosts.has(embedder.host) || hosts.has(embedder.hostname));
    },
    headerKeys: () => headerKeys,
    tokenRequirements(dataset, routes, origin) {
      const tokenRequired = Object.create(null) as Record<string, boolean>;
      const passwordRequired = Object.create(null) as Record<string, boolean>;
      const details: RouteRequirement[] = [];
      let headerKey: string | undefined;
      for (const route of routes) {
        const r = tracer(dataset, route, origin).result;
        tokenRequired[route.name] = r.kind === 'needs-token';
        passwordRequired[route.name] = r.kind === 'needs-token' && r.entry.type === 'basic';
        if (r.kind === 'needs-token') {
          headerKey ??= r.entry.headerKey;
          details.push({
            route: route.name,
            kind: r.kind,
            headerKey: r.entry.headerKey,
            credential: r.entry.type,
          });
        } else if (r.kind === 'forbidden') {
          details.push({ route: route.name, kind: r.kind, code: r.code });
        } else {
          details.push({ route: route.name, kind: r.kind });
        }
      }
      return { headerKey, tokenRequired, passwordRequired, routes: details };
    },
    async ready() {
      await Promise.all([
        ...[...verifiers].map((v) => v.ready()),
        ...[...issuers].map((i) => i.verifier.ready()),
        ...[...new Set([...issuers].map((i) => i.passports))].map((p) => p?.ready()),
      ]);
    },
    keySets() {
      const byUrl = new Map<string, KeySetHealth>();
      for (const verifier of verifiers) {
        const health = verifier.keySetHealth();
        if (health !== undefined && !byUrl.has(health.url)) byUrl.set(health.url, health);
      }
      for (const trusted of issuers) {
        const health = trusted.verifier.keySetHealth();
        if (!byUrl.has(health.url)) byUrl.set(health.url, health);
      }
      return [...byUrl.values()];
    },
    route: (name) => tables.routeCatalog.get(name),
  };
  tracersOf.set(policy, tracer);
  throttles.set(policy, tables.throttle);
  return Object.freeze(policy);
}
