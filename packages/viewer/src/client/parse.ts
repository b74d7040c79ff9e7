import {
  DEFAULT_HEADER_KEY,
  isTokenInvalidReason,
  type LoginResult,
  ROUTE_IDS,
  type RouteId,
  type TokenInvalidReason,
} from '@pp-embed/viz-api';
import type { Bar, BarchartResult, SampleRow, SamplesResult, Term, TermdbConfig } from '../types.js';

/*
 * The server is a separate deployment that may be older or newer than this widget. Responses are checked
 * for the fields the widget reads, so that a surprising body becomes an `unexpected_response` state
 * instead of an exception deep inside rendering.
 */

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseTerm(value: unknown): Term | undefined {
  if (!isObject(value) || typeof value.id !== 'string' || typeof value.name !== 'string') return undefined;
  return {
    id: value.id,
    name: value.name,
    type: typeof value.type === 'string' ? value.type : null,
    isleaf: value.isleaf === true,
    // A server that does not say is trusted to chart leaves; a refusal comes back as term_not_supported.
    supported: value.supported !== false,
  };
}

function parseTerms(value: unknown): Term[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const terms: Term[] = [];
  for (const item of value) {
    const term = parseTerm(item);
    if (!term) return undefined;
    terms.push(term);
  }
  return terms;
}

function parseBar(value: unknown): Bar | undefined {
  if (!isObject(value) || typeof value.key !== 'string') return undefined;
  const count = typeof value.count === 'number' && Number.isFinite(value.count) ? value.count : null;
  const suppressed = value.suppressed === true || count === null;
  return {
    key: value.key,
    label: typeof value.label === 'string' ? value.label : value.key,
    count: suppressed ? null : count,
    suppressed,
  };
}

function finiteOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * Reads a `/termdb/config` body; `undefined` when it lacks what the widget needs.
 *
 * @example
 * const config = parseConfig(await response.json());
 */
export function parseConfig(body: unknown): TermdbConfig | undefined {
  if (!isObject(body) || typeof body.dslabel !== 'string') return undefined;
  const auth = isObject(body.auth) ? body.auth : {};
  const headerKey = typeof auth.headerKey === 'string' && auth.headerKey ? auth.headerKey : undefined;
  const routeFlags = (value: unknown): Partial<Record<RouteId, boolean>> => {
    const flags: Partial<Record<RouteId, boolean>> = {};
    if (isObject(value)) {
      for (const [route, flag] of Object.entries(value)) {
        if ((ROUTE_IDS as readonly string[]).includes(route)) flags[route as RouteId] = flag === true;
      }
    }
    return flags;
  };
  const rootTerms = body.rootTerms == null ? null : parseTerms(body.rootTerms);
  if (rootTerms === undefined) return undefined;
  return {
    dslabel: body.dslabel,
    genome: typeof body.genome === 'string' ? body.genome : '',
    auth: {
      headerKey: headerKey ?? DEFAULT_HEADER_KEY,
      tokenRequired: routeFlags(auth.tokenRequired),
      // An older server says nothing of passwords: none is asked for.
      passwordRequired: routeFlags(auth.passwordRequired),
    },
    minSampleSize: finiteOrNull(body.minSampleSize),
    rootTerms,
    cohorts: Array.isArray(body.cohorts)
      ? body.cohorts.filter(isObject).map((c) => ({ id: String(c.id), name: String(c.name ?? c.id) }))
      : null,
  };
}

/**
 * Reads a `/termdb/terms` body.
 *
 * @example
 * const children = parseTermList(await response.json());
 */
export function parseTermList(body: unknown): Term[] | undefined {
  return isObject(body) ? parseTerms(body.terms) : undefined;
}

/**
 * Reads a `/termdb/barchart` body.
 *
 * @example
 * const chart = parseBarchart(await response.json());
 */
export function parseBarchart(body: unknown): BarchartResult | undefined {
  if (!isObject(body) || !Array.isArray(body.bars)) return undefined;
  const term = parseTerm(body.term);
  if (!term) return undefined;
  const bars: Bar[] = [];
  for (const item of body.bars) {
    const bar = parseBar(item);
    if (!bar) return undefined;
    bars.push(bar);
  }
  return {
    term,
    bars,
    total: bars.some((bar) => bar.suppressed) ? null : finiteOrNull(body.total),
    cohorts: Array.isArray(body.cohorts) ? body.cohorts.map(String) : null,
  };
}

/**
 * Reads a `/termdb/samples` body.
 *
 * @example
 * const page = parseSamples(await response.json());
 */
export function parseSamples(body: unknown): SamplesResult | undefined {
  if (!isObject(body) || !Array.isArray(body.rows)) return undefined;
  const term = parseTerm(body.term);
  if (!term) return undefined;
  const rows: SampleRow[] = [];
  for (const row of body.rows) {
    if (!isObject(row) || (typeof row.sample !== 'string' && typeof row.sample !== 'number'))
      return undefined;
    const value = typeof row.value === 'number' ? row.value : String(row.value ?? '');
    rows.push({ sample: String(row.sample), value });
  }
  const page = finiteOrNull(body.page) ?? 1;
  const pageSize = finiteOrNull(body.pageSize) ?? rows.length;
  const total = finiteOrNull(body.total) ?? rows.length;
  return { term, rows, page, pageSize, total };
}

/**
 * The error code of a refusal body `{"error":{"code":"..."}}`, if it has a plausible one.
 *
 * @example
 * errorCode({ error: { code: 'token_expired', message: '...' } }); // 'token_expired'
 */
export function errorCode(body: unknown): string | undefined {
  if (!isObject(body) || !isObject(body.error)) return undefined;
  const code = body.error.code;
  // Codes are identifiers; anything else is not passed on to the page's event listeners.
  return typeof code === 'string' && /^[a-z][a-z0-9_]{0,63}$/.test(code) ? code : undefined;
}

/**
 * The `reason` of a `token_invalid` body, when it is one of the wire contract's.
 *
 * @example
 * errorReason({ error: { code: 'token_invalid', message: '...', reason: 'signature' } }); // 'signature'
 */
export function errorReason(body: unknown): TokenInvalidReason | undefined {
  if (!isObject(body) || !isObject(body.error)) return undefined;
  return isTokenInvalidReason(body.error.reason) ? body.error.reason : undefined;
}

/**
 * Reads a `POST /termdb/login` body; `undefined` when it lacks what the widget needs.
 *
 * @example
 * const issued = parseLogin(await response.json());
 */
export function parseLogin(body: unknown): LoginResult | undefined {
  if (!isObject(body) || typeof body.token !== 'string' || body.token === '') return undefined;
  const expiresIn = finiteOrNull(body.expiresIn);
  return {
    token: body.token,
    headerKey: typeof body.headerKey === 'string' && body.headerKey ? body.headerKey : DEFAULT_HEADER_KEY,
    expiresIn: expiresIn !== null && expiresIn > 0 ? expiresIn : 0,
  };
}
