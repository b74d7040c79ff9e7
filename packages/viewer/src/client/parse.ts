import {
  DEFAULT_HEADER_KEY,
  type Disclosure,
  type DisclosureRule,
  type Filter,
  isDisclosurePreset,
  isTokenInvalidReason,
  type LoginResult,
  parseFilter,
  ROUTE_IDS,
  type RouteId,
  TIERS,
  type TokenInvalidReason,
} from '@pp-embed/viz-api';
import type {
  Bar,
  BarchartPanel,
  BarchartResult,
  BarRow,
  Category,
  NumericStats,
  SampleRow,
  SamplesResult,
  SummaryGroup,
  SummaryResult,
  SurvivalCurve,
  SurvivalResult,
  SurvivalSeries,
  Term,
  TermdbConfig,
  TermMatch,
  TermSearchResult,
} from '../types.js';

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

function parseCategory(value: unknown): Category | undefined {
  if (!isObject(value) || typeof value.key !== 'string') return undefined;
  return { key: value.key, label: typeof value.label === 'string' ? value.label : value.key };
}

function parseRule(value: unknown): DisclosureRule | null {
  if (!isObject(value)) return null;
  const whole = (x: unknown, min: number) =>
    typeof x === 'number' && Number.isInteger(x) && x >= min ? x : undefined;
  const threshold = whole(value.threshold, 1);
  if (threshold === undefined) return null;
  return {
    threshold,
    hiddenAs: typeof value.hiddenAs === 'string' && value.hiddenAs !== '' ? value.hiddenAs : `<${threshold}`,
    rounding: whole(value.rounding, 1) ?? 1,
    noise: whole(value.noise, 0) ?? 0,
    complementary: value.complementary !== false,
    preset: isDisclosurePreset(value.preset) ? value.preset : null,
  };
}

/**
 * How the counts of an answer were shown. A server that does not say (an older one) is read as giving the
 * threshold of `minSampleSize`, if it gives one.
 */
function parseDisclosure(value: unknown, minSampleSize?: number | null): Disclosure {
  const tier =
    isObject(value) && (TIERS as readonly unknown[]).includes(value.tier)
      ? (value.tier as Disclosure['tier'])
      : 'anonymous';
  if (isObject(value)) return { tier, rule: parseRule(value.rule) };
  return {
    tier,
    rule:
      typeof minSampleSize === 'number' && minSampleSize > 1 ? parseRule({ threshold: minSampleSize }) : null,
  };
}

function parseBar(value: unknown): Bar | undefined {
  const category = parseCategory(value);
  if (!category || !isObject(value)) return undefined;
  const count = finiteOrNull(value.count);
  // A null count is small (suppressed) unless the server says it is only withheld.
  return {
    ...category,
    count,
    suppressed: value.suppressed === true || (count === null && value.suppressed !== false),
  };
}

function finiteOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Every item parsed, or undefined if any is not what the widget reads. */
function listOf<T>(value: unknown, parse: (item: unknown) => T | undefined): T[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: T[] = [];
  for (const item of value) {
    const parsed = parse(item);
    if (parsed === undefined) return undefined;
    out.push(parsed);
  }
  return out;
}

const numbers = (value: unknown) =>
  listOf(value, (x) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined));
const counts = (value: unknown) =>
  listOf(value, (x) => (x === null ? null : typeof x === 'number' ? x : undefined));
const keyOf = (value: unknown) => (typeof value === 'string' ? value : null);
const termOrNull = (value: unknown) => (value == null ? null : (parseTerm(value) ?? null));
const cohortsOf = (value: unknown) => (Array.isArray(value) ? value.map(String) : null);

function filterOf(value: unknown): Filter {
  if (!Array.isArray(value)) return [];
  const read = parseFilter(JSON.stringify(value));
  return read.ok ? read.filter : [];
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
    disclosure: parseDisclosure(body.disclosure, finiteOrNull(body.minSampleSize)),
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
  if (!isObject(body)) return undefined;
  const term = parseTerm(body.term);
  const bars = listOf(body.bars, parseBar);
  if (!term || !bars) return undefined;
  const total = bars.some((bar) => bar.count === null) ? null : finiteOrNull(body.total);
  // A server from before overlays sends bars only: they are its one panel.
  const charts =
    body.charts === undefined
      ? [{ key: null, label: null, total, bars: bars.map((bar) => ({ ...bar, segments: null })) }]
      : listOf(body.charts, (panel): BarchartPanel | undefined => {
          if (!isObject(panel)) return undefined;
          const rows = listOf(panel.bars, (row): BarRow | undefined => {
            const bar = parseBar(row);
            if (!bar || !isObject(row)) return undefined;
            const segments = row.segments == null ? null : listOf(row.segments, parseBar);
            return segments === undefined ? undefined : { ...bar, segments };
          });
          return (
            rows && {
              key: keyOf(panel.key),
              label: keyOf(panel.label),
              total: finiteOrNull(panel.total),
              bars: rows,
            }
          );
        });
  const series = body.series == null ? null : listOf(body.series, parseCategory);
  if (!charts || series === undefined) return undefined;
  return {
    term,
    bars,
    total,
    cohorts: cohortsOf(body.cohorts),
    term2: termOrNull(body.term2),
    term0: termOrNull(body.term0),
    series,
    charts,
    filter: filterOf(body.filter),
    disclosure: parseDisclosure(body.disclosure),
  };
}

function parseStats(value: unknown): NumericStats | null | undefined {
  if (value === null) return null;
  if (!isObject(value)) return undefined;
  const n = (key: string) => finiteOrNull(value[key]);
  const [mean, q1, median, q3, whiskerLow, whiskerHigh] = [
    'mean',
    'q1',
    'median',
    'q3',
    'whiskerLow',
    'whiskerHigh',
  ].map(n);
  if (mean == null || q1 == null || median == null || q3 == null || whiskerLow == null || whiskerHigh == null)
    return undefined;
  return { mean, sd: n('sd'), min: n('min'), max: n('max'), q1, median, q3, whiskerLow, whiskerHigh };
}

/**
 * Reads a `/termdb/summary` body.
 *
 * @example
 * const summary = parseSummary(await response.json());
 */
export function parseSummary(body: unknown): SummaryResult | undefined {
  if (!isObject(body)) return undefined;
  const term = parseTerm(body.term);
  const groups = listOf(body.groups, (group): SummaryGroup | undefined => {
    if (!isObject(group)) return undefined;
    const stats = parseStats(group.stats);
    const density = group.density == null ? null : counts(group.density);
    if (stats === undefined || density === undefined) return undefined;
    return {
      key: keyOf(group.key),
      label: keyOf(group.label),
      n: finiteOrNull(group.n),
      suppressed: group.suppressed === true,
      stats,
      density,
    };
  });
  const d = isObject(body.density) ? body.density : null;
  const density =
    d && [d.start, d.stop, d.bins].every((x) => typeof x === 'number' && Number.isFinite(x))
      ? { start: d.start as number, stop: d.stop as number, bins: d.bins as number }
      : null;
  if (!term || !groups) return undefined;
  return {
    term,
    term2: termOrNull(body.term2),
    groups,
    density,
    cohorts: cohortsOf(body.cohorts),
    filter: filterOf(body.filter),
    disclosure: parseDisclosure(body.disclosure),
  };
}

/**
 * Reads a `/termdb/survival` body.
 *
 * @example
 * const survival = parseSurvival(await response.json());
 */
export function parseSurvival(body: unknown): SurvivalResult | undefined {
  if (!isObject(body)) return undefined;
  const term = parseTerm(body.term);
  const atRiskTimes = numbers(body.atRiskTimes);
  const series = listOf(body.series, (item): SurvivalSeries | undefined => {
    if (!isObject(item)) return undefined;
    const atRisk = counts(item.atRisk);
    let curve: SurvivalCurve | null = null;
    if (isObject(item.curve)) {
      const c = item.curve;
      const columns = ['time', 'survival', 'lower', 'upper', 'atRisk', 'events', 'censored'].map((k) =>
        numbers(c[k]),
      );
      if (columns.some((col) => col === undefined || col.length !== columns[0]?.length)) return undefined;
      const [time, survival, lower, upper, risk, events, censored] = columns as number[][];
      curve = {
        time: time!,
        survival: survival!,
        lower: lower!,
        upper: upper!,
        atRisk: risk!,
        events: events!,
        censored: censored!,
      };
    }
    if (!atRisk) return undefined;
    return {
      key: keyOf(item.key),
      label: keyOf(item.label),
      n: finiteOrNull(item.n),
      events: finiteOrNull(item.events),
      suppressed: item.suppressed === true,
      curve,
      truncatedAt: finiteOrNull(item.truncatedAt),
      atRisk,
      sampled: item.sampled === true,
    };
  });
  if (!term || !series || !atRiskTimes) return undefined;
  const lr = isObject(body.logRank) ? body.logRank : null;
  const logRank =
    lr && [lr.chi2, lr.df, lr.p].every((x) => typeof x === 'number')
      ? { chi2: lr.chi2 as number, df: lr.df as number, p: lr.p as number }
      : null;
  return {
    term,
    term2: termOrNull(body.term2),
    unit: typeof body.unit === 'string' ? body.unit : null,
    series,
    atRiskTimes,
    logRank,
    cohorts: cohortsOf(body.cohorts),
    filter: filterOf(body.filter),
    disclosure: parseDisclosure(body.disclosure),
  };
}

/**
 * Reads a `/termdb/search` body.
 *
 * @example
 * const found = parseSearch(await response.json());
 */
export function parseSearch(body: unknown): TermSearchResult | undefined {
  if (!isObject(body)) return undefined;
  const terms = listOf(body.terms, (item): TermMatch | undefined => {
    const term = parseTerm(item);
    const path = isObject(item)
      ? listOf(item.path, (p) => (isObject(p) ? parseTerm({ ...p, type: null }) : undefined))
      : undefined;
    return term && path ? { ...term, path: path.map(({ id, name }) => ({ id, name })) } : undefined;
  });
  return terms && { terms, total: finiteOrNull(body.total) ?? terms.length };
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
  return { term, rows, page, pageSize, total, filter: filterOf(body.filter) };
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
