/**
 * `@pp-embed/viz-api`: the visualization server's wire contract, in one place and with no dependencies. The
 * server, the widget, the test servers, the security suite and `docs/http-api.md` all read it, so that a route or
 * an error code is added once and the compiler finds every place that must handle it.
 *
 * @example
 * import { ERROR_CODES, ROUTES, type RouteResponse } from '@pp-embed/viz-api';
 * const res = await fetch(`${host}${ROUTES.barchart.path}?dslabel=TermdbTest&term=sex`);
 * if (!res.ok) console.log(ERROR_CODES[(await res.json()).error.code].meaning);
 * else { const chart: RouteResponse<'barchart'> = await res.json(); }
 * @module
 */
export {
  codesOf,
  type CodeOf,
  ERROR_CODES,
  type ErrorBody,
  type ErrorCode,
  type ErrorCodeSpec,
  isErrorCode,
  isTokenInvalidReason,
  type LoginErrorCode,
  type RefusalCode,
  TOKEN_INVALID_REASONS,
  type TokenErrorCode,
  type TokenInvalidReason,
} from './errors.js';
export { csvField, csvRow } from './csv.js';
export {
  type Disclosure,
  DISCLOSURE_PRESET_NAMES,
  DISCLOSURE_PRESETS,
  type DisclosurePreset,
  type DisclosureRule,
  isDisclosurePreset,
  presetRule,
  shownAs,
  type Tier,
  TIERS,
} from './disclosure.js';
export {
  FORMAT_MEDIA_TYPES,
  negotiateFormat,
  RESPONSE_FORMATS,
  type ResponseFormat,
  type TableField,
  tableRow,
  type TableFormat,
  tsvField,
  tsvRow,
} from './formats.js';
export {
  ANSWER_TABLES,
  type AnswerTable,
  countField,
  hiddenAs,
  ruleField,
  type TableBodies,
  type TableRouteId,
  tableText,
} from './tables.js';
export {
  type CategoryClause,
  type Filter,
  type FilterClause,
  formatFilter,
  isCategoryClause,
  parseFilter,
  type RangeClause,
} from './filter.js';
export { DATASET_LABEL, DATASET_LABEL_RULE, DEFAULT_HEADER_KEY, LIMITS } from './limits.js';
export {
  DATA_ROUTE_IDS,
  type DataRouteId,
  type LoginRequest,
  GRANTED_ROUTE_CLASSES,
  type GrantedRouteClass,
  type ParamProblem,
  type ParamSpec,
  readLoginBody,
  readParam,
  readParams,
  type RouteClass,
  type RouteId,
  ROUTE_IDS,
  ROUTE_METHODS,
  type RouteParams,
  type RouteResponse,
  type RouteResponses,
  ROUTES,
  type RouteSpec,
} from './routes.js';
export type {
  Bar,
  BarchartPanel,
  BarchartResult,
  BarRow,
  Category,
  Cohort,
  DatasetHealth,
  Health,
  KeySetHealth,
  LoginResult,
  NumericStats,
  RevocationFeedHealth,
  EmbedderRegistryHealth,
  SampleRow,
  SamplesResult,
  SummaryGroup,
  SummaryResult,
  SurvivalCurve,
  SurvivalResult,
  SurvivalSeries,
  Term,
  TermdbConfig,
  TermList,
  TermMatch,
  TermSearchResult,
  TermType,
} from './types.js';
