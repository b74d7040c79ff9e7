import { LitElement, html, nothing, svg, type PropertyValues, type TemplateResult } from 'lit';
import type { Bar, BarchartPanel, BarchartResult, BarRow, DisclosureRule } from '../../types.js';
import {
  WidthController,
  chartStyles,
  countText,
  countWords,
  fitText,
  hatchPattern,
  niceStep,
  numberFormat,
  ruleOf,
  seriesColor,
  textWidth,
} from '../chart-kit.js';
import { tokens } from '../shared-styles.js';
import { barchartStyles } from './pp-barchart.styles.js';

const ROW = 30;
const BAR = 20;
const TOP = 4;
const AXIS = 26;
const PANEL_TITLE = 26;
const GAP = 10;
const DEFAULT_WIDTH = 560;
const MIN_WIDTH = 260;

const percentFormat = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 });

const say = (bar: Bar, rule: DisclosureRule | null) => countWords(bar.count, bar.suppressed, rule);

/** The panels of a result, also for data shaped before overlays (bars only). */
function panelsOf(data: BarchartResult): readonly BarchartPanel[] {
  return data.charts?.length
    ? data.charts
    : [
        {
          key: null,
          label: null,
          total: data.total,
          bars: data.bars.map((bar) => ({ ...bar, segments: null })),
        },
      ];
}

/**
 * The sentence a screen reader announces for the chart, e.g. "Bar chart of Sex: Female 60, Male 40"; with an
 * overlay each bar lists its segments, with a divide-by term each chart is named.
 *
 * @example
 * describeChart(result); // 'Bar chart of Race: White 78, Black 12, Other fewer than 5'
 */
export function describeChart(data: BarchartResult): string {
  const rule = ruleOf(data);
  const title = `Bar chart of ${data.term.name}${data.term2 ? ` by ${data.term2.name}` : ''}`;
  const panels = panelsOf(data).map((panel) => {
    const bars = panel.bars.map((bar) => {
      const parts = bar.segments?.map((s) => `${s.label} ${say(s, rule)}`);
      return `${bar.label} ${say(bar, rule)}${parts ? ` (${parts.join(', ')})` : ''}`;
    });
    return `${panel.label === null ? '' : `${panel.label}: `}${bars.join(', ')}`;
  });
  return `${title}: ${panels.join('; ')}`;
}

interface Placed {
  bar: BarRow;
  panel: number;
  y: number;
}

/**
 * A horizontal bar chart of one term's counts, drawn as SVG: stacked segments for an overlay term (with a
 * legend), one chart per value of a divide-by term, on one scale. Under a disclosure rule (the answer's
 * `disclosure`), small hidden counts are hatched and labelled as the rule shows them (`<5`), withheld ones
 * `hidden`, rounded ones `≈ 40`. The chart is one keyboard stop; the arrow keys move through the bars and a
 * live line reads out the focused bar. Usually rendered by `<pp-viewer>`; it can be used alone with data from
 * the server.
 *
 * @example
 * const chart = document.createElement('pp-barchart');
 * chart.data = await client.barchart('sex', signal);
 * document.body.append(chart);
 *
 * @csspart legend - The legend line above the chart.
 * @csspart svg - The chart's SVG element.
 * @csspart readout - The total, or the bar under the pointer or keyboard focus.
 */
export class PpBarchart extends LitElement {
  static override styles = [tokens, chartStyles, barchartStyles];

  static override properties = {
    data: { attribute: false },
    _active: { state: true },
  };

  /** The server's `/termdb/barchart` answer, with the disclosure rule its counts went through. */
  declare data: BarchartResult | null;
  declare _active: number;
  #size = new WidthController(this);
  #placed: Placed[] = [];

  constructor() {
    super();
    this.data = null;
    this._active = -1;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('data')) this._active = -1;
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
    const panels = panelsOf(data);
    const rows = panels.flatMap((p) => p.bars.flatMap((bar) => [bar, ...(bar.segments ?? [])]));
    if (!rows.every((bar) => typeof bar?.label === 'string')) throw new TypeError('malformed bars');
    if (panels.every((panel) => panel.bars.length === 0)) {
      return html`<p class="empty">No samples have a value for ${data.term.name}.</p>`;
    }
    const cells = panels.flatMap((p) => p.bars.flatMap((bar) => bar.segments ?? [bar]));
    const anyHidden = cells.some((bar) => bar.count === null);
    const numeric = data.term.type === 'integer' || data.term.type === 'float';
    const rule = ruleOf(data);
    const hidden =
      rule !== null && rule.threshold > 1
        ? `Fewer than ${rule.threshold} samples, or withheld to protect privacy`
        : 'Count hidden to protect privacy';
    const total =
      data.total === null
        ? anyHidden
          ? 'Total not shown while counts are hidden'
          : ''
        : `${countText(data.total, false, rule)} samples`;
    const legend = data.series
      ? data.series.map(
          (s, i) =>
            html`<li>
              <span class="swatch" style="background:${seriesColor(i)}" aria-hidden="true"></span>${s.label}
            </li>`,
        )
      : html`<li>
          <span class="swatch" aria-hidden="true"></span>Samples per ${numeric ? 'bin' : 'category'}
        </li>`;
    // The readout takes the total's place while a bar is highlighted, so hovering never shifts the layout.
    return html`
      <div class="top">
        <ul class="legend" part="legend">
          ${legend}
          ${anyHidden ? html`<li><span class="swatch suppressed" aria-hidden="true"></span>${hidden}</li>` : nothing}
        </ul>
        <p class="readout" part="readout" aria-live="polite">${this.#renderReadout(data) || total}</p>
      </div>
      ${this.#renderChart(data, panels)}
    `;
  }

  #renderReadout(data: BarchartResult): TemplateResult | string {
    const placed = this.#placed[this._active];
    if (!placed) return '';
    const { bar } = placed;
    const name = html`<strong
      >${placed.panel >= 0 && data.term0 ? `${panelsOf(data)[placed.panel]?.label}, ` : ''}${bar.label}</strong
    >`;
    const rule = ruleOf(data);
    if (bar.count === null) {
      return bar.suppressed
        ? html`${name}: ${say(bar, rule)} samples (hidden to protect privacy)`
        : html`${name}: count hidden, so that a smaller hidden count cannot be worked out from it`;
    }
    const panelTotal = panelsOf(data)[placed.panel]?.total ?? null;
    const share = panelTotal
      ? ` (${percentFormat.format(bar.count / panelTotal)} of ${countText(panelTotal, false, rule)})`
      : '';
    return html`${name}: ${say(bar, rule)} ${bar.count === 1 ? 'sample' : 'samples'}${share}`;
  }

  #renderChart(data: BarchartResult, panels: readonly BarchartPanel[]): TemplateResult {
    const style = getComputedStyle(this);
    const family = style.fontFamily || 'sans-serif';
    const labelFont = `13px ${family}`;
    const valueFont = `600 12.5px ${family}`;
    const width = Math.max(MIN_WIDTH, this.#size.width || DEFAULT_WIDTH);
    const bars = panels.flatMap((panel) => panel.bars);
    const rule = ruleOf(data);
    const values = bars.map((bar) => countText(bar.count, bar.suppressed, rule));

    const widestLabel = Math.max(...bars.map((bar) => textWidth(bar.label, labelFont, 13)));
    const labelWidth = Math.min(Math.max(widestLabel, 48), width * 0.4);
    const valueWidth = Math.max(...values.map((text) => textWidth(text, valueFont, 12.5))) + GAP;
    const x0 = Math.ceil(labelWidth + GAP * 1.5);
    const x1 = Math.floor(width - valueWidth - 4);
    const plotWidth = Math.max(40, x1 - x0);

    // A hidden cell is drawn up to the rule's threshold: an honest upper bound of a small count (and a lower
    // bound of a withheld one).
    const stub = rule?.threshold ?? 1;
    const length = (bar: Bar) => (bar.count === null ? stub : bar.count);
    const barLength = (bar: BarRow) =>
      bar.segments ? bar.segments.reduce((a, s) => a + length(s), 0) : length(bar);
    const max = Math.max(1, ...bars.map(barLength));
    const step = niceStep(max, plotWidth < 300 ? 3 : 5);
    const domain = Math.ceil(max / step) * step;
    const scale = (value: number) => (value / domain) * plotWidth;

    const titled = data.term0 !== null && data.term0 !== undefined;
    const placed: Placed[] = [];
    let y = TOP;
    const titles: TemplateResult[] = [];
    panels.forEach((panel, p) => {
      if (titled) {
        titles.push(
          svg`<text class="title" x="0" y=${y + 17}>${panel.label}${panel.total === null ? '' : ` (${countText(panel.total, false, rule)})`}</text>`,
        );
        y += PANEL_TITLE;
      }
      for (const bar of panel.bars) {
        placed.push({ bar, panel: p, y });
        y += ROW;
      }
    });
    this.#placed = placed;
    const height = y + AXIS;
    const ticks: number[] = [];
    for (let tick = 0; tick <= domain; tick += step) ticks.push(tick);

    return html`<svg
      part="svg"
      role="img"
      tabindex="0"
      aria-label=${describeChart(data)}
      width=${width}
      height=${height}
      viewBox="0 0 ${width} ${height}"
      @keydown=${this.#onKeydown}
      @blur=${this.#clearActive}
      @pointerleave=${this.#clearActive}
    >
      <defs>${hatchPattern}</defs>
      ${ticks.map(
        (tick) => svg`
          <line class="grid" x1=${x0 + scale(tick)} x2=${x0 + scale(tick)} y1=${TOP} y2=${height - AXIS + 4}></line>
          <text class="tick" x=${x0 + scale(tick)} y=${height - 8} text-anchor="middle">${numberFormat.format(tick)}</text>`,
      )}
      ${titles}
      ${placed.map(({ bar, y: top }, index) => {
        const mid = top + ROW / 2;
        let x = x0;
        const pieces = (bar.segments ?? [bar]).map((piece, s) => {
          const w = Math.max(piece.count === 0 ? 0 : 1.5, scale(length(piece)));
          const hidden = piece.count === null;
          const rect = svg`<rect
            class="bar ${hidden ? 'suppressed' : ''}"
            x=${x}
            y=${top + (ROW - BAR) / 2}
            width=${w}
            height=${BAR}
            rx="2"
            fill=${hidden ? 'url(#hatch)' : bar.segments ? seriesColor(s) : nothing}
          ><title>${bar.segments ? `${bar.label}, ${piece.label}` : bar.label}: ${hidden ? say(piece, rule) : `${say(piece, rule)} samples`}</title></rect>`;
          x += w;
          return rect;
        });
        return svg`<g class="row ${index === this._active ? 'active' : ''}" @pointerenter=${() => (this._active = index)}>
          <title>${bar.label}: ${bar.count === null ? say(bar, rule) : `${say(bar, rule)} samples`}</title>
          <rect class="hit" x="0" y=${top} width=${width} height=${ROW} rx="4"></rect>
          <text class="label" x=${x0 - GAP} y=${mid} dy="0.35em" text-anchor="end">${fitText(bar.label, labelWidth, labelFont, 13)}</text>
          ${pieces}
          <text class="value ${bar.count === null ? 'suppressed' : ''}" x=${x + 6} y=${mid} dy="0.35em">${values[index]}</text>
        </g>`;
      })}
      <line class="baseline" x1=${x0} x2=${x0} y1=${TOP} y2=${height - AXIS + 4}></line>
    </svg>`;
  }

  #onKeydown = (event: KeyboardEvent): void => {
    const count = this.#placed.length;
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
