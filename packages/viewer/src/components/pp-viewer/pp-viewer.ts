import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { normaliseHost, VizClient, type TokenCallback } from '../../client/client.js';
import { PpRequestError, isAuthCode, isDeveloperCode } from '../../client/errors.js';
import type { PpAuthRequiredDetail, PpErrorDetail, PpReadyDetail } from '../../events.js';
import { getDefaultHost } from '../../host.js';
import type { MessageContext } from '../../messages.js';
import type { BarchartResult, RouteName, SamplesResult, Term, TermdbConfig } from '../../types.js';
import { errorOnce, warnOnce } from '../../warnings.js';
import { Loader } from '../loader.js';
import { renderLoading, renderMessage } from '../message.js';
import '../pp-barchart/pp-barchart.js';
import '../pp-sample-table/pp-sample-table.js';
import '../pp-term-tree/pp-term-tree.js';
import { tokens } from '../shared-styles.js';
import { viewerStyles } from './pp-viewer.styles.js';
import { LIMITS, ROUTES, TOKEN_INVALID_REASONS } from '@pp-embed/viz-api';

// Term-level refusals make the sample table pointless; the chart card already says why.
const TERM_CODES = new Set(['term_not_supported', 'term_not_found', 'bad_request']);

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
    pageSize: { type: Number, attribute: 'page-size' },
    getDatasetAccessToken: { attribute: false },
    _page: { state: true },
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
  /** Rows per page of the sample table (1 to the server's `LIMITS.maxPageSize`, 500). */
  declare pageSize: number;
  /** Returns the user's token, or nothing when signed out. Called before every request. */
  declare getDatasetAccessToken: TokenCallback | undefined;
  declare _page: number;
  /** The dataset-password form: idle, sending, or refused with a code. */
  declare _password: { status: 'idle' | 'pending' } | { status: 'error'; error: PpRequestError };

  #client: VizClient | undefined;
  #base: string | undefined;
  // Last code reported per route, so a repeated refusal (say, every term click while signed out) is
  // reported once rather than on every request.
  #reported = new Map<RouteName, string>();
  #termNames = new Map<string, string>();
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
  #chart = new Loader<BarchartResult>(this, 'barchart', {
    onComplete: (chart) => {
      this.#reported.delete('barchart');
      this.#termNames.set(chart.term.id, chart.term.name);
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
    if (changed.has('term') && changed.get('term') !== undefined) this._page = 1;
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
    for (const term of terms) this.#termNames.set(term.id, term.name);
    // A term given by id (attribute or handle) gets its name in the heading once the tree shows it.
    if (terms.some((term) => term.id === this.term)) this.requestUpdate();
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
  }

  #loadTerm(configKey: string, client: VizClient, speculative: boolean): void {
    const term = this.term?.trim();
    if (!term) {
      this.#chart.reset();
      this.#samples.reset();
      return;
    }
    // The header key is part of the key: an answer obtained under a guessed key is not reused under another.
    const termKey = `${configKey}\n${client.headerKey}\n${term}`;
    this.#chart.ensure(termKey, (signal) => client.barchart(term, signal), { speculative });
    const size = Math.round(this.pageSize);
    const paging = {
      page: Math.max(1, Math.floor(this._page) || 1),
      pageSize: Number.isFinite(size)
        ? Math.min(LIMITS.maxPageSize, Math.max(1, size))
        : LIMITS.defaultPageSize,
    };
    this.#samples.ensure(
      `${termKey}\n${paging.page}\n${paging.pageSize}`,
      (signal) => client.samples(term, paging, signal),
      { speculative },
    );
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
    this.#termNames.set(term.id, term.name);
    if (term.id !== this.term) {
      this.term = term.id;
      this._page = 1;
    }
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
    const restricted = this.#chart.value?.cohorts;
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
      <div class="main">${this.#renderChartCard(config)} ${this.#renderSamplesCard()}</div>
    </div>`;
  }

  #termTitle(): string {
    const term = this.term?.trim() ?? '';
    const chart = this.#chart.value;
    if (chart && chart.term.id === term) return chart.term.name;
    return this.#termNames.get(term) ?? term;
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
    let content: TemplateResult;
    if (state.status === 'pending') content = renderLoading('Loading chart…');
    else if (state.status === 'error') content = this.#renderFailure(state.error, 'barchart');
    else {
      content = html`<pp-barchart
        part="chart"
        exportparts="legend, svg, readout"
        .data=${state.value}
        .minSampleSize=${config.minSampleSize}
      ></pp-barchart>`;
    }
    return html`<section class="card" aria-labelledby="chart-title" aria-busy=${state.status === 'pending'}>
      <h3 class="card-title" id="chart-title">${this.#termTitle()}</h3>
      ${content}
    </section>`;
  }

  #renderSamplesCard(): TemplateResult | typeof nothing {
    const chart = this.#chart.state;
    if (chart.status === 'idle' || (chart.status === 'error' && TERM_CODES.has(chart.error.code)))
      return nothing;
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
      <h3 class="card-title" id="samples-title">Samples</h3>
      ${content}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'pp-viewer': PpViewer;
  }
}
