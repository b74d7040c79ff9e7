import { type Filter, parseFilter } from './filter.js';
import { RESPONSE_FORMATS } from './formats.js';
import { DATASET_LABEL, LIMITS } from './limits.js';
import type {
  BarchartResult,
  LoginResult,
  SamplesResult,
  SummaryResult,
  SurvivalResult,
  TermdbConfig,
  TermList,
  TermSearchResult,
} from './types.js';

/**
 * What a route returns, which decides how a credential protects it:
 * - `discovery`: dataset metadata a widget needs before anything else (which header, which routes need a
 *   token). It answers every origin the policy lets through, even without a token; the parts that need one
 *   are left out.
 * - `aggregated`: counts and the term tree. A `termdb` credential leaves them open.
 * - `sample-level`: one row per sample. A `termdb` credential protects them.
 * - `login`: the dataset-password exchange. It is guarded by nothing itself: the password it carries is
 *   checked against the `basic` entry that guards the route it names.
 *
 * @example
 * const cls: RouteClass = ROUTES.samples.class; // 'sample-level'
 */
export type RouteClass = 'discovery' | 'aggregated' | 'sample-level' | 'login';

/**
 * The route classes a grant can name: a token's `routeClasses` claim and a personal API token's scope restrict
 * access to these. Discovery answers are never restricted, and the login route is no data.
 *
 * @example
 * const aggregatedOnly: readonly GrantedRouteClass[] = ['aggregated'];
 */
export type GrantedRouteClass = Extract<RouteClass, 'aggregated' | 'sample-level'>;

/** Every {@link GrantedRouteClass}, narrowest first. @example GRANTED_ROUTE_CLASSES; // ['aggregated', 'sample-level'] */
export const GRANTED_ROUTE_CLASSES: readonly GrantedRouteClass[] = Object.freeze([
  'aggregated',
  'sample-level',
]);

/**
 * One query parameter. Every parameter is given at most once; an empty value counts as absent.
 * - `label`: a dataset label ({@link DATASET_LABEL}).
 * - `text`: up to {@link LIMITS.maxParamLength} characters.
 * - `integer`: a whole number from `min` to `max`; `default` when absent.
 * - `choice`: one of `values`, compared exactly; undefined when absent.
 * - `filter`: a {@link Filter} as JSON, up to {@link LIMITS.maxFilterLength} characters; `[]` when absent.
 *
 * @example
 * const page: ParamSpec = { kind: 'integer', required: false, min: 1, max: 1_000_000, default: 1 };
 */
export type ParamSpec =
  | { readonly kind: 'label' | 'text'; readonly required: boolean }
  | { readonly kind: 'choice'; readonly required: false; readonly values: readonly string[] }
  | { readonly kind: 'filter'; readonly required: false }
  | {
      readonly kind: 'integer';
      readonly required: false;
      readonly min: number;
      readonly max: number;
      readonly default: number;
    };

/**
 * One dataset route: its name as `dsCredentials` route keys write it, its URL path, its class and its
 * parameters. Routes answer GET and HEAD ({@link ROUTE_METHODS}) unless they name another `method`.
 *
 * @example
 * const spec: RouteSpec = ROUTES.barchart;
 */
export interface RouteSpec {
  readonly name: string;
  readonly path: string;
  readonly class: RouteClass;
  readonly params: Readonly<Record<string, ParamSpec>>;
  /** `POST` for a route that takes a JSON body; absent for GET and HEAD. */
  readonly method?: 'POST';
}

const dslabel = { kind: 'label', required: true } as const;
const term = { kind: 'text', required: true } as const;
// JSON (the default), or a table: see negotiateFormat, which also reads the Accept header when this is absent.
const format = { kind: 'choice', required: false, values: RESPONSE_FORMATS } as const;
const optionalTerm = { kind: 'text', required: false } as const;
const filter = { kind: 'filter', required: false } as const;

/**
 * Every dataset route of the visualization server. The server mounts exactly these, behind the access
 * decision; `pp-token explain` and the access policy read their classes from here; the widget calls them.
 *
 * @example
 * fetch(`${host}${ROUTES.barchart.path}?dslabel=TermdbTest&term=sex`, { headers });
 */
export const ROUTES = {
  config: { name: 'termdb/config', path: '/termdb/config', class: 'discovery', params: { dslabel } },
  terms: {
    name: 'termdb/terms',
    path: '/termdb/terms',
    class: 'aggregated',
    params: { dslabel, parent: { kind: 'text', required: false }, format },
  },
  barchart: {
    name: 'termdb/barchart',
    path: '/termdb/barchart',
    class: 'aggregated',
    params: { dslabel, term, term2: optionalTerm, term0: optionalTerm, filter, format },
  },
  login: {
    name: 'termdb/login',
    path: '/termdb/login',
    class: 'login',
    method: 'POST',
    params: { dslabel },
  },
  samples: {
    name: 'termdb/samples',
    path: '/termdb/samples',
    class: 'sample-level',
    params: {
      dslabel,
      term,
      page: { kind: 'integer', required: false, min: 1, max: LIMITS.maxPage, default: 1 },
      pageSize: {
        kind: 'integer',
        required: false,
        min: 1,
        max: LIMITS.maxPageSize,
        default: LIMITS.defaultPageSize,
      },
      filter,
      format,
    },
  },
  summary: {
    name: 'termdb/summary',
    path: '/termdb/summary',
    class: 'aggregated',
    params: { dslabel, term, term2: optionalTerm, filter, format },
  },
  survival: {
    name: 'termdb/survival',
    path: '/termdb/survival',
    class: 'aggregated',
    params: { dslabel, term, term2: optionalTerm, filter, format },
  },
  search: {
    name: 'termdb/search',
    path: '/termdb/search',
    class: 'aggregated',
    params: { dslabel, q: { kind: 'text', required: true }, format },
  },
  // The sample table of a term as CSV, every row at once: sample-level, like the table itself.
  export: {
    name: 'termdb/export',
    path: '/termdb/export',
    class: 'sample-level',
    params: { dslabel, term, filter },
  },
} as const satisfies Record<string, RouteSpec>;

/** A route's id: `config`, `terms`, `barchart`, `login`, `samples`, …. @example const id: RouteId = 'samples'; */
export type RouteId = keyof typeof ROUTES;

/** Every route id, in table order. @example for (const id of ROUTE_IDS) mount(ROUTES[id]); */
export const ROUTE_IDS = Object.keys(ROUTES) as readonly RouteId[];

/** The routes that answer GET with data, behind the access decision: every route but the login. */
export type DataRouteId = Exclude<RouteId, 'login'>;

/** Every {@link DataRouteId}, in table order. @example for (const id of DATA_ROUTE_IDS) app.get(ROUTES[id].path, …); */
export const DATA_ROUTE_IDS = ROUTE_IDS.filter((id): id is DataRouteId => id !== 'login');

/** The methods every dataset route answers. @example c.header('Allow', ROUTE_METHODS.join(', ')); */
export const ROUTE_METHODS = ['GET', 'HEAD'] as const;

/**
 * The body each route answers with on success. The server's handlers are typed by it, and the widget's readers.
 *
 * @example
 * type Chart = RouteResponse<'barchart'>; // BarchartResult
 */
export interface RouteResponses {
  config: TermdbConfig;
  terms: TermList;
  barchart: BarchartResult;
  login: LoginResult;
  samples: SamplesResult;
  summary: SummaryResult;
  survival: SurvivalResult;
  search: TermSearchResult;
  /** `text/csv`: a header line (`sample`, then the term's name), then one line per sample. */
  export: string;
}

/** @example type Chart = RouteResponse<'barchart'>; */
export type RouteResponse<R extends RouteId> = RouteResponses[R];

type ParamValue<P> = P extends { kind: 'integer' }
  ? number
  : P extends { kind: 'choice'; values: readonly (infer V)[] }
    ? V | undefined
    : P extends { kind: 'filter' }
      ? Filter
      : P extends { required: true }
        ? string
        : string | undefined;

/**
 * The parameters of a route after {@link readParams}: required text as `string`, optional text as
 * `string | undefined`, integers as `number` (their default when absent), a choice as one of its values or
 * `undefined`, a filter as a {@link Filter}.
 *
 * @example
 * const p: RouteParams<'samples'> = { dslabel: 'TermdbTest', term: 'sex', page: 1, pageSize: 50 };
 */
export type RouteParams<R extends RouteId> = {
  -readonly [K in keyof (typeof ROUTES)[R]['params']]: ParamValue<(typeof ROUTES)[R]['params'][K]>;
};

/**
 * Why a parameter was refused: a sentence, and the code to answer with when it is not `bad_request` (a
 * malformed `filter` is `filter_invalid`).
 *
 * @example
 * const refusal: ParamProblem = { ok: false, problem: 'filter must be a JSON array of clauses.', code: 'filter_invalid' };
 */
export interface ParamProblem {
  readonly ok: false;
  readonly problem: string;
  readonly code?: 'filter_invalid';
}

/**
 * Reads one parameter by the rules of {@link ParamSpec}, or says in a sentence what is wrong.
 *
 * @example
 * readParam(new URLSearchParams('dslabel=TermdbTest'), 'dslabel', ROUTES.config.params.dslabel);
 * // { ok: true, value: 'TermdbTest' }
 */
export function readParam(
  query: URLSearchParams,
  name: string,
  spec: ParamSpec,
): { ok: true; value: string | number | Filter | undefined } | ParamProblem {
  const values = query.getAll(name);
  if (values.length > 1) return { ok: false, problem: `${name} must be given once.` };
  const value = values[0];
  if (value === undefined || value === '') {
    if (spec.required) return { ok: false, problem: `${name} is required.` };
    return {
      ok: true,
      value: spec.kind === 'integer' ? spec.default : spec.kind === 'filter' ? [] : undefined,
    };
  }
  if (spec.kind === 'filter') {
    const read = parseFilter(value);
    return read.ok
      ? { ok: true, value: read.filter }
      : { ok: false, problem: read.problem, code: 'filter_invalid' };
  }
  if (spec.kind === 'integer') {
    const n = Number(value);
    if (!/^\d{1,7}$/.test(value) || n < spec.min || n > spec.max) {
      return { ok: false, problem: `${name} must be a whole number from ${spec.min} to ${spec.max}.` };
    }
    return { ok: true, value: n };
  }
  if (spec.kind === 'choice') {
    return spec.values.includes(value)
      ? { ok: true, value }
      : { ok: false, problem: `${name} must be one of ${spec.values.join(', ')}.` };
  }
  if (spec.kind === 'label') {
    return DATASET_LABEL.test(value)
      ? { ok: true, value }
      : { ok: false, problem: `${name} must name one dataset.` };
  }
  return value.length > LIMITS.maxParamLength
    ? { ok: false, problem: `${name} is too long.` }
    : { ok: true, value };
}

/**
 * Reads a route's parameters from a query string by the rules of {@link ParamSpec}, or says in a sentence what
 * is wrong (for a 400 with `code`, `bad_request` when it has none). Parameters the route does not take are
 * ignored.
 *
 * @example
 * const read = readParams('samples', new URL(url).searchParams);
 * if (!read.ok) return refuse(read.code ?? 'bad_request', read.problem); // e.g. 'pageSize must be a whole number from 1 to 500.'
 */
export function readParams<R extends RouteId>(
  route: R,
  query: URLSearchParams,
): { ok: true; params: RouteParams<R> } | ParamProblem {
  const out: Record<string, string | number | Filter | undefined> = {};
  for (const [name, spec] of Object.entries(ROUTES[route].params) as [string, ParamSpec][]) {
    const read = readParam(query, name, spec);
    if (!read.ok) return read;
    out[name] = read.value;
  }
  return { ok: true, params: out as RouteParams<R> };
}

/**
 * The body of `POST /termdb/login` (`application/json`, at most {@link LIMITS.maxLoginBody} bytes): the dataset
 * password, and the route it is for (a route name such as `termdb/samples`; the sample-level route when absent).
 *
 * @example
 * const body: LoginRequest = { password: 'correct horse battery staple', route: 'termdb/samples' };
 */
export interface LoginRequest {
  readonly password: string;
  readonly route?: string;
}

/**
 * Reads a login body, or says in a sentence what is wrong (for a 400 `bad_request`).
 *
 * @example
 * readLoginBody({ password: 'pw' }); // { ok: true, value: { password: 'pw' } }
 */
export function readLoginBody(
  body: unknown,
): { ok: true; value: LoginRequest } | { ok: false; problem: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, problem: 'The body must be a JSON object with a password.' };
  const { password, route } = body as Record<string, unknown>;
  if (typeof password !== 'string' || password === '' || password.length > LIMITS.maxPasswordLength)
    return {
      ok: false,
      problem: `password must be a string of 1 to ${LIMITS.maxPasswordLength} characters.`,
    };
  if (route === undefined) return { ok: true, value: { password } };
  if (typeof route !== 'string' || route.length > LIMITS.maxParamLength)
    return { ok: false, problem: 'route must name one route.' };
  return { ok: true, value: { password, route } };
}
