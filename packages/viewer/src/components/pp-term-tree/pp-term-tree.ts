import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { PpRequestError, isAbortError } from '../../client/errors.js';
import type { Term } from '../../types.js';
import type { LoadState } from '../loader.js';
import { renderLoading } from '../message.js';
import { tokens } from '../shared-styles.js';
import { termTreeStyles } from './pp-term-tree.styles.js';

/**
 * Detail of the `pp-term-select` event that `<pp-term-tree>` fires when the user chooses a leaf term.
 *
 * @example
 * tree.addEventListener('pp-term-select', (e) => show((e as CustomEvent<PpTermSelectDetail>).detail.term.id));
 */
export interface PpTermSelectDetail {
  term: Term;
}

/**
 * Loads the children of a parent term, e.g. `(id, signal) => client.terms(id, signal)`.
 *
 * @example
 * tree.loadChildren = (id, signal) => client.terms(id, signal);
 */
export type LoadChildren = (parent: string, signal: AbortSignal) => Promise<readonly Term[]>;

interface VisibleNode {
  term: Term;
  level: number;
  parent: string | undefined;
}

const chevron = html`<svg viewBox="0 0 12 12" aria-hidden="true">
  <path
    d="M4 2.5 7.5 6 4 9.5"
    fill="none"
    stroke="currentColor"
    stroke-width="1.6"
    stroke-linecap="round"
    stroke-linejoin="round"
  />
</svg>`;

/**
 * A dataset's term tree, following the WAI-ARIA tree pattern: one tab stop, arrow keys to move, Right and
 * Left to expand and collapse, Enter or Space to choose. Parents load their children on first expansion;
 * terms the server cannot chart are shown but disabled. Choosing a leaf fires `pp-term-select` (not
 * composed: it is meant for the element that renders the tree).
 *
 * @example
 * const tree = document.createElement('pp-term-tree');
 * tree.terms = config.rootTerms ?? [];
 * tree.loadChildren = (id, signal) => client.terms(id, signal);
 * tree.addEventListener('pp-term-select', (e) => console.log(e.detail.term.id));
 *
 * @fires pp-term-select - The user chose a leaf term; detail `{ term }`.
 * @csspart tree - The list with the tree role.
 */
export class PpTermTree extends LitElement {
  static override styles = [tokens, termTreeStyles];

  static override properties = {
    terms: { attribute: false },
    selected: { type: String },
    label: { type: String },
    loadChildren: { attribute: false },
    describeError: { attribute: false },
    _focusId: { state: true },
    _expanded: { state: true },
  };

  /** The root terms. */
  declare terms: readonly Term[];
  /** The id of the chosen term. */
  declare selected: string | undefined;
  /** Accessible name of the tree. */
  declare label: string;
  declare loadChildren: LoadChildren | undefined;
  /** Turns a failed child load into a sentence (the viewer supplies the dataset-aware one). */
  declare describeError: ((error: PpRequestError) => TemplateResult | string) | undefined;
  declare _focusId: string | undefined;
  declare _expanded: ReadonlySet<string>;
  #children = new Map<string, LoadState<readonly Term[]>>();
  #controllers = new Map<string, AbortController>();

  constructor() {
    super();
    this.terms = [];
    this.selected = undefined;
    this.label = 'Terms';
    this._expanded = new Set();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const [id, controller] of this.#controllers) {
      controller.abort();
      this.#children.delete(id);
    }
    this.#controllers.clear();
    // Expanded parents whose children were still loading reload when the tree is attached again.
    this._expanded = new Set([...this._expanded].filter((id) => this.#children.has(id)));
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('terms') || changed.has('loadChildren')) {
      for (const controller of this.#controllers.values()) controller.abort();
      this.#controllers.clear();
      this.#children.clear();
      this._expanded = new Set();
    }
  }

  /** The terms shown, in order, with their depth: what the arrow keys walk through. */
  #visible(): VisibleNode[] {
    const out: VisibleNode[] = [];
    const walk = (terms: readonly Term[], level: number, parent: string | undefined) => {
      for (const term of terms) {
        out.push({ term, level, parent });
        const state = this.#children.get(term.id);
        if (!term.isleaf && this._expanded.has(term.id) && state?.status === 'complete') {
          walk(state.value, level + 1, term.id);
        }
      }
    };
    walk(this.terms, 0, undefined);
    return out;
  }

  #isDisabled(term: Term): boolean {
    return term.isleaf && !term.supported;
  }

  protected override render(): TemplateResult {
    const visible = this.#visible();
    const focusId =
      visible.find((node) => node.term.id === this._focusId)?.term.id ??
      visible.find((node) => node.term.id === this.selected)?.term.id ??
      visible[0]?.term.id;
    return html`<ul role="tree" part="tree" aria-label=${this.label} @keydown=${this.#onKeydown}>
      ${this.#renderLevel(this.terms, 0, focusId)}
    </ul>`;
  }

  #renderLevel(terms: readonly Term[], level: number, focusId: string | undefined): TemplateResult[] {
    return terms.map((term, index) => {
      const expanded = !term.isleaf && this._expanded.has(term.id);
      const disabled = this.#isDisabled(term);
      const state = this.#children.get(term.id);
      return html`<li
        role="treeitem"
        data-id=${term.id}
        aria-level=${level + 1}
        aria-setsize=${terms.length}
        aria-posinset=${index + 1}
        aria-expanded=${term.isleaf ? nothing : String(expanded)}
        aria-selected=${term.isleaf && !disabled ? String(term.id === this.selected) : nothing}
        aria-disabled=${disabled ? 'true' : nothing}
        aria-busy=${expanded && state?.status === 'pending' ? 'true' : nothing}
        tabindex=${term.id === focusId ? '0' : '-1'}
        style="--level: ${level}"
        @focus=${(event: FocusEvent) => {
          if (event.target === event.currentTarget) this._focusId = term.id;
        }}
      >
        <div class="row" @click=${() => this.#activate(term)}>
          <span class="twisty">${term.isleaf ? html`<span class="dot"></span>` : chevron}</span>
          <span class="name"
            >${term.name}${disabled ? html` <span class="badge">not supported yet</span>` : nothing}</span
          >
        </div>
        ${expanded ? this.#renderChildren(term, level + 1, state, focusId) : nothing}
      </li>`;
    });
  }

  #renderChildren(
    term: Term,
    level: number,
    state: LoadState<readonly Term[]> | undefined,
    focusId: string | undefined,
  ): TemplateResult {
    if (!state || state.status === 'pending' || state.status === 'idle') {
      return html`<div class="note" role="none" style="--level: ${level - 1}">
        ${renderLoading('Loading…')}
      </div>`;
    }
    if (state.status === 'error') {
      return html`<div class="note" role="none" style="--level: ${level - 1}">
        ${this.describeError?.(state.error) ?? 'These terms could not be loaded.'}
      </div>`;
    }
    if (state.value.length === 0) {
      return html`<div class="note" role="none" style="--level: ${level - 1}">No terms.</div>`;
    }
    return html`<ul role="group">
      ${this.#renderLevel(state.value, level, focusId)}
    </ul>`;
  }

  #activate(term: Term): void {
    this._focusId = term.id;
    if (!term.isleaf) {
      this.#toggle(term, !this._expanded.has(term.id));
      return;
    }
    if (this.#isDisabled(term)) return;
    this.dispatchEvent(new CustomEvent<PpTermSelectDetail>('pp-term-select', { detail: { term } }));
  }

  #toggle(term: Term, expand: boolean): void {
    const expanded = new Set(this._expanded);
    if (!expand) {
      expanded.delete(term.id);
      this._expanded = expanded;
      return;
    }
    expanded.add(term.id);
    this._expanded = expanded;
    const state = this.#children.get(term.id);
    if (state?.status === 'complete' || state?.status === 'pending') return;
    this.#load(term.id);
  }

  #load(id: string): void {
    const loader = this.loadChildren;
    if (!loader) {
      this.#children.set(id, { status: 'complete', value: [] });
      return;
    }
    const controller = new AbortController();
    this.#controllers.get(id)?.abort();
    this.#controllers.set(id, controller);
    this.#children.set(id, { status: 'pending' });
    let promise: Promise<readonly Term[]>;
    try {
      promise = loader(id, controller.signal);
    } catch (error) {
      promise = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    promise.then(
      (value) => {
        if (this.#controllers.get(id) !== controller) return;
        this.#controllers.delete(id);
        this.#children.set(id, { status: 'complete', value });
        this.requestUpdate();
      },
      (error: unknown) => {
        if (this.#controllers.get(id) !== controller || controller.signal.aborted || isAbortError(error))
          return;
        this.#controllers.delete(id);
        const failure =
          error instanceof PpRequestError ? error : new PpRequestError('unexpected_response', 0, 'terms');
        this.#children.set(id, { status: 'error', error: failure });
        this.requestUpdate();
      },
    );
  }

  #focus(id: string): void {
    this._focusId = id;
    void this.updateComplete.then(() => {
      const item = this.renderRoot.querySelector<HTMLElement>(`[data-id="${CSS.escape(id)}"]`);
      item?.focus();
    });
  }

  #onKeydown = (event: KeyboardEvent): void => {
    const visible = this.#visible();
    const target = event.target instanceof HTMLElement ? event.target.closest('[role="treeitem"]') : null;
    const index = visible.findIndex((node) => node.term.id === target?.getAttribute('data-id'));
    const node = visible[index];
    if (!node) return;
    const { term } = node;
    switch (event.key) {
      case 'ArrowDown': {
        const next = visible[index + 1];
        if (next) this.#focus(next.term.id);
        break;
      }
      case 'ArrowUp': {
        const previous = visible[index - 1];
        if (previous) this.#focus(previous.term.id);
        break;
      }
      case 'ArrowRight': {
        if (term.isleaf) break;
        if (!this._expanded.has(term.id)) this.#toggle(term, true);
        else {
          const child = visible[index + 1];
          if (child?.parent === term.id) this.#focus(child.term.id);
        }
        break;
      }
      case 'ArrowLeft': {
        if (!term.isleaf && this._expanded.has(term.id)) this.#toggle(term, false);
        else if (node.parent !== undefined) this.#focus(node.parent);
        break;
      }
      case 'Home': {
        const first = visible[0];
        if (first) this.#focus(first.term.id);
        break;
      }
      case 'End': {
        const last = visible[visible.length - 1];
        if (last) this.#focus(last.term.id);
        break;
      }
      case 'Enter':
      case ' ':
        this.#activate(term);
        break;
      default:
        return;
    }
    event.preventDefault();
    event.stopPropagation();
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'pp-term-tree': PpTermTree;
  }
  interface HTMLElementEventMap {
    'pp-term-select': CustomEvent<PpTermSelectDetail>;
  }
}
