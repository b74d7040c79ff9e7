import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { type ChartRequest, normaliseHost, VizClient, type TokenCallback } from '../../client/client.js';
import { PpRequestError, isAbortError, isAuthCode, isDeveloperCode } from '../../client/errors.js';
import type { PpAuthRequiredDetail, PpErrorDetail, PpReadyDetail } from '../../events.js';
import {
  barchartCsv,
  download,
  fileName,
  legendOf,
  pngOf,
  summaryCsv,
  survivalCsv,
  svgFile,
} from '../../export.js';
import { getDefaultHost } from '../../host.js';
import type { MessageContext } from '../../messages.js';
import type {
  BarchartResult,
  Filter,
  FilterClause,
  RouteName,
  SamplesResult,
  SummaryResult,
  SurvivalResult,
  Term,
  TermdbConfig,
  TermMatch,
} from '../../types.js';
import { errorOnce, warnOnce } from '../../warnings.js';
import { ruleNote } from '../chart-kit.js';
import { Loader } from '../loader.js';
import { renderLoading, renderMessage } from '../message.js';
import '../pp-barchart/pp-barchart.js';
import '../pp-sample-table/pp-sample-table.js';
import '../pp-summary/pp-summary.js';
import '../pp-survival/pp-survival.js';
import '../pp-term-search/pp-term-search.js';
import '../pp-term-tree/pp-term-tree.js';
import { tokens } from '../shared-styles.js';
import { viewerStyles } from './pp-viewer.styles.js';
import {
  formatFilter,
  isCategoryClause,
  LIMITS,
  parseFilter,
  ROUTES,
  TOKEN_INVALID_REASONS,
} from '@pp-embed/viz-api';

/** What the chart card shows, with the data it was drawn from. */
type Chart =
  | { kind: 'bars'; data: BarchartResult }
  | { kind: 'summary'; data: SummaryResult }
  | { kind: 'survival'; data: SurvivalResult };

/**
 * How a numeric term is drawn: bars of its bins, a box plot or a violin.
 *
 * @example
 * viewer.view = 'violin';
 */
export type NumericView = 'bars' | 'box' | 'violin';

/** The term picker that is open, if any: choosing an overlay, a divide-by term or a filter's term. */
type Picker = 'term2' | 'term0' | 'filter';

/** A filter clause being edited: the term, and for categories the choices (from a barchart of the term). */
interface FilterEdit {
  term: Term;
  categories: { key: string; label: string; count: number | null }[] | 'loading' | PpRequestError | undefined;
}

const isNumeric = (term: Term | undefined) => term?.type === 'integer' || term?.type === 'float';
/** Terms that can be overlaid, split by, divided by or filtered on. */
const groupable = (term: Term) => term.supported && (term.type === 'categorical' || isNumeric(term));

// Term-level refusals make the sample table pointless; the chart card already says why.
const TERM_CODES = new Set([
  'term_not_supported',
  'term_not_found',
  'bad_request',
  'term_wrong_type',
  'too_many_values',
  'filter_invalid',
]);

const chartIcon = html`<svg viewBox="0 0 24 24" aria-hidden="true">
  <path d="M4 20V4M4 20h16" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" />
  <rect x="7" y="11" width="3" height="7" rx="0.6" fill="currentColor" />
  <rect x="12" y="6" width="3" height="12" rx="0.6" fill="currentColor" />
  <rect x="17" y="9" width="3" height="9" rx="0.6" fill="currentColor" />
</svg>`;

/**
 * `<pp-viewer>`: a dataset's term tree, a barchart of the chosen term and, when the user may see them,
 * the samples behind it, from a ProteinPaint-compatible visualization server.
 *
 * Before every request it calls `getDatasetAccessToken` and sends the result in the header the server
 * names (`x-ds-access-token` by default). Refusals are shown as plain sentences and reported with
 * `pp-error` and, when signing in would help, `pp-auth-required`; aggregated views keep working when
 * only sample-level data is refused. After the user signs in, set a new callback or call `refresh()`.
 *
 * @example
 * <pp-viewer host="https://viz.example.org" dslabel="TermdbTest" genome="hg38" term="sex"></pp-viewer>
 * <script type="module">
 *   const viewer = document.querySelector('pp-viewer');
 *   viewer.getDatasetAccessToken = () => portal.session?.token;
 *   viewer.addEventListener('pp-auth-required', () => portal.showSignIn());
 * </script>
 *
 * @fires pp-ready - The dataset's configuration loaded; detail `{ dslabel, genome }`.
 * @fires pp-error - A request failed; detail `{ code, status, route }`.
 * @fires pp-auth-required - Signing in would help; detail `{ dslabel, route, code }`. Not fired for a token the
 *   portal mints wrongly (`token_invalid`, `token_not_yet_valid`: the console says why) nor where the dataset's
 *   own password is asked for (the widget shows a password form).
 * @csspart base - The frame around the whole widget.
 * @csspart header - The line with the dataset's name.
 * @csspart tree - The term tree.
 * @csspart chart - The barchart.
 * @csspart legend - The barchart's legend.
 * @csspart svg - The barchart's SVG.
 * @csspart readout - The line describing the highlighted bar.
 * @csspart table - The sample table.
 * @csspart pagination - The sample table's paging line.
 * @csspart message - Every sentence about a refusal or failure.
 * @csspart password - The form that asks for a dataset's password.
 * @csspart loading - Every loading line.
 */
export class PpViewer extends LitElement {
  static override styles = [tokens, viewerStyles];

  static override properties = {
    host: { type: String },
    dslabel: { type: String },
    genome: { type: String },
    term: { type: String },
    term2: { type: String },
    term0: { type: String },
    view: { type: String },
    filter: {
      // The attribute is the filter's JSON, as in the `filter` query parameter; a malformed one is no filter.
      converter: {
        fromAttribute: (value: string | null) => {
          const read = value ? parseFilter(value) : undefined;
          return read?.ok ? read.filter : [];
        },
        toAttribute: (value: Filter) => formatFilter(value) ?? null,
      },
    },
    pageSize: { type: Number, attribute: 'page-size' },
    getDatasetAccessToken: { attribute: false },
    _page: { state: true },
    _picker: { state: true },
    _editing: { state: true },
    _exportError: { state: true },
    _password: { state: true },
  };

  /** Base URL of the visualization server, e.g. `https://viz.example.org`. */
  declare host: string | undefined;
  /** The dataset label, e.g. `TermdbTest`. */
  declare dslabel: string | undefined;
  /** The reference genome shown beside the dataset, e.g. `hg38`; the server's value is used when unset. */
  declare genome: string | undefined;
  /** The id of the term to chart; the user's choice in the tree sets it. */
  declare term: string | undefined;
  /** An overlay term (bars split by its categories), or the term a summary or survival chart is split by. */
  declare term2: string | undefined;
  /** A divide-by term: one barchart per value (barcharts only). */
  declare term0: string | undefined;
  /** How a numeric term is drawn: `bars` (default), `box` or `violin`. */
  declare view: NumericView;
  /** Clauses every chart and the sample table apply (all must hold); attribute: the filter's JSON. */
  declare filter: Filter;
  /** Rows per page of the sample table (1 to the server's `LIMITS.maxPageSize`, 500). */
  declare pageSize: number;
  /** Returns the user's token, or nothing when signed out. Called before every request. */
  declare getDatasetAccessToken: TokenCallback | undefined;
  declare _page: number;
  declare _picker: Picker | undefined;
  declare _editing: FilterEdit | undefined;
  declare _exportError: PpRequestError | undefined;
  /** The dataset-password form: idle, sending, or refused with a code. */
  declare _password: { status: 'idle' | 'pending' } | { status: 'error'; error: PpRequestError };

  #client: VizClient | undefined;
  // Terms met in the tree, in search results and in answers: names for headings, types for the chart kind.
  #terms = new Map<string, Term>();
  // Category labels of filter clauses the user built, for the filter's chips.
  #filterLabels = new Map<string, Map<string, string>>();
  // Filter terms whose names were asked of the server (a filter given as an attribute names terms by id).
  #namesAsked = new Set<string>();
  #base: string | undefined;
  // Last code reported per route, so a repeated refusal (say, every term click while signed out) is
  // reported once rather than on every request.
  #reported = new Map<RouteName, string>();
  #lastSamples: SamplesResult | undefined;
  #waitingForDocument = false;

  #config = new Loader<TermdbConfig>(this, 'config', {
    onComplete: (config) => {
      if (config.rootTerms) this.#rememberNames(config.rootTerms);
      this.#ready(config);
    },
    onError: (error) => this.#report(error),
  });
  #roots = new Loader<readonly Term[]>(this, 'terms', {
    onComplete: (terms) => {
      this.#rememberNames(terms);
      this.#reported.delete('terms');
    },
    onError: (error) => this.#report(error),
  });
  #chart = new Loader<Chart>(this, 'barchart', {
    onComplete: (chart) => {
      this.#reported.delete(chart.kind === 'bars' ? 'barchart' : chart.kind);
      for (const term of [
        chart.data.term,
        chart.data.term2,
        'term0' in chart.data ? chart.data.term0 : null,
      ]) {
        if (term) this.#terms.set(term.id, term);
      }
    },
    onError: (error) => this.#report(error),
  });
  #samples = new Loader<SamplesResult>(this, 'samples', {
    onComplete: (samples) => {
      this.#reported.delete('samples');
      this.#lastSamples = samples;
    },
    onError: (error) => this.#report(error),
  });

  constructor() {
    super();
    this.pageSize = LIMITS.defaultPageSize;
    this._page = 1;
    this.view = 'bars';
    this.filter = [];
    this._password = { status: 'idle' };
  }

  /**
   * Loads again whatever may depend on the user's token: call it after the user signs in or out when the
   * callback itself stays the same function.
   *
   * @example
   * await portal.signIn();
   * document.querySelector('pp-viewer')?.refresh();
   */
  refresh(): void {
    this.#reported.clear();
    // The config is discovery and does not depend on the token, so a load in flight is kept: pages often
    // set the callback just after the tag, when the first request has already gone.
    if (this.#config.state.status === 'error') this.#config.reset();
    if (this.#roots.state.status !== 'complete') this.#roots.reset();
    this.#chart.reset();
    this.#samples.reset();
    this.requestUpdate();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Loads interrupted by a detach start again; finished ones are kept.
    if (this.hasUpdated) this.requestUpdate();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const loader of [this.#config, this.#roots, this.#chart, this.#samples]) loader.suspend();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('term') && changed.get('term') !== undefined) {
      this._page = 1;
      this._picker = undefined;
    }
    if (changed.has('filter')) this._page = 1;
    const callback: unknown = this.getDatasetAccessToken;
    if (changed.has('getDatasetAccessToken') && callback !== undefined && typeof callback !== 'function') {
      warnOnce(
        'PP_TOKEN_CALLBACK_INVALID',
        `getDatasetAccessToken must be a function that returns the token, not ${callback === null ? 'null' : `a ${typeof callback}`}; requests are sent without a token.`,
      );
    }
    if (changed.has('getDatasetAccessToken') && this.hasUpdated) this.refresh();
    try {
      this.#sync();
    } catch (error) {
      this.#config.fail('defect', error);
    }
  }

  #token: TokenCallback = (route) => {
    const callback = this.getDatasetAccessToken;
    return typeof callback === 'function' ? callback(route) : undefined;
  };

  #loadChildren = (parent: string, signal: AbortSignal): Promise<readonly Term[]> => {
    if (!this.#client) return Promise.reject(new PpRequestError('unexpected_response', 0, 'terms'));
    return this.#client.terms(parent, signal).then(this.#rememberNames, (error: unknown) => {
      if (error instanceof PpRequestError) this.#report(error);
      throw error;
    });
  };

  #rememberNames = (terms: readonly Term[]): readonly Term[] => {
    for (const term of terms) this.#terms.set(term.id, term);
    // A term given by id (attribute or handle) gets its name in the heading and chips once it is met.
    const shown = new Set([this.term, this.term2, this.term0, ...(this.filter ?? []).map((c) => c.term)]);
    if (terms.some((term) => shown.has(term.id))) this.requestUpdate();
    return terms;
  };

  #describeTreeError = (error: PpRequestError): TemplateResult => this.#renderFailure(error, error.route);

  /** Starts whatever load the current properties call for; each loader ignores inputs it already has. */
  #sync(): void {
    if (!this.isConnected) return;
    if (document.readyState === 'loading' && this.getDatasetAccessToken === undefined) {
      // A tag parsed from the page's HTML upgrades before the scripts after it have set the token callback
      // (module scripts run only just before DOMContentLoaded). Requests sent now would go without the
      // token and be sent again, so without a callback the first one waits for the document.
      if (!this.#waitingForDocument) {
        this.#waitingForDocument = true;
        document.addEventListener(
          'DOMContentLoaded',
          () => {
            this.#waitingForDocument = false;
            this.requestUpdate();
          },
          { once: true },
        );
      }
      return;
    }
    const rawHost = this.host?.trim() || getDefaultHost();
    const dslabel = this.dslabel?.trim();
    const base = normaliseHost(rawHost);
    if (!rawHost || !base || !dslabel) {
      const code = !dslabel ? 'dslabel_missing' : 'host_missing';
      if (!rawHost) {
        warnOnce('PP_HOST_MISSING', '<pp-viewer> has no host: set host="https://<visualization server>".');
      } else if (!base) {
        warnOnce(
          'PP_HOST_INVALID',
          '<pp-viewer> host must be an absolute http(s) URL, e.g. "https://viz.example.org".',
        );
      }
      if (!dslabel)
        warnOnce('PP_DSLABEL_MISSING', '<pp-viewer> has no dslabel: set dslabel="<dataset label>".');
      const key = `unusable\n${rawHost ?? ''}\n${dslabel ?? ''}`;
      if (this.#config.key !== key) {
        this.#resetData();
        this.#client = undefined;
        this.#base = base;
        this.#config.fail(key, new PpRequestError(code, 0, 'config'));
      }
      return;
    }

    const configKey = `${base}\n${dslabel}`;
    if (this.#config.key !== configKey) {
      this.#resetData();
      this.#base = base;
      this.#client = new VizClient({ host: base, dslabel, getDatasetAccessToken: this.#token });
      const client = this.#client;
      this.#config.run(configKey, (signal) => client.config(signal));
    }

    const config = this.#config.value;
    const client = this.#client;
    if (!client) return;
    if (!config) {
      // The chart waits for the config only to learn the header key, which nearly every server leaves at
      // its default: start it now with the expected key and keep the answer only if the key is confirmed.
      if (this.#config.state.status === 'pending') this.#loadTerm(configKey, client, true);
      return;
    }
    if (!config.rootTerms) {
      this.#roots.ensure(configKey, (signal) => client.terms(undefined, signal));
      // The config withheld the term list, so every route needs a token: until the list loads, a chart
      // request would only collect the same refusal again.
      if (this.#roots.state.status !== 'complete') return;
    }

    this.#loadTerm(configKey, client, false);
    this.#nameFilterTerms(client);
  }

  /** Looks up the names of filter terms not met yet, for the filter's chips (ids until they arrive). */
  #nameFilterTerms(client: VizClient): void {
    for (const { term } of this.filter ?? []) {
      if (this.#terms.has(term) || this.#namesAsked.has(term)) continue;
      this.#namesAsked.add(term);
      client.search(term, new AbortController().signal).then(
        (result) => {
          const found = result.terms.find((t) => t.id === term);
          if (found) this.#rememberNames([found]);
        },
        () => undefined,
      );
    }
  }

  #loadTerm(configKey: string, client: VizClient, speculative: boolean): void {
    const term = this.term?.trim();
    if (!term) {
      this.#chart.reset();
      this.#samples.reset();
      return;
    }
    const kind = this.#kind(term);
    const filter = this.filter ?? [];
    const request: ChartRequest = {
      term2: this.term2?.trim() || undefined,
      term0: kind === 'bars' ? this.term0?.trim() || undefined : undefined,
      filter,
    };
    // The header key is part of the key: an answer obtained under a guessed key is not reused under another.
    const termKey = `${configKey}\n${client.headerKey}\n${term}\n${formatFilter(filter) ?? ''}`;
    // Bars and survival share a key: a term first tried as a barchart and found to be a survival term keeps the
    // survival chart that answer brought.
    const chartKey = `${termKey}\n${kind === 'summary'}\n${request.term2 ?? ''}\n${request.term0 ?? ''}`;
    this.#chart.ensure(chartKey, (signal) => this.#fetchChart(client, term, kind, request, signal), {
      speculative,
    });
    if (kind === 'survival') {
      // Survival terms have no sample table (their values are times with an outcome).
      this.#samples.reset();
      return;
    }
    const size = Math.round(this.pageSize);
    const paging = {
      page: Math.max(1, Math.floor(this._page) || 1),
      pageSize: Number.isFinite(size)
        ? Math.min(LIMITS.maxPageSize, Math.max(1, size))
        : LIMITS.defaultPageSize,
    };
    this.#samples.ensure(
      `${termKey}\n${paging.page}\n${paging.pageSize}`,
      (signal) => client.samples(term, paging, signal, filter),
      { speculative },
    );
  }

  /** Which chart a term gets: by its type when known; a term not met yet is tried as a barchart. */
  #kind(term: string): Chart['kind'] {
    const known = this.#terms.get(term);
    if (known?.type === 'survival') return 'survival';
    return isNumeric(known) && (this.view === 'box' || this.view === 'violin') ? 'summary' : 'bars';
  }

  async #fetchChart(
    client: VizClient,
    term: string,
    kind: Chart['kind'],
    request: ChartRequest,
    signal: AbortSignal,
  ): Promise<Chart> {
    if (kind === 'summary') return { kind, data: await client.summary(term, signal, request) };
    if (kind === 'survival') return { kind, data: await client.survival(term, signal, request) };
    try {
      return { kind, data: await client.barchart(term, signal, request) };
    } catch (error) {
      // A term given by id before the tree showed it may be a survival term: find its type and draw that.
      if (!(error instanceof PpRequestError) || error.code !== 'term_wrong_type' || this.#terms.has(term))
        throw error;
      const found = (await client.search(term, signal)).terms.find((t) => t.id === term);
      if (found?.type !== 'survival') throw error;
      this.#terms.set(term, found);
      return {
        kind: 'survival',
        data: await client.survival(term, signal, { ...request, term0: undefined }),
      };
    }
  }

  #resetData(): void {
    this.#roots.reset();
    this.#chart.reset();
    this.#samples.reset();
    this.#lastSamples = undefined;
    this.#reported.clear();
  }

  #ready(config: TermdbConfig): void {
    this.#reported.delete('config');
    const fromPortal = (Object.keys(config.auth.tokenRequired) as RouteName[]).filter(
      (id) => config.auth.tokenRequired[id] === true && config.auth.passwordRequired[id] !== true,
    );
    if (fromPortal.length > 0 && (this.getDatasetAccessToken ?? undefined) === undefined) {
      warnOnce(
        'PP_TOKEN_CALLBACK_MISSING',
        `getDatasetAccessToken is not set, and ${config.dslabel} needs a token from this page for ${fromPortal.join(', ')}: pass it to runproteinpaint({ getDatasetAccessToken }) or set it on <pp-viewer>.`,
      );
    }
    this.#emit<PpReadyDetail>('pp-ready', {
      dslabel: config.dslabel,
      genome: config.genome || this.genome || '',
    });
  }

  #report(error: PpRequestError): void {
    if (this.#reported.get(error.route) === error.code) return;
    this.#reported.set(error.route, error.code);
    if (isDeveloperCode(error.code)) this.#tellDeveloper(error);
    this.#emit<PpErrorDetail>('pp-error', error.toDetail());
    // The portal's sign-in cannot help where the dataset's own password is asked for.
    if (isAuthCode(error.code) && !this.#needsPassword(error)) {
      this.#emit<PpAuthRequiredDetail>('pp-auth-required', {
        dslabel: this.dslabel?.trim() ?? '',
        route: error.route,
        code: error.code,
      });
    }
  }

  /**
   * A refusal only the portal's developer can fix, in the console with the server's reason: the researcher's
   * sign-in would mint the same wrong token, so no `pp-auth-required` is fired.
   */
  #tellDeveloper(error: PpRequestError): void {
    const dslabel = this.dslabel?.trim() ?? '';
    const reason =
      error.reason === undefined
        ? ''
        : ` (reason "${error.reason}": ${TOKEN_INVALID_REASONS[error.reason].meaning})`;
    const cause =
      error.code === 'token_not_yet_valid'
        ? "its nbf or iat is ahead of the server's clock: check the portal's clock"
        : 'the portal mints it with another secret or key, algorithm or claims than the server expects';
    errorOnce(
      'PP_TOKEN_REJECTED',
      `${error.code}/${error.reason ?? ''}`,
      `The visualization server at ${this.#base ?? ''} refused the token getDatasetAccessToken returned for ${dslabel} (${error.route}): ${error.code}${reason}. ` +
        `The researcher cannot fix this by signing in again: ${cause}. Ask the server why with ` +
        `\`pp-token explain --config serverconfig.json --dataset ${dslabel} --route ${ROUTES[error.route].name} --origin ${location.origin} -\` and the token on standard input.`,
    );
  }

  /** Whether the dataset's own password (rather than the portal's sign-in) is what `error` asks for. */
  #needsPassword(error: PpRequestError): boolean {
    return (
      this.#client?.needsPassword(error.route) === true &&
      (error.status === 401 || error.code === 'ip_mismatch')
    );
  }

  /** The sentence for a failed request, or the password form where the dataset's password would fix it. */
  #renderFailure(error: PpRequestError, route: RouteName): TemplateResult {
    if (!this.#needsPassword(error)) return renderMessage(error, this.#context(route));
    const dslabel = this.dslabel?.trim() || 'This dataset';
    const state = this._password;
    return html`<form
      class="password"
      part="password"
      @submit=${(e: SubmitEvent) => this.#onPassword(e, error.route)}
    >
      <label class="password-label">
        <span
          >${dslabel} is protected by a password. Enter it to see
          ${route === 'samples' ? 'its sample-level data' : 'it'}.</span
        >
        <input type="password" name="password" autocomplete="current-password" required maxlength="1024" />
      </label>
      <button type="submit" ?disabled=${state.status === 'pending'}>
        ${state.status === 'pending' ? 'Checking…' : 'Unlock'}
      </button>
      ${state.status === 'error' ? renderMessage(state.error, this.#context('login')) : nothing}
    </form>`;
  }

  #onPassword = (event: SubmitEvent, route: RouteName): void => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const input = form.elements.namedItem('password') as HTMLInputElement | null;
    const password = input?.value ?? '';
    const client = this.#client;
    if (password === '' || client === undefined || this._password.status === 'pending') return;
    this._password = { status: 'pending' };
    const controller = new AbortController();
    client.login(password, route, controller.signal).then(
      () => {
        if (input) input.value = '';
        this._password = { status: 'idle' };
        this.refresh();
      },
      (error: unknown) => {
        const failure =
          error instanceof PpRequestError ? error : new PpRequestError('network_error', 0, 'login');
        this._password = { status: 'error', error: failure };
        this.#emit<PpErrorDetail>('pp-error', failure.toDetail());
      },
    );
  };

  #emit<T>(type: string, detail: T): void {
    this.dispatchEvent(new CustomEvent<T>(type, { detail, bubbles: true, composed: true }));
  }

  #context(route: RouteName): MessageContext {
    return { dslabel: this.dslabel?.trim() ?? '', host: this.#base ?? this.host ?? '', route };
  }

  #onSelect = (event: CustomEvent<{ term: Term }>): void => {
    event.stopPropagation();
    const { term } = event.detail;
    this.#terms.set(term.id, term);
    if (term.id !== this.term) {
      this.term = term.id;
      this._page = 1;
    }
  };

  /** The user chose a term in a picker: an overlay, a divide-by term, or the term of a new filter clause. */
  #onPick = (event: CustomEvent<{ term: Term }>): void => {
    event.stopPropagation();
    const { term } = event.detail;
    this.#terms.set(term.id, term);
    const picker = this._picker;
    this._picker = undefined;
    if (picker === 'term2') this.term2 = term.id;
    else if (picker === 'term0') this.term0 = term.id;
    else if (picker === 'filter') this.#editFilter(term);
  };

  #editFilter(term: Term): void {
    const client = this.#client;
    if (term.type === 'categorical' && client) {
      const editing: FilterEdit = { term, categories: 'loading' };
      this._editing = editing;
      // The categories to choose from are those of the term's barchart, within the grant.
      const controller = new AbortController();
      client.barchart(term.id, controller.signal).then(
        (chart) => {
          if (this._editing === editing) {
            this._editing = {
              term,
              categories: chart.bars.map(({ key, label, count }) => ({ key, label, count })),
            };
          }
        },
        (error: unknown) => {
          if (this._editing === editing && !isAbortError(error)) {
            this._editing = {
              term,
              categories:
                error instanceof PpRequestError
                  ? error
                  : new PpRequestError('unexpected_response', 0, 'barchart'),
            };
          }
        },
      );
    } else {
      this._editing = { term, categories: undefined };
    }
  }

  #applyFilter = (event: SubmitEvent): void => {
    event.preventDefault();
    const editing = this._editing;
    if (!editing) return;
    const form = new FormData(event.target as HTMLFormElement);
    let clause: FilterClause | undefined;
    if (Array.isArray(editing.categories)) {
      const values = form.getAll('value').map(String);
      if (values.length > 0) clause = { term: editing.term.id, values };
      this.#filterLabels.set(editing.term.id, new Map(editing.categories.map((c) => [c.key, c.label])));
    } else {
      const bound = (name: string) => {
        const raw = String(form.get(name) ?? '').trim();
        return raw === '' || !Number.isFinite(Number(raw)) ? undefined : Number(raw);
      };
      const gte = bound('gte');
      const lt = bound('lt');
      if (gte !== undefined || lt !== undefined) {
        clause = {
          term: editing.term.id,
          ...(gte !== undefined && { gte }),
          ...(lt !== undefined && { lt }),
        };
      }
    }
    this._editing = undefined;
    if (clause) this.filter = [...(this.filter ?? []).filter((c) => c.term !== clause.term), clause];
  };

  #removeClause(index: number): void {
    this.filter = (this.filter ?? []).filter((_, i) => i !== index);
  }

  #clauseText(clause: FilterClause): string {
    const name = this.#terms.get(clause.term)?.name ?? clause.term;
    if (isCategoryClause(clause)) {
      const labels = this.#filterLabels.get(clause.term);
      return `${name}: ${clause.values.map((v) => labels?.get(v) ?? v).join(', ')}`;
    }
    const lower =
      clause.gte !== undefined ? `≥ ${clause.gte}` : clause.gt !== undefined ? `> ${clause.gt}` : '';
    const upper =
      clause.lt !== undefined ? `< ${clause.lt}` : clause.lte !== undefined ? `≤ ${clause.lte}` : '';
    return `${name}: ${[lower, upper].filter(Boolean).join(' and ')}`;
  }

  #find = (query: string, signal: AbortSignal) => {
    if (!this.#client) return Promise.reject(new PpRequestError('unexpected_response', 0, 'search'));
    return this.#client.search(query, signal).then(
      (result) => {
        this.#rememberNames(result.terms);
        return result;
      },
      (error: unknown) => {
        if (error instanceof PpRequestError) this.#report(error);
        throw error;
      },
    );
  };

  #onPage = (event: CustomEvent<{ page: number }>): void => {
    event.stopPropagation();
    this._page = event.detail.page;
  };

  protected override render(): TemplateResult {
    try {
      return this.#renderView();
    } catch {
      // A defect here must not escape into the page's microtask queue; the user gets a sentence instead.
      const error = new PpRequestError('unexpected_response', 0, 'config');
      return html`<div class="pad">${renderMessage(error, this.#context('config'))}</div>`;
    }
  }

  #renderView(): TemplateResult {
    const dslabel = this.dslabel?.trim() ?? '';
    const config = this.#config.value;
    const genome = this.genome || config?.genome;
    const restricted = this.#chart.value?.data.cohorts;
    return html`<section
      class="frame"
      part="base"
      aria-label=${dslabel ? `${dslabel} data viewer` : 'Data viewer'}
    >
      <header class="header" part="header">
        <h2 class="dataset">${dslabel || 'Dataset'}</h2>
        ${genome ? html`<span class="pill" title="Reference genome">${genome}</span>` : nothing}
        ${
          restricted?.length
            ? html`<span class="pill restricted"
                >Cohort${restricted.length > 1 ? 's' : ''}: ${restricted.join(', ')}</span
              >`
            : nothing
        }
      </header>
      ${this.#renderBody(dslabel)}
    </section>`;
  }

  #renderBody(dslabel: string): TemplateResult {
    const state = this.#config.state;
    if (state.status === 'error')
      return html`<div class="pad">${renderMessage(state.error, this.#context('config'))}</div>`;
    if (state.status !== 'complete')
      return html`<div class="pad">${renderLoading(`Loading ${dslabel || 'dataset'}…`)}</div>`;
    const config = state.value;
    let roots = config.rootTerms;
    if (!roots) {
      const rootState = this.#roots.state;
      if (rootState.status === 'error') {
        return html`<div class="pad">${this.#renderFailure(rootState.error, 'terms')}</div>`;
      }
      if (rootState.status !== 'complete')
        return html`<div class="pad">${renderLoading('Loading terms…')}</div>`;
      roots = rootState.value;
    }
    return html`<div class="layout">
      <nav class="sidebar" aria-label="Terms of ${dslabel}">
        <div class="sidebar-scroll">
          <pp-term-search
            part="search"
            label="Search terms"
            .find=${this.#find}
            .describeError=${this.#describeTreeError}
            @pp-term-select=${this.#onSelect}
          ></pp-term-search>
          <h3 class="eyebrow">Terms</h3>
          <pp-term-tree
            part="tree"
            label="Terms of ${dslabel}"
            .terms=${roots}
            .selected=${this.term}
            .loadChildren=${this.#loadChildren}
            .describeError=${this.#describeTreeError}
            @pp-term-select=${this.#onSelect}
          ></pp-term-tree>
        </div>
      </nav>
      <div class="main">
        ${this.term?.trim() ? this.#renderFilters() : nothing} ${this.#renderChartCard(config)}
        ${this.#renderSamplesCard()}
      </div>
    </div>`;
  }

  #name(id: string | undefined): string {
    const term = id?.trim() ?? '';
    return this.#terms.get(term)?.name ?? term;
  }

  /** A term picker: a search box whose choice becomes an overlay, a divide-by term or a filter's term. */
  #renderPicker(picker: Picker, label: string): TemplateResult | typeof nothing {
    if (this._picker !== picker) return nothing;
    const taken = new Set([this.term, this.term2, this.term0].map((t) => t?.trim()));
    return html`<div class="picker" part="picker">
      <pp-term-search
        label=${label}
        .find=${this.#find}
        .allow=${(t: TermMatch) => groupable(t) && (picker === 'filter' || !taken.has(t.id))}
        .describeError=${this.#describeTreeError}
        @pp-term-select=${this.#onPick}
      ></pp-term-search>
      <button type="button" class="link" @click=${() => (this._picker = undefined)}>Cancel</button>
    </div>`;
  }

  /** A chosen term as a chip that removes it, or a button that opens the picker. */
  #renderChoice(picker: 'term2' | 'term0', label: string): TemplateResult {
    const id = this[picker]?.trim();
    return id
      ? html`<span class="chip"
          >${label}: ${this.#name(id)}<button
            type="button"
            aria-label="Remove ${label.toLowerCase()} ${this.#name(id)}"
            @click=${() => (this[picker] = undefined)}
          >
            ×
          </button></span
        >`
      : html`<button
          type="button"
          class="add"
          aria-expanded=${this._picker === picker ? 'true' : 'false'}
          @click=${() => this.#open(picker)}
        >
          + ${label}
        </button>`;
  }

  #open(picker: Picker): void {
    this._editing = undefined;
    this._picker = this._picker === picker ? undefined : picker;
    if (this._picker)
      void this.updateComplete.then(() =>
        this.renderRoot.querySelector<HTMLElement>('.picker pp-term-search')?.focus(),
      );
  }

  #renderFilters(): TemplateResult {
    const filter = this.filter ?? [];
    const editing = this._editing;
    return html`<section class="filters" part="filters" aria-label="Filter">
      <span class="eyebrow">Filter</span>
      ${filter.length === 0 ? html`<span class="none">All samples</span>` : nothing}
      ${filter.map(
        (clause, i) =>
          html`<span class="chip"
            >${this.#clauseText(clause)}<button
              type="button"
              aria-label="Remove filter ${this.#clauseText(clause)}"
              @click=${() => this.#removeClause(i)}
            >
              ×
            </button></span
          >`,
      )}
      ${
        filter.length < LIMITS.maxFilterClauses
          ? html`<button
              type="button"
              class="add"
              aria-expanded=${this._picker === 'filter' ? 'true' : 'false'}
              @click=${() => this.#open('filter')}
            >
              + Add filter
            </button>`
          : nothing
      }
      ${this.#renderPicker('filter', 'Filter on a term')} ${editing ? this.#renderEditor(editing) : nothing}
    </section>`;
  }

  #renderEditor(editing: FilterEdit): TemplateResult {
    const { term, categories } = editing;
    let fields: TemplateResult;
    if (categories === 'loading') fields = renderLoading('Loading categories…');
    else if (categories instanceof PpRequestError)
      fields = renderMessage(categories, this.#context('barchart'));
    else if (categories) {
      const current = (this.filter ?? []).find((c) => c.term === term.id);
      const chosen = new Set(current && isCategoryClause(current) ? current.values : []);
      fields = html`<fieldset>
        <legend>${term.name}: samples in any of</legend>
        ${categories.map(
          (c) =>
            html`<label
              ><input type="checkbox" name="value" value=${c.key} ?checked=${chosen.has(c.key)} />
              ${c.label}</label
            >`,
        )}
      </fieldset>`;
    } else {
      fields = html`<fieldset>
        <legend>${term.name}</legend>
        <label>from (≥) <input type="number" name="gte" step="any" /></label>
        <label>to (&lt;) <input type="number" name="lt" step="any" /></label>
      </fieldset>`;
    }
    return html`<form class="editor" part="filter-editor" @submit=${this.#applyFilter}>
      ${fields}
      <div class="actions">
        <button
          type="submit"
          class="primary"
          ?disabled=${!Array.isArray(categories) && categories !== undefined}
        >
          Apply filter
        </button>
        <button type="button" class="link" @click=${() => (this._editing = undefined)}>Cancel</button>
      </div>
    </form>`;
  }

  #renderChartCard(config: TermdbConfig): TemplateResult {
    const state = this.#chart.state;
    if (state.status === 'idle') {
      return html`<section class="card">
        <div class="placeholder">
          ${chartIcon}
          <p>Choose a term to see how the samples of ${config.dslabel} are distributed.</p>
        </div>
      </section>`;
    }
    const term = this.term?.trim() ?? '';
    const kind = state.status === 'complete' ? state.value.kind : this.#kind(term);
    const numeric = isNumeric(this.#terms.get(term));
    let content: TemplateResult;
    if (state.status === 'pending') content = renderLoading('Loading chart…');
    else if (state.status === 'error') content = this.#renderFailure(state.error, state.error.route);
    else content = this.#renderChart(state.value);
    const split = kind === 'bars' ? 'Overlay' : 'Split by';
    const title = state.status === 'complete' ? state.value.data.term.name : this.#name(term);
    // A term that cannot be charted at all has nothing to overlay, split, divide or download.
    const unchartable =
      state.status === 'error' && ['term_not_supported', 'term_not_found'].includes(state.error.code);
    if (unchartable) {
      return html`<section class="card" aria-labelledby="chart-title">
        <h3 class="card-title" id="chart-title">${title}</h3>
        ${content}
      </section>`;
    }
    return html`<section class="card" aria-labelledby="chart-title" aria-busy=${state.status === 'pending'}>
      <h3 class="card-title" id="chart-title">${title}</h3>
      <div class="toolbar" part="toolbar">
        ${
          numeric
            ? html`<div class="views" role="group" aria-label="Chart">
                ${(['bars', 'box', 'violin'] as const).map(
                  (view) =>
                    html`<button
                      type="button"
                      aria-pressed=${(this.view ?? 'bars') === view ? 'true' : 'false'}
                      @click=${() => (this.view = view)}
                    >
                      ${{ bars: 'Bars', box: 'Box plot', violin: 'Violin' }[view]}
                    </button>`,
                )}
              </div>`
            : nothing
        }
        ${this.#renderChoice('term2', split)}
        ${kind === 'bars' ? this.#renderChoice('term0', 'Divide by') : nothing}
        ${
          state.status === 'complete'
            ? html`<span class="downloads" role="group" aria-label="Download the chart">
                ${(['svg', 'png', 'csv'] as const).map(
                  (format) =>
                    html`<button type="button" class="link" @click=${() => void this.#exportChart(format)}>
                      ${format.toUpperCase()}
                    </button>`,
                )}
              </span>`
            : nothing
        }
      </div>
      ${this.#renderPicker('term2', `${split}: search terms`)}
      ${this.#renderPicker('term0', 'Divide by: search terms')} ${content}
      ${state.status === 'complete' ? this.#renderRuleNote(state.value) : nothing}
    </section>`;
  }

  /** How the chart's counts are shown (hidden, withheld, rounded) and whose rule that is, in one line. */
  #renderRuleNote(chart: Chart): TemplateResult | typeof nothing {
    const note = ruleNote(chart.data.disclosure);
    return note === '' ? nothing : html`<p class="rule-note" part="rule-note">${note}</p>`;
  }

  #renderChart(chart: Chart): TemplateResult {
    if (chart.kind === 'summary') {
      return html`<pp-summary
        class="chart-view"
        part="chart"
        exportparts="svg"
        .data=${chart.data}
        .mode=${this.view === 'violin' ? 'violin' : 'box'}
      ></pp-summary>`;
    }
    if (chart.kind === 'survival') {
      return html`<pp-survival
        class="chart-view"
        part="chart"
        exportparts="svg, legend"
        .data=${chart.data}
      ></pp-survival>`;
    }
    return html`<pp-barchart
      class="chart-view"
      part="chart"
      exportparts="legend, svg, readout"
      .data=${chart.data}
    ></pp-barchart>`;
  }

  /** Downloads the chart on screen as SVG or PNG, or its numbers as CSV. */
  async #exportChart(format: 'svg' | 'png' | 'csv'): Promise<void> {
    const chart = this.#chart.value;
    if (!chart) return;
    const data = chart.data;
    const base = [
      this.dslabel?.trim() || 'dataset',
      data.term.name,
      ...(data.term2 ? ['by', data.term2.name] : []),
    ];
    if (format === 'csv') {
      const csv =
        chart.kind === 'bars'
          ? barchartCsv(chart.data)
          : chart.kind === 'summary'
            ? summaryCsv(chart.data)
            : survivalCsv(chart.data);
      download(new Blob([csv], { type: 'text/csv' }), fileName(...base, 'csv'));
      return;
    }
    const svg = this.renderRoot
      .querySelector('.chart-view')
      ?.shadowRoot?.querySelector<SVGSVGElement>('svg[part="svg"]');
    if (!svg) return;
    const title = `${data.term.name}${data.term2 ? ` by ${data.term2.name}` : ''}${'term0' in data && data.term0 ? `, per ${data.term0.name}` : ''}`;
    const file = svgFile(svg, title, legendOf(data), ruleNote(data.disclosure));
    const blob = format === 'svg' ? new Blob([file.markup], { type: 'image/svg+xml' }) : await pngOf(file);
    download(blob, fileName(...base, format));
  }

  /** Downloads every row of the sample table as CSV (sample-level: offered only once the table loaded). */
  async #exportSamples(): Promise<void> {
    const term = this.term?.trim();
    const client = this.#client;
    if (!term || !client) return;
    this._exportError = undefined;
    try {
      const csv = await client.exportSamples(term, new AbortController().signal, this.filter ?? []);
      download(csv, fileName(this.dslabel?.trim() || 'dataset', this.#name(term), 'samples', 'csv'));
    } catch (error) {
      const failure =
        error instanceof PpRequestError ? error : new PpRequestError('unexpected_response', 0, 'export');
      this._exportError = failure;
      this.#report(failure);
    }
  }

  #renderSamplesCard(): TemplateResult | typeof nothing {
    const chart = this.#chart.state;
    if (chart.status === 'idle' || (chart.status === 'error' && TERM_CODES.has(chart.error.code)))
      return nothing;
    if (chart.status === 'complete' && chart.value.kind === 'survival') return nothing;
    const state = this.#samples.state;
    let content: TemplateResult;
    const term = this.term?.trim();
    const previous = this.#lastSamples?.term.id === term ? this.#lastSamples : undefined;
    if (state.status === 'pending' || state.status === 'idle') {
      content = previous
        ? html`<pp-sample-table
            part="table"
            exportparts="pagination"
            busy
            .data=${previous}
            @pp-page-request=${this.#onPage}
          ></pp-sample-table>`
        : renderLoading('Loading samples…');
    } else if (state.status === 'error') {
      content = this.#renderFailure(state.error, 'samples');
    } else {
      content = html`<pp-sample-table
        part="table"
        exportparts="pagination"
        .data=${state.value}
        @pp-page-request=${this.#onPage}
      ></pp-sample-table>`;
    }
    return html`<section class="card" aria-labelledby="samples-title" aria-busy=${state.status === 'pending'}>
      <h3 class="card-title" id="samples-title">
        Samples${
          state.status === 'complete'
            ? html`<button type="button" class="link download" @click=${() => void this.#exportSamples()}>
                Download CSV
              </button>`
            : nothing
        }
      </h3>
      ${this._exportError ? renderMessage(this._exportError, this.#context('export')) : nothing} ${content}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'pp-viewer': PpViewer;
  }
}
