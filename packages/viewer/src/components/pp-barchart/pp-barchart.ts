import { LitElement, html, nothing, svg, type PropertyValues, type TemplateResult } from 'lit';
import type { Bar, BarchartResult } from '../../types.js';
import { tokens } from '../shared-styles.js';
import { barchartStyles } from './pp-barchart.styles.js';

const ROW = 30;
const BAR = 20;
const TOP = 4;
const AXIS = 26;
const GAP = 10;
const DEFAULT_WIDTH = 560;
const MIN_WIDTH = 260;

const numberFormat = new Intl.NumberFormat('en-US');
const percentFormat = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 });

let measureContext: CanvasRenderingContext2D | null | undefined;

/** Width of `text` in `font`; canvas when available, an average glyph width otherwise. */
function textWidth(text: string, font: string, fontSizePx: number): number {
  if (measureContext === undefined) measureContext = document.createElement('canvas').getContext('2d');
  if (!measureContext) return text.length * fontSizePx * 0.56;
  measureContext.font = font;
  return measureContext.measureText(text).width;
}

function fitText(text: string, maxWidth: number, font: string, fontSizePx: number): string {
  if (textWidth(text, font, fontSizePx) <= maxWidth) return text;
  let end = text.length;
  while (end > 1 && textWidth(`${text.slice(0, end)}…`, font, fontSizePx) > maxWidth) end -= 1;
  return `${text.slice(0, end).trimEnd()}…`;
}

function niceStep(max: number, ticks: number): number {
  const raw = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const normalised = raw / magnitude;
  const step = normalised <= 1 ? 1 : normalised <= 2 ? 2 : normalised <= 5 ? 5 : 10;
  return Math.max(1, step * magnitude);
}

/**
 * Text of a bar's count: the number, `<N` for a suppressed cell of a dataset with a minimum sample size,
 * or `suppressed` when the size is not known.
 *
 * @example
 * countText({ key: 'x', label: 'x', count: null, suppressed: true }, 5); // '<5'
 */
export function countText(bar: Bar, minSampleSize: number | null): string {
  if (!bar.suppressed && bar.count !== null) return numberFormat.format(bar.count);
  return minSampleSize ? `<${minSampleSize}` : 'suppressed';
}

/**
 * The sentence a screen reader announces for the chart, e.g. "Bar chart of Sex: Female 60, Male 40".
 *
 * @example
 * describeChart(result, 5); // 'Bar chart of Race: White 78, Black 12, Other fewer than 5'
 */
export function describeChart(data: BarchartResult, minSampleSize: number | null): string {
  const parts = data.bars.map((bar) => {
    if (!bar.suppressed && bar.count !== null) return `${bar.label} ${numberFormat.format(bar.count)}`;
    return minSampleSize ? `${bar.label} fewer than ${minSampleSize}` : `${bar.label} suppressed`;
  });
  return `Bar chart of ${data.term.name}: ${parts.join(', ')}`;
}

/**
 * A horizontal bar chart of one term's counts, drawn as SVG. Suppressed cells are hatched and labelled
 * `<N`. The chart is one keyboard stop; the arrow keys move through the bars and a live line reads out
 * the focused bar. Usually rendered by `<pp-viewer>`; it can be used alone with data from the server.
 *
 * @example
 * const chart = document.createElement('pp-barchart');
 * chart.data = await client.barchart('sex', signal);
 * chart.minSampleSize = 5;
 * document.body.append(chart);
 *
 * @csspart legend - The legend line above the chart.
 * @csspart svg - The chart's SVG element.
 * @csspart readout - The total, or the bar under the pointer or keyboard focus.
 */
export class PpBarchart extends LitElement {
  static override styles = [tokens, barchartStyles];

  static override properties = {
    data: { attribute: false },
    minSampleSize: { attribute: false },
    _width: { state: true },
    _active: { state: true },
  };

  /** The server's `/termdb/barchart` answer. */
  declare data: BarchartResult | null;
  /** The dataset's `minSampleSize` from `/termdb/config`, shown as `<N` on suppressed bars. */
  declare minSampleSize: number | null;
  declare _width: number;
  declare _active: number;
  #observer: ResizeObserver | undefined;

  constructor() {
    super();
    this.data = null;
    this.minSampleSize = null;
    this._width = 0;
    this._active = -1;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (typeof ResizeObserver === 'undefined') return;
    this.#observer = new ResizeObserver((entries) => {
      const width = Math.round(entries[0]?.contentRect.width ?? 0);
      // Only width matters; the height follows the number of bars, so re-rendering cannot loop.
      if (width > 0 && Math.abs(width - this._width) >= 1) this._width = width;
    });
    this.#observer.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#observer?.disconnect();
    this.#observer = undefined;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('data')) this._active = -1;
    if (this._width === 0 && this.isConnected) this._width = Math.round(this.getBoundingClientRect().width);
  }

  protected override render(): TemplateResult | typeof nothing {
    try {
      return this.#renderData();
    } catch {
      // Data from elsewhere than the viewer may be malformed; a sentence beats an exception at the page.
      return html`<p class="empty">This chart could not be drawn.</p>`;
    }
  }

  #renderData(): TemplateResult | typeof nothing {
    const data = this.data;
    if (!data) return nothing;
    if (data.bars.length === 0) {
      return html`<p class="empty">No samples have a value for ${data.term.name}.</p>`;
    }
    const anySuppressed = data.bars.some((bar) => bar.suppressed);
    const numeric = data.term.type === 'integer' || data.term.type === 'float';
    const hidden = this.minSampleSize
      ? `Fewer than ${this.minSampleSize} samples, hidden to protect privacy`
      : 'Count hidden to protect privacy';
    const total =
      data.total === null
        ? anySuppressed
          ? 'Total not shown while counts are hidden'
          : ''
        : `${numberFormat.format(data.total)} samples`;
    // The readout takes the total's place while a bar is highlighted, so hovering never shifts the layout.
    return html`
      <div class="top">
        <ul class="legend" part="legend">
          <li><span class="swatch" aria-hidden="true"></span>Samples per ${numeric ? 'bin' : 'category'}</li>
          ${
            anySuppressed
              ? html`<li><span class="swatch suppressed" aria-hidden="true"></span>${hidden}</li>`
              : nothing
          }
        </ul>
        <p class="readout" part="readout" aria-live="polite">${this.#renderReadout(data) || total}</p>
      </div>
      ${this.#renderChart(data)}
    `;
  }

  #renderReadout(data: BarchartResult): TemplateResult | string {
    const bar = data.bars[this._active];
    if (!bar) return '';
    if (bar.suppressed || bar.count === null) {
      return html`<strong>${bar.label}</strong>:
        ${this.minSampleSize ? `fewer than ${this.minSampleSize} samples` : 'count hidden'} (hidden to protect
        privacy)`;
    }
    const share = data.total
      ? ` (${percentFormat.format(bar.count / data.total)} of ${numberFormat.format(data.total)})`
      : '';
    return html`<strong>${bar.label}</strong>: ${numberFormat.format(bar.count)}
      ${bar.count === 1 ? 'sample' : 'samples'}${share}`;
  }

  #renderChart(data: BarchartResult): TemplateResult {
    const style = getComputedStyle(this);
    const family = style.fontFamily || 'sans-serif';
    const labelFont = `13px ${family}`;
    const valueFont = `600 12.5px ${family}`;
    const width = Math.max(MIN_WIDTH, this._width || DEFAULT_WIDTH);
    const values = data.bars.map((bar) => countText(bar, this.minSampleSize));

    const widestLabel = Math.max(...data.bars.map((bar) => textWidth(bar.label, labelFont, 13)));
    const labelWidth = Math.min(Math.max(widestLabel, 48), width * 0.4);
    const valueWidth = Math.max(...values.map((text) => textWidth(text, valueFont, 12.5))) + GAP;
    const x0 = Math.ceil(labelWidth + GAP * 1.5);
    const x1 = Math.floor(width - valueWidth - 4);
    const plotWidth = Math.max(40, x1 - x0);

    // A suppressed cell is drawn up to the suppression threshold: an honest upper bound of its count.
    const stub = this.minSampleSize ?? 1;
    const max = Math.max(
      1,
      ...data.bars.map((bar) => (bar.suppressed || bar.count === null ? stub : bar.count)),
    );
    const step = niceStep(max, plotWidth < 300 ? 3 : 5);
    const domain = Math.ceil(max / step) * step;
    const scale = (value: number) => (value / domain) * plotWidth;
    const height = TOP + data.bars.length * ROW + AXIS;
    const ticks: number[] = [];
    for (let tick = 0; tick <= domain; tick += step) ticks.push(tick);

    return html`<svg
      part="svg"
      role="img"
      tabindex="0"
      aria-label=${describeChart(data, this.minSampleSize)}
      width=${width}
      height=${height}
      viewBox="0 0 ${width} ${height}"
      @keydown=${this.#onKeydown}
      @blur=${this.#clearActive}
      @pointerleave=${this.#clearActive}
    >
      <defs>
        <pattern id="hatch" patternUnits="userSpaceOnUse" width="5" height="5" patternTransform="rotate(45)">
          <rect class="hatch-background" width="5" height="5"></rect>
          <line class="hatch-line" x1="0" y1="0" x2="0" y2="5"></line>
        </pattern>
      </defs>
      ${ticks.map(
        (tick) => svg`
          <line class="grid" x1=${x0 + scale(tick)} x2=${x0 + scale(tick)} y1=${TOP} y2=${height - AXIS + 4}></line>
          <text class="tick" x=${x0 + scale(tick)} y=${height - 8} text-anchor="middle">${numberFormat.format(tick)}</text>`,
      )}
      ${data.bars.map((bar, index) => {
        const y = TOP + index * ROW;
        const hidden = bar.suppressed || bar.count === null;
        const barWidth = Math.max(hidden ? 0 : bar.count ? 1.5 : 0, scale(hidden ? stub : (bar.count ?? 0)));
        const mid = y + ROW / 2;
        return svg`<g class="row ${index === this._active ? 'active' : ''}" @pointerenter=${() => (this._active = index)}>
          <title>${bar.label}: ${hidden ? (this.minSampleSize ? `fewer than ${this.minSampleSize} samples` : 'count hidden') : `${numberFormat.format(bar.count ?? 0)} samples`}</title>
          <rect class="hit" x="0" y=${y} width=${width} height=${ROW} rx="4"></rect>
          <text class="label" x=${x0 - GAP} y=${mid} dy="0.35em" text-anchor="end">${fitText(bar.label, labelWidth, labelFont, 13)}</text>
          <rect
            class="bar ${hidden ? 'suppressed' : ''}"
            x=${x0}
            y=${y + (ROW - BAR) / 2}
            width=${barWidth}
            height=${BAR}
            rx="2"
            fill=${hidden ? 'url(#hatch)' : nothing}
          ></rect>
          <text class="value ${hidden ? 'suppressed' : ''}" x=${x0 + barWidth + 6} y=${mid} dy="0.35em">${values[index]}</text>
        </g>`;
      })}
      <line class="baseline" x1=${x0} x2=${x0} y1=${TOP} y2=${height - AXIS + 4}></line>
    </svg>`;
  }

  #onKeydown = (event: KeyboardEvent): void => {
    const count = this.data?.bars.length ?? 0;
    if (count === 0) return;
    const current = this._active;
    let next: number;
    switch (event.key) {
      case 'ArrowDown':
      case 'ArrowRight':
        next = current < 0 ? 0 : Math.min(count - 1, current + 1);
        break;
      case 'ArrowUp':
      case 'ArrowLeft':
        next = current < 0 ? count - 1 : Math.max(0, current - 1);
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = count - 1;
        break;
      case 'Escape':
        next = -1;
        break;
      default:
        return;
    }
    event.preventDefault();
    this._active = next;
  };

  #clearActive = (): void => {
    this._active = -1;
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'pp-barchart': PpBarchart;
  }
}
