import { LitElement, css, html, nothing, svg, type TemplateResult } from 'lit';
import type { SummaryGroup, SummaryResult } from '../../types.js';
import {
  WidthController,
  chartStyles,
  countText,
  countWords,
  fitText,
  ruleOf,
  seriesColor,
  textWidth,
  ticksOf,
  valueText,
} from '../chart-kit.js';
import { tokens } from '../shared-styles.js';

const ROW = 46;
/** Violins need more height than boxes to show a shape. */
const VIOLIN_ROW = 72;
const TOP = 6;
const AXIS = 40;
const GAP = 10;

/**
 * The sentence a screen reader announces for a summary, e.g. "Box plot of Age: median 8, quartiles 5 to 11, 466
 * samples".
 *
 * @example
 * describeSummary(result, 'box');
 */
export function describeSummary(data: SummaryResult, mode: 'box' | 'violin'): string {
  const rule = ruleOf(data);
  const title = `${mode === 'box' ? 'Box plot' : 'Violin plot'} of ${data.term.name}${data.term2 ? ` by ${data.term2.name}` : ''}`;
  const groups = data.groups.map((g) => {
    const name = g.label === null ? '' : `${g.label} `;
    if (g.suppressed) return `${name}${countWords(null, true, rule)} samples`;
    if (!g.stats) return `${name}${g.n === null ? 'numbers withheld' : 'no samples'}`;
    const n = g.n === null ? '' : `, ${countWords(g.n, false, rule)} samples`;
    return `${name}median ${valueText(g.stats.median)}, quartiles ${valueText(g.stats.q1)} to ${valueText(g.stats.q3)}${n}`;
  });
  return `${title}: ${groups.join('; ')}`;
}

/**
 * A box plot or violin of a numeric term, one row per group, on one axis, with the numbers in a table below.
 * Under a disclosure rule (the answer's `disclosure`), small groups show no numbers, nor groups whose size is
 * withheld, and there is no violin (the server sends no density bins: they would be a second binning of the term).
 * Usually rendered by `<pp-viewer>`.
 *
 * @example
 * const chart = document.createElement('pp-summary');
 * chart.data = await client.summary('agedx', signal, { term2: 'sex' });
 * chart.mode = 'violin';
 *
 * @csspart svg - The chart's SVG element.
 * @csspart table - The table of numbers.
 */
export class PpSummary extends LitElement {
  static override styles = [
    tokens,
    chartStyles,
    css`
      .box {
        fill: var(--_accent-soft);
        stroke: var(--_bar-active);
        stroke-width: 1.2;
      }
      .whisker,
      .median {
        stroke: var(--_bar-active);
        stroke-width: 1.5;
      }
      .violin {
        fill-opacity: 0.55;
        stroke-width: 1;
      }
      .mean {
        fill: var(--_background);
        stroke: var(--_text);
        stroke-width: 1.2;
      }
      table {
        margin-block-start: 0.75em;
      }
    `,
  ];

  static override properties = {
    data: { attribute: false },
    mode: { type: String },
  };

  declare data: SummaryResult | null;
  /** `box` (default) or `violin`. */
  declare mode: 'box' | 'violin';
  #size = new WidthController(this);

  constructor() {
    super();
    this.data = null;
    this.mode = 'box';
  }

  protected override render(): TemplateResult | typeof nothing {
    const data = this.data;
    if (!data) return nothing;
    try {
      if (data.groups.every((g) => !g.stats && !g.suppressed)) {
        return html`<p class="empty">No samples have a value for ${data.term.name}.</p>`;
      }
      return html`${this.#renderChart(data)}${this.#renderTable(data)}`;
    } catch {
      return html`<p class="empty">This chart could not be drawn.</p>`;
    }
  }

  #renderChart(data: SummaryResult): TemplateResult {
    const family = getComputedStyle(this).fontFamily || 'sans-serif';
    const font = `13px ${family}`;
    const width = Math.max(260, this.#size.width || 560);
    const labels = data.groups.map((g) => g.label ?? data.term.name);
    const labelWidth = Math.min(Math.max(48, ...labels.map((l) => textWidth(l, font, 13))), width * 0.35);
    const x0 = Math.ceil(labelWidth + GAP * 1.5);
    const x1 = width - 12;
    const shown = data.groups.filter((g) => g.stats);
    const lo = Math.min(
      ...shown.map((g) => g.stats!.min ?? g.stats!.whiskerLow),
      ...(data.density ? [data.density.start] : []),
    );
    const hi = Math.max(
      ...shown.map((g) => g.stats!.max ?? g.stats!.whiskerHigh),
      ...(data.density ? [data.density.stop] : []),
    );
    const ticks = ticksOf(lo, hi > lo ? hi : lo + 1, x1 - x0 < 300 ? 3 : 6);
    const d0 = ticks[0] as number;
    const d1 = ticks[ticks.length - 1] as number;
    const scale = (v: number) => x0 + ((v - d0) / (d1 - d0 || 1)) * (x1 - x0);
    const row = this.mode === 'violin' ? VIOLIN_ROW : ROW;
    const height = TOP + data.groups.length * row + AXIS;
    return html`<svg
      part="svg"
      role="img"
      tabindex="0"
      aria-label=${describeSummary(data, this.mode)}
      width=${width}
      height=${height}
      viewBox="0 0 ${width} ${height}"
    >
      ${ticks.map(
        (t) => svg`<line class="grid" x1=${scale(t)} x2=${scale(t)} y1=${TOP} y2=${height - AXIS + 4}></line>
          <text class="tick" x=${scale(t)} y=${height - AXIS + 18} text-anchor="middle">${valueText(t)}</text>`,
      )}
      <text class="note" x=${(x0 + x1) / 2} y=${height - 4} text-anchor="middle">${data.term.name}</text>
      ${data.groups.map((g, i) =>
        this.#renderGroup(g, i, TOP + i * row, row, scale, labels[i] ?? '', labelWidth, font, x0),
      )}
    </svg>`;
  }

  #renderGroup(
    g: SummaryGroup,
    index: number,
    top: number,
    row: number,
    scale: (v: number) => number,
    label: string,
    labelWidth: number,
    font: string,
    x0: number,
  ): TemplateResult {
    const mid = top + row / 2;
    const text = svg`<text class="label" x=${x0 - GAP} y=${mid} dy="0.35em" text-anchor="end">${fitText(label, labelWidth, font, 13)}</text>`;
    const s = g.stats;
    if (!s) {
      const why = g.suppressed
        ? `${countWords(null, true, ruleOf(this.data))} samples, hidden to protect privacy`
        : g.n === null
          ? 'withheld, so that a small count cannot be worked out'
          : 'no samples';
      return svg`<g>${text}<text class="note" x=${x0 + 4} y=${mid} dy="0.35em">${why}</text></g>`;
    }
    const color = seriesColor(index);
    const half = row / 2 - 5;
    const box =
      this.mode === 'violin'
        ? svg`<rect class="box" x=${scale(s.q1)} y=${mid - 3} width=${Math.max(1, scale(s.q3) - scale(s.q1))} height="6"></rect>`
        : svg`<rect class="box" x=${scale(s.q1)} y=${mid - 10} width=${Math.max(1, scale(s.q3) - scale(s.q1))} height="20" rx="2"></rect>`;
    return svg`<g class="group">
      <title>${label}: median ${valueText(s.median)}, quartiles ${valueText(s.q1)} to ${valueText(s.q3)}, mean ${valueText(s.mean)}${g.n === null ? '' : `, ${countWords(g.n, false, ruleOf(this.data))} samples`}</title>
      ${text}
      ${this.mode === 'violin' ? this.#violin(g, mid, half, scale, color) : nothing}
      <line class="whisker" x1=${scale(s.whiskerLow)} x2=${scale(s.whiskerHigh)} y1=${mid} y2=${mid}></line>
      ${this.mode === 'box' ? svg`<line class="whisker" x1=${scale(s.whiskerLow)} x2=${scale(s.whiskerLow)} y1=${mid - 6} y2=${mid + 6}></line><line class="whisker" x1=${scale(s.whiskerHigh)} x2=${scale(s.whiskerHigh)} y1=${mid - 6} y2=${mid + 6}></line>` : nothing}
      ${box}
      <line class="median" x1=${scale(s.median)} x2=${scale(s.median)} y1=${mid - (this.mode === 'box' ? 10 : 5)} y2=${mid + (this.mode === 'box' ? 10 : 5)}></line>
      <path class="mean" d="M${scale(s.mean)} ${mid - 4}l4 4-4 4-4-4z"></path>
    </g>`;
  }

  #violin(
    g: SummaryGroup,
    mid: number,
    half: number,
    scale: (v: number) => number,
    color: string,
  ): TemplateResult | typeof nothing {
    const spec = this.data?.density;
    const counts = g.density;
    if (!spec || !counts?.length) return nothing;
    const widthOf = (spec.stop - spec.start) / spec.bins;
    // The counts smoothed by a binomial kernel (three passes of 1-2-1, close to a Gaussian of 1.2 bins), so
    // that the outline reads as a density rather than a histogram; hidden bins count as empty.
    let smooth = counts.map((c) => c ?? 0);
    for (let pass = 0; pass < 3; pass++) {
      const previous = smooth;
      smooth = previous.map((c, b) => ((previous[b - 1] ?? 0) + 2 * c + (previous[b + 1] ?? 0)) / 4);
    }
    const peak = Math.max(1e-9, ...smooth);
    const points = [
      [scale(spec.start), 0] as const,
      ...smooth.map((c, b) => [scale(spec.start + (b + 0.5) * widthOf), (c / peak) * half] as const),
      [scale(spec.stop), 0] as const,
    ];
    const top = points.map(([x, h]) => `${x.toFixed(1)},${(mid - h).toFixed(1)}`);
    const bottom = points.map(([x, h]) => `${x.toFixed(1)},${(mid + h).toFixed(1)}`).reverse();
    return svg`<polygon class="violin" points=${[...top, ...bottom].join(' ')} fill=${color} stroke=${color}></polygon>`;
  }

  #renderTable(data: SummaryResult): TemplateResult {
    return html`<table part="table">
      <thead>
        <tr>
          <th scope="col">${data.term2?.name ?? 'Group'}</th>
          <th scope="col">n</th>
          <th scope="col">Mean</th>
          <th scope="col">SD</th>
          <th scope="col">Median</th>
          <th scope="col">Q1</th>
          <th scope="col">Q3</th>
          <th scope="col">Min</th>
          <th scope="col">Max</th>
        </tr>
      </thead>
      <tbody>
        ${data.groups.map(
          (g) =>
            html`<tr>
              <th scope="row">${g.label ?? 'All samples'}</th>
              <td>${countText(g.n, g.suppressed, ruleOf(data))}</td>
              ${(['mean', 'sd', 'median', 'q1', 'q3', 'min', 'max'] as const).map(
                (k) => html`<td>${valueText(g.stats?.[k])}</td>`,
              )}
            </tr>`,
        )}
      </tbody>
    </table>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'pp-summary': PpSummary;
  }
}
