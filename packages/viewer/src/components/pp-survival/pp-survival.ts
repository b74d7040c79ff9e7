import { LitElement, css, html, nothing, svg, type TemplateResult } from 'lit';
import type { SurvivalResult, SurvivalSeries } from '../../types.js';
import {
  WidthController,
  chartStyles,
  fitText,
  countText,
  countWords,
  ruleOf,
  seriesColor,
  textWidth,
  valueText,
} from '../chart-kit.js';
import { tokens } from '../shared-styles.js';

const PLOT = 220;
const TOP = 8;
const AXIS = 34;
const RISK_ROW = 18;

/**
 * A p-value as a researcher reads it: `p = 0.032`, `p = 4.2 × 10⁻⁵`, or `p < 10⁻¹⁶` below what doubles hold.
 *
 * @example
 * pValueText(4.169e-5); // 'p = 4.2 × 10⁻⁵'
 */
export function pValueText(p: number): string {
  if (!(p >= 1e-16)) return 'p < 10⁻¹⁶';
  if (p >= 0.001) return `p = ${Number(p.toPrecision(2))}`;
  const exponent = Math.floor(Math.log10(p));
  const mantissa = p / 10 ** exponent;
  const superscript = String(exponent).replace(/[-\d]/g, (c) => '⁻⁰¹²³⁴⁵⁶⁷⁸⁹'['-0123456789'.indexOf(c)] ?? c);
  return `p = ${mantissa.toFixed(1)} × 10${superscript}`;
}

/**
 * The sentence a screen reader announces for the chart: each curve's size, events and median survival.
 *
 * @example
 * describeSurvival(result);
 */
export function describeSurvival(data: SurvivalResult): string {
  const unit = data.unit ? ` ${data.unit}` : '';
  const curves = data.series.map((s) => {
    const name = s.label ?? 'All samples';
    if (s.suppressed || !s.curve) return `${name}: too few samples to show`;
    const median = s.curve.time[s.curve.survival.findIndex((v) => v <= 0.5)];
    const rule = ruleOf(data);
    return `${name}: ${s.n === null ? '' : `${countWords(s.n, false, rule)} samples, `}${s.events === null ? '' : `${countWords(s.events, false, rule)} events, `}median survival ${median === undefined ? 'not reached' : `${valueText(median)}${unit}`}`;
  });
  const test = data.logRank ? `; log-rank ${pValueText(data.logRank.p)}` : '';
  return `Kaplan-Meier curves of ${data.term.name}${data.term2 ? ` by ${data.term2.name}` : ''}: ${curves.join('; ')}${test}`;
}

/**
 * Kaplan-Meier curves with their 95% confidence bands and censoring marks, the log-rank test, and the number
 * at risk under the axis. A curve that stops early (fewer samples at risk than the dataset shows) says so.
 *
 * @example
 * const chart = document.createElement('pp-survival');
 * chart.data = await client.survival('os', signal, { term2: 'diaggrp' });
 *
 * @csspart svg - The chart's SVG element (curves and number at risk).
 * @csspart legend - The curves' legend.
 */
export class PpSurvival extends LitElement {
  static override styles = [
    tokens,
    chartStyles,
    css`
      .band {
        fill-opacity: 0.14;
        stroke: none;
      }
      .curve {
        fill: none;
        stroke-width: 2;
      }
      .censor {
        stroke-width: 1.4;
      }
      .risk {
        font-size: 12px;
        font-weight: 600;
      }
      .risk {
        font-size: 12px;
        font-weight: 600;
      }
      .test {
        margin: 0 0 0.5em;
        color: var(--_text);
        font-size: 0.857em;
      }
    `,
  ];

  static override properties = {
    data: { attribute: false },
  };

  declare data: SurvivalResult | null;
  #size = new WidthController(this);

  constructor() {
    super();
    this.data = null;
  }

  protected override render(): TemplateResult | typeof nothing {
    const data = this.data;
    if (!data) return nothing;
    try {
      if (data.series.every((s) => !s.curve?.time.length && !s.suppressed)) {
        return html`<p class="empty">No samples have a value for ${data.term.name}.</p>`;
      }
      return this.#renderData(data);
    } catch {
      return html`<p class="empty">This chart could not be drawn.</p>`;
    }
  }

  #renderData(data: SurvivalResult): TemplateResult {
    const rule = ruleOf(data);
    const hidden = (n: number | null, small: boolean) => countText(n, small, rule);
    const truncated = data.series.some((s) => s.truncatedAt !== null);
    return html`
      <ul class="legend" part="legend">
        ${data.series.map(
          (s, i) =>
            html`<li>
              <span
                class="swatch ${s.suppressed ? 'suppressed' : ''}"
                style=${s.suppressed ? '' : `background:${seriesColor(i)}`}
                aria-hidden="true"
              ></span>
              ${s.label ?? 'All samples'} (n = ${hidden(s.n, s.suppressed)}, events =
              ${hidden(s.events, false)})
            </li>`,
        )}
      </ul>
      ${
        data.logRank
          ? html`<p class="test">
              Log-rank test: χ² = ${data.logRank.chi2.toFixed(2)}, df = ${data.logRank.df},
              ${pValueText(data.logRank.p)}
            </p>`
          : nothing
      }
      ${this.#renderChart(data)}
      ${
        truncated
          ? html`<p class="note">
              Curves stop where the numbers at risk, the events or the censored samples of an interval are
              hidden.
            </p>`
          : nothing
      }
    `;
  }

  #renderChart(data: SurvivalResult): TemplateResult {
    const family = getComputedStyle(this).fontFamily || 'sans-serif';
    const font = `12px ${family}`;
    const width = Math.max(300, this.#size.width || 600);
    const names = data.series.map((s) => s.label ?? 'All samples');
    // Room on the left for the at-risk table's names, with a gap before the counts centred on the times.
    const labelWidth = Math.min(width * 0.3, Math.max(40, ...names.map((n) => textWidth(n, font, 12))));
    const x0 = Math.ceil(labelWidth + 30);
    const x1 = width - 16;
    const times = data.atRiskTimes;
    const last = Math.max(times[times.length - 1] ?? 0, ...data.series.map((s) => s.curve?.time.at(-1) ?? 0));
    const x = (t: number) => x0 + (t / (last || 1)) * (x1 - x0);
    const y = (s: number) => TOP + (1 - s) * PLOT;
    const riskTop = TOP + PLOT + AXIS;
    const height = riskTop + 20 + data.series.length * RISK_ROW;
    const unit = data.unit ? ` (${data.unit})` : '';
    return html`<svg
      part="svg"
      role="img"
      tabindex="0"
      aria-label=${describeSurvival(data)}
      width=${width}
      height=${height}
      viewBox="0 0 ${width} ${height}"
    >
      ${[0, 0.25, 0.5, 0.75, 1].map(
        (s) => svg`<line class="grid" x1=${x0} x2=${x1} y1=${y(s)} y2=${y(s)}></line>
          <text class="tick" x=${x0 - 6} y=${y(s)} dy="0.35em" text-anchor="end">${Math.round(s * 100)}%</text>`,
      )}
      ${times.map(
        (t) =>
          svg`<text class="tick" x=${x(t)} y=${TOP + PLOT + 16} text-anchor="middle">${valueText(t)}</text>`,
      )}
      <line class="axis" x1=${x0} x2=${x1} y1=${TOP + PLOT} y2=${TOP + PLOT}></line>
      <text class="note" x=${(x0 + x1) / 2} y=${TOP + PLOT + 30} text-anchor="middle">
        ${data.term.name}${unit}
      </text>
      ${data.series.map((s, i) => this.#curve(s, seriesColor(i), x, y))}
      <text class="title" x="0" y=${riskTop + 10}>Number at risk</text>
      ${data.series.map(
        (
          s,
          i,
        ) => svg`<text class="risk" x=${labelWidth} y=${riskTop + 26 + i * RISK_ROW} text-anchor="end" fill=${seriesColor(i)}>${fitText(names[i] ?? '', labelWidth, font, 12)}</text>
          ${s.atRisk.map(
            (n, k) =>
              svg`<text class="tick" x=${x(times[k] ?? 0)} y=${riskTop + 26 + i * RISK_ROW} text-anchor="middle">${countText(n, false, ruleOf(data))}</text>`,
          )}`,
      )}
    </svg>`;
  }

  #curve(
    s: SurvivalSeries,
    color: string,
    x: (t: number) => number,
    y: (v: number) => number,
  ): TemplateResult | typeof nothing {
    const c = s.curve;
    if (!c || c.time.length === 0) return nothing;
    // A step function: flat until each step's time, then down to its value.
    const steps = (values: readonly number[]) => {
      let path = `M${x(0)} ${y(1)}`;
      c.time.forEach((t, i) => (path += `H${x(t).toFixed(1)}V${y(values[i] as number).toFixed(1)}`));
      return path;
    };
    const upper = steps(c.upper);
    // Back along the lower bound: at each step's time, up to the bound before the step.
    const lowerBack = c.time
      .map((t, i) => `H${x(t).toFixed(1)}V${(i === 0 ? y(1) : y(c.lower[i - 1] as number)).toFixed(1)}`)
      .reverse()
      .join('');
    const end = x(c.time[c.time.length - 1] as number);
    return svg`<g>
      <path class="band" fill=${color} d="${upper}V${y(c.lower[c.lower.length - 1] as number)}${lowerBack}H${x(0)}Z"></path>
      <path class="curve" stroke=${color} d="${steps(c.survival)}H${end}"></path>
      ${c.time.map((t, i) =>
        (c.censored[i] as number) > 0
          ? svg`<line class="censor" stroke=${color} x1=${x(t)} x2=${x(t)} y1=${y(c.survival[i] as number) - 4} y2=${y(c.survival[i] as number) + 4}></line>`
          : nothing,
      )}
    </g>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'pp-survival': PpSurvival;
  }
}
