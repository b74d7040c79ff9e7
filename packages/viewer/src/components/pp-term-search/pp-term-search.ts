import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { isAbortError, type PpRequestError } from '../../client/errors.js';
import type { TermMatch, TermSearchResult } from '../../types.js';
import { renderLoading } from '../message.js';
import { tokens } from '../shared-styles.js';

/**
 * Finds terms, e.g. `(q, signal) => client.search(q, signal)`.
 *
 * @example
 * search.find = (q, signal) => client.search(q, signal);
 */
export type FindTerms = (query: string, signal: AbortSignal) => Promise<TermSearchResult>;

/** Typing pauses this long before a search is sent. */
const DEBOUNCE_MS = 180;

/**
 * A search box for terms, as a WAI-ARIA combobox: results list below it with each term's place in the tree,
 * arrow keys to move, Enter to choose, Escape to clear. Terms that `allow` refuses are shown but disabled.
 * Choosing a term fires `pp-term-select` (not composed), as the tree does.
 *
 * @example
 * const search = document.createElement('pp-term-search');
 * search.find = (q, signal) => client.search(q, signal);
 * search.addEventListener('pp-term-select', (e) => show(e.detail.term.id));
 *
 * @fires pp-term-select - The user chose a term; detail `{ term }`.
 */
export class PpTermSearch extends LitElement {
  static override styles = [
    tokens,
    css`
      :host {
        display: block;
        position: relative;
      }
      input {
        box-sizing: border-box;
        inline-size: 100%;
        padding: 0.45em 0.7em;
        border: 1px solid var(--_border);
        border-radius: 6px;
        background: var(--_background);
        color: var(--_text);
        font: inherit;
      }
      ul {
        margin: 0.35em 0 0;
        padding: 0;
        list-style: none;
      }
      li {
        padding: 0.35em 0.55em;
        border-radius: 6px;
        cursor: pointer;
      }
      li[aria-selected='true'] {
        background: var(--_accent-soft);
      }
      li[aria-disabled='true'] {
        cursor: default;
        color: var(--_muted);
      }
      .path {
        display: block;
        color: var(--_muted);
        font-size: 0.857em;
      }
      .note {
        margin: 0.4em 0.2em;
        color: var(--_muted);
        font-size: 0.857em;
      }
    `,
  ];

  static override properties = {
    find: { attribute: false },
    allow: { attribute: false },
    label: { type: String },
    describeError: { attribute: false },
    _query: { state: true },
    _result: { state: true },
    _active: { state: true },
    _error: { state: true },
  };

  declare find: FindTerms | undefined;
  /** Terms that may be chosen here; others are listed, disabled. */
  declare allow: (term: TermMatch) => boolean;
  /** Accessible name and placeholder of the box. */
  declare label: string;
  declare describeError: ((error: PpRequestError) => TemplateResult | string) | undefined;
  declare _query: string;
  declare _result: TermSearchResult | 'pending' | undefined;
  declare _active: number;
  declare _error: PpRequestError | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #controller: AbortController | undefined;

  constructor() {
    super();
    this.allow = (term) => term.supported;
    this.label = 'Search terms';
    this._query = '';
    this._active = -1;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.#timer);
    this.#controller?.abort();
  }

  /** Puts the cursor in the box. @example search.focus(); */
  override focus(): void {
    this.renderRoot.querySelector('input')?.focus();
  }

  #onInput = (event: Event): void => {
    this._query = (event.target as HTMLInputElement).value;
    clearTimeout(this.#timer);
    this.#controller?.abort();
    this._active = -1;
    this._error = undefined;
    const query = this._query.trim();
    if (query === '' || !this.find) {
      this._result = undefined;
      return;
    }
    this._result = 'pending';
    this.#timer = setTimeout(() => {
      const controller = new AbortController();
      this.#controller = controller;
      this.find?.(query, controller.signal).then(
        (result) => {
          if (this.#controller === controller) this._result = result;
        },
        (error: unknown) => {
          if (this.#controller !== controller || isAbortError(error)) return;
          this._result = undefined;
          this._error = error as PpRequestError;
        },
      );
    }, DEBOUNCE_MS);
  };

  #choose(term: TermMatch): void {
    if (!this.allow(term)) return;
    this.dispatchEvent(new CustomEvent('pp-term-select', { detail: { term } }));
  }

  #onKeydown = (event: KeyboardEvent): void => {
    const terms = typeof this._result === 'object' ? this._result.terms : [];
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      if (terms.length === 0) return;
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      this._active = (this._active + step + terms.length) % terms.length;
    } else if (event.key === 'Enter') {
      const term = terms[this._active] ?? (terms.length === 1 ? terms[0] : undefined);
      if (term) {
        event.preventDefault();
        this.#choose(term);
      }
    } else if (event.key === 'Escape' && this._query !== '') {
      event.preventDefault();
      (event.target as HTMLInputElement).value = '';
      this.#onInput(event);
    }
  };

  protected override render(): TemplateResult {
    const result = this._result;
    const terms = typeof result === 'object' ? result.terms : [];
    const active = terms[this._active];
    return html`<input
        type="search"
        role="combobox"
        aria-label=${this.label}
        placeholder=${this.label}
        aria-expanded=${terms.length > 0 ? 'true' : 'false'}
        aria-controls="results"
        aria-autocomplete="list"
        aria-activedescendant=${active ? `result-${this._active}` : nothing}
        .value=${this._query}
        @input=${this.#onInput}
        @keydown=${this.#onKeydown}
      />
      ${result === 'pending' ? renderLoading('Searching…') : nothing}
      ${this._error ? html`<div class="note">${this.describeError?.(this._error) ?? 'Search failed.'}</div>` : nothing}
      ${
        typeof result === 'object' && terms.length === 0
          ? html`<p class="note" role="status">No terms match “${this._query.trim()}”.</p>`
          : nothing
      }
      <ul id="results" role="listbox" aria-label="Matching terms">
        ${terms.map((term, i) => {
          const allowed = this.allow(term);
          return html`<li
            id="result-${i}"
            role="option"
            aria-selected=${i === this._active ? 'true' : 'false'}
            aria-disabled=${allowed ? nothing : 'true'}
            data-id=${term.id}
            @click=${() => this.#choose(term)}
          >
            ${term.name}${
              allowed
                ? nothing
                : html` <span class="badge"
                    >${term.supported ? 'not for this choice' : 'not supported yet'}</span
                  >`
            }
            <span class="path">${term.path.map((p) => p.name).join(' › ') || 'Top level'}</span>
          </li>`;
        })}
      </ul>
      ${
        typeof result === 'object' && result.total > terms.length
          ? html`<p class="note">
              Showing ${terms.length} of ${result.total}: type more to narrow the search.
            </p>`
          : nothing
      }`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'pp-term-search': PpTermSearch;
  }
}
