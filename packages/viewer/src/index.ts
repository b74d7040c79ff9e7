/**
 * `@pp-embed/viewer`: `<pp-viewer>` and `runproteinpaint()`. Importing the package registers the elements.
 *
 * @example
 * import { runproteinpaint } from '@pp-embed/viewer';
 * runproteinpaint({
 *   host: 'https://viz.example.org',
 *   holder: document.querySelector('#viz')!,
 *   mass: { state: { dslabel: 'TermdbTest', genome: 'hg38' } },
 *   getDatasetAccessToken: () => session.token,
 * });
 * @module
 */
import { defineElements } from './define.js';

export { PpViewer } from './components/pp-viewer/pp-viewer.js';
export { PpBarchart } from './components/pp-barchart/pp-barchart.js';
export { PpSummary } from './components/pp-summary/pp-summary.js';
export { PpSurvival } from './components/pp-survival/pp-survival.js';
export { PpTermSearch, type FindTerms } from './components/pp-term-search/pp-term-search.js';
export type { NumericView } from './components/pp-viewer/pp-viewer.js';
export {
  PpTermTree,
  type LoadChildren,
  type PpTermSelectDetail,
} from './components/pp-term-tree/pp-term-tree.js';
export { PpSampleTable, type PpPageRequestDetail } from './components/pp-sample-table/pp-sample-table.js';
export { runproteinpaint, type ProteinPaintHandle, type RunProteinPaintOptions } from './run.js';
export { defineElements } from './define.js';
export {
  VizClient,
  normaliseHost,
  type ChartRequest,
  type TokenCallback,
  type VizClientOptions,
} from './client/client.js';
export {
  PpRequestError,
  isAuthCode,
  isDeveloperCode,
  type AuthErrorCode,
  type ClientErrorCode,
  type PpErrorCode,
  type ServerErrorCode,
} from './client/errors.js';
export { messageFor, type MessageContext } from './messages.js';
/** Codes of developer warnings, e.g. `PP_HOST_MISSING`. @example const code: WarningCode = 'PP_HOST_MISSING'; */
export type { WarningCode } from './warnings.js';
/** Event details and typed events. @example el.addEventListener('pp-error', (e: PpErrorEvent) => e.detail.code); */
export type {
  PpAuthRequiredDetail,
  PpAuthRequiredEvent,
  PpErrorDetail,
  PpErrorEvent,
  PpReadyDetail,
  PpReadyEvent,
  PpViewerEventMap,
} from './events.js';
/** The server's response shapes (`docs/http-api.md`). @example const bars: Bar[] = chart.bars; */
export type {
  Bar,
  BarchartPanel,
  BarchartResult,
  BarRow,
  Category,
  Filter,
  FilterClause,
  NumericStats,
  RouteName,
  SampleRow,
  SamplesResult,
  SummaryGroup,
  SummaryResult,
  SurvivalCurve,
  SurvivalResult,
  SurvivalSeries,
  Term,
  TermMatch,
  TermSearchResult,
  TermType,
  TermdbConfig,
} from './types.js';

defineElements();
