/**
 * Response shapes of the visualization server: the wire contract of `@pp-embed/viz-api`, re-exported for
 * embedding pages (type-only: nothing here reaches the bundle).
 * @module
 */
export type {
  Bar,
  BarchartPanel,
  BarchartResult,
  BarRow,
  Category,
  Cohort,
  Disclosure,
  DisclosurePreset,
  DisclosureRule,
  Filter,
  FilterClause,
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
  TermType,
  Tier,
} from '@pp-embed/viz-api';

/**
 * Names of the server routes the widget calls; each error and event says which one it came from.
 *
 * @example
 * const route: RouteName = 'samples';
 */
export type { RouteId as RouteName } from '@pp-embed/viz-api';
