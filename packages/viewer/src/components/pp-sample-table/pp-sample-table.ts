import { LitElement, html, nothing, type TemplateResult } from 'lit';
import type { SamplesResult } from '../../types.js';
import { tokens } from '../shared-styles.js';
import { sampleTableStyles } from './pp-sample-table.styles.js';

const numberFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 6 });

/**
 * Detail of the `pp-page-request` event that `<pp-sample-table>` fires when the user asks for another page.
 *
 * @example
 * table.addEventListener('pp-page-request', (e) => load(e.detail.page));
 */
export interface PpPageRequestDetail {
  page: number;
}

/**
 * One page of sample-level values of a term, with previous/next paging. It does not fetch: the element
 * that renders it answers `pp-page-request` (not composed) with the next `data`.
 *
 * @example
 * const table = document.createElement('pp-sample-table');
 * table.data = await client.samples('sex', { page: 1, pageSize: 50 }, signal);
 * table.addEventListener('pp-page-request', async (e) => {
 *   table.data = await client.samples('sex', { page: e.detail.page, pageSize: 50 }, signal);
 * });
 *
 * @fires pp-page-request - The user asked for page `detail.page`.
 * @csspart table - The table element.
 * @csspart pagination - The paging line under the table.
 */
export class PpSampleTable extends LitElement {
  static override styles = [tokens, sampleTableStyles];

  static override properties = {
    data: { attribute: false },
    busy: { type: Boolean },
  };

  declare data: SamplesResult | null;
  /** Set while the next page loads: the current rows stay, dimmed. */
  declare busy: boolean;

  constructor() {
    super();
    this.data = null;
    this.busy = false;
  }

  protected override render(): TemplateResult | typeof nothing {
    const data = this.data;
    if (!data) return nothing;
    if (data.total === 0 || (data.rows.length === 0 && data.page === 1)) {
      return html`<p class="empty">No samples have a value for ${data.term.name}.</p>`;
    }
    const pages = Math.max(1, Math.ceil(data.total / Math.max(1, data.pageSize)));
    const first = (data.page - 1) * data.pageSize + 1;
    const last = first + data.rows.length - 1;
    const numeric = data.rows.some((row) => typeof row.value === 'number');
    return html`
      <div class="scroller" aria-busy=${this.busy ? 'true' : 'false'}>
        <table part="table">
          <caption class="visually-hidden">
            Samples and their ${data.term.name} values, page ${data.page} of ${pages}
          </caption>
          <thead>
            <tr>
              <th scope="col">Sample</th>
              <th scope="col" class=${numeric ? 'numeric' : ''}>${data.term.name}</th>
            </tr>
          </thead>
          <tbody>
            ${data.rows.map(
              (row) =>
                html`<tr>
                  <td class="sample">${row.sample}</td>
                  <td class=${typeof row.value === 'number' ? 'numeric' : ''}>
                    ${typeof row.value === 'number' ? numberFormat.format(row.value) : row.value}
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <nav class="pagination" part="pagination" aria-label="Sample pages">
        <span aria-live="polite">
          ${
            data.rows.length === 0
              ? `No samples on page ${data.page}`
              : `Showing ${numberFormat.format(first)}–${numberFormat.format(last)} of ${numberFormat.format(data.total)} samples`
          }
        </span>
        ${
          pages > 1
            ? html`<span class="buttons">
                <button
                  type="button"
                  ?disabled=${this.busy || data.page <= 1}
                  @click=${() => this.#request(data.page - 1)}
                >
                  Previous
                </button>
                <button
                  type="button"
                  ?disabled=${this.busy || data.page >= pages}
                  @click=${() => this.#request(data.page + 1)}
                >
                  Next
                </button>
              </span>`
            : nothing
        }
      </nav>
    `;
  }

  #request(page: number): void {
    this.dispatchEvent(new CustomEvent<PpPageRequestDetail>('pp-page-request', { detail: { page } }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'pp-sample-table': PpSampleTable;
  }
  interface HTMLElementEventMap {
    'pp-page-request': CustomEvent<PpPageRequestDetail>;
  }
}
