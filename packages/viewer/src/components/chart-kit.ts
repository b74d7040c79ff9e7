import { css, svg, type ReactiveController, type ReactiveControllerHost, type TemplateResult } from 'lit';
import { DISCLOSURE_PRESETS, type Disclosure, type DisclosureRule } from '@pp-embed/viz-api';

/*
 * What the charts share: number formats, text measurement, axis steps, series colours, the hatch of hidden
 * counts and the styles of axes and legends.
 */

/** Counts: 1,234. @example numberFormat.format(1234); // '1,234' */
export const numberFormat = new Intl.NumberFormat('en-US');

/** Values and statistics: at most four significant digits after the point. @example valueText(3.14159); // '3.142' */
export function valueText(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return new Intl.NumberFormat('en-US', { maximumSignificantDigits: Math.abs(value) >= 1000 ? 7 : 4 }).format(
    value,
  );
}

let measureContext: CanvasRenderingContext2D | null | undefined;

/** Width of `text` in `font`; canvas when available, an average glyph width otherwise. @example textWidth('Male', '13px sans-serif', 13); */
export function textWidth(text: string, font: string, fontSizePx: number): number {
  if (measureContext === undefined) measureContext = document.createElement('canvas').getContext('2d');
  if (!measureContext) return text.length * fontSizePx * 0.56;
  measureContext.font = font;
  return measureContext.measureText(text).width;
}

/** `text`, shortened with an ellipsis to fit `maxWidth`. @example fitText(longLabel, 120, font, 13); */
export function fitText(text: string, maxWidth: number, font: string, fontSizePx: number): string {
  if (textWidth(text, font, fontSizePx) <= maxWidth) return text;
  let end = text.length;
  while (end > 1 && textWidth(`${text.slice(0, end)}…`, font, fontSizePx) > maxWidth) end -= 1;
  return `${text.slice(0, end).trimEnd()}…`;
}

/** A round step (1, 2, 5 × 10^k) that divides `span` into about `ticks` parts. @example niceStep(87, 5); // 20 */
export function niceStep(span: number, ticks: number): number {
  const raw = span / ticks;
  if (!(raw > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const normalised = raw / magnitude;
  return (normalised <= 1 ? 1 : normalised <= 2 ? 2 : normalised <= 5 ? 5 : 10) * magnitude;
}

/** Round tick values covering [lo, hi]. @example ticksOf(0, 87, 5); // [0, 20, 40, 60, 80, 100] */
export function ticksOf(lo: number, hi: number, count: number): number[] {
  const step = niceStep(hi - lo, count);
  const out: number[] = [];
  for (let t = Math.floor(lo / step) * step; t <= hi + step * 0.999; t += step)
    out.push(Number(t.toPrecision(12)));
  return out;
}

// Colour-blind-friendly categorical colours (Okabe & Ito, with the widget's bar blue first); beyond them,
// hues spaced by the golden angle.
const PALETTE = [
  '#4a7cc9',
  '#e69f00',
  '#009e73',
  '#cc79a7',
  '#56b4e9',
  '#d55e00',
  '#7a6fb0',
  '#b59b00',
  '#555f6d',
  '#2a9d8f',
];

/** The colour of series `index`. @example seriesColor(0); // '#4a7cc9' */
export function seriesColor(index: number): string {
  return PALETTE[index] ?? `hsl(${Math.round((index * 137.508) % 360)} 55% 48%)`;
}

/** The hatch pattern hidden counts are filled with, to put in an SVG's defs. @example svg`<defs>${hatchPattern}</defs>` */
export const hatchPattern: TemplateResult = svg`<pattern id="hatch" patternUnits="userSpaceOnUse" width="5" height="5" patternTransform="rotate(45)">
  <rect class="hatch-background" width="5" height="5"></rect>
  <line class="hatch-line" x1="0" y1="0" x2="0" y2="5"></line>
</pattern>`;

/** The rule an answer's counts went through; null for exact counts (or a server that does not say). @example ruleOf(chart); */
export function ruleOf(data: { readonly disclosure?: Disclosure } | null): DisclosureRule | null {
  return data?.disclosure?.rule ?? null;
}

const approximate = (rule: DisclosureRule | null) => rule !== null && (rule.rounding > 1 || rule.noise > 0);

/**
 * A count as a chart writes it under its rule: the number; `≈ 40` when the rule rounds or perturbs it; the rule's
 * `hiddenAs` (`<5`) for a small hidden count; `hidden` for one withheld so that a small count cannot be worked out.
 *
 * @example
 * countText(null, true, rule); // '<5'
 */
export function countText(count: number | null, suppressed: boolean, rule: DisclosureRule | null): string {
  if (count === null) return suppressed ? (rule?.hiddenAs ?? 'suppressed') : 'hidden';
  const text = numberFormat.format(count);
  return count !== 0 && approximate(rule) ? `≈ ${text}` : text;
}

/**
 * A count in words, for readouts and screen readers: "fewer than 5", "hidden", "about 40", "40".
 *
 * @example
 * countWords(null, true, rule); // 'fewer than 5'
 */
export function countWords(count: number | null, suppressed: boolean, rule: DisclosureRule | null): string {
  if (count === null) {
    if (!suppressed) return 'hidden';
    return rule !== null && rule.threshold > 1 ? `fewer than ${rule.threshold}` : 'suppressed';
  }
  const text = numberFormat.format(count);
  return count !== 0 && approximate(rule) ? `about ${text}` : text;
}

const TIER_WORDS = {
  anonymous: 'visitors who are not signed in',
  signedIn: 'signed-in users without a grant',
  granted: 'your access',
} as const;

/**
 * The one line under a chart that says how its counts are shown, or '' for exact counts.
 *
 * @example
 * ruleNote(chart.disclosure);
 * // '<5: 1 to 4 samples · hidden: withheld so that small counts cannot be worked out. Genomics England's rule, for visitors who are not signed in.'
 */
export function ruleNote(disclosure: Disclosure | undefined): string {
  const rule = disclosure?.rule;
  if (!rule) return '';
  const parts: string[] = [];
  if (rule.threshold > 1) {
    parts.push(
      `${rule.hiddenAs}: ${rule.threshold === 2 ? '1 sample' : `1 to ${rule.threshold - 1} samples`}`,
    );
    if (rule.complementary) parts.push('hidden: withheld so that small counts cannot be worked out');
  }
  if (rule.rounding > 1 || rule.noise > 0) {
    const how = [
      ...(rule.rounding > 1 ? [`rounded to the nearest ${rule.rounding}`] : []),
      ...(rule.noise > 0 ? [`within ±${rule.noise}`] : []),
    ];
    parts.push(`≈: ${how.join(', ')}`);
  }
  if (parts.length === 0) return '';
  const whose =
    rule.preset === null ? 'This dataset’s rule' : `${DISCLOSURE_PRESETS[rule.preset].programme}’s rule`;
  return `${parts.join(' · ')}. ${whose}, for ${TIER_WORDS[disclosure.tier]}.`;
}

/** Styles every chart shares: axes, grid, legend, hatch. @example static override styles = [tokens, chartStyles]; */
export const chartStyles = css`
  :host {
    display: block;
    min-inline-size: 0;
  }
  svg {
    display: block;
    overflow: visible;
    font-family: var(--_font);
  }
  svg:focus {
    outline: none;
  }
  svg:focus-visible {
    outline: 2px solid var(--_accent);
    outline-offset: 4px;
  }
  .grid {
    stroke: var(--_grid);
    stroke-width: 1;
    shape-rendering: crispEdges;
  }
  .baseline,
  .axis {
    stroke: var(--_muted);
    stroke-width: 1;
    shape-rendering: crispEdges;
  }
  .tick,
  .note {
    fill: var(--_muted);
    font-size: 11px;
    font-variant-numeric: tabular-nums;
  }
  .label {
    fill: var(--_text);
    font-size: 13px;
  }
  .title {
    fill: var(--_text);
    font-size: 13px;
    font-weight: 650;
  }
  .hatch-background {
    fill: var(--_background);
  }
  .hatch-line {
    stroke: var(--_suppressed);
    stroke-width: 1.6;
  }
  .legend {
    display: flex;
    flex-wrap: wrap;
    gap: 0.35em 1.1em;
    margin: 0 0 0.75em;
    padding: 0;
    list-style: none;
    color: var(--_muted);
    font-size: 0.857em;
  }
  .legend li {
    display: inline-flex;
    align-items: center;
    gap: 0.45em;
  }
  .swatch {
    inline-size: 0.9em;
    block-size: 0.9em;
    border-radius: 2px;
    background: var(--_bar);
  }
  .swatch.suppressed {
    background: repeating-linear-gradient(45deg, var(--_suppressed) 0 1.5px, var(--_background) 1.5px 4px);
    box-shadow: inset 0 0 0 1px var(--_suppressed);
  }
  table {
    border-collapse: collapse;
    font-size: 0.857em;
    font-variant-numeric: tabular-nums;
  }
  th,
  td {
    padding: 0.3em 0.75em 0.3em 0;
    text-align: end;
    border-block-end: 1px solid var(--_grid);
    white-space: nowrap;
  }
  th:first-child,
  td:first-child {
    text-align: start;
  }
  th {
    color: var(--_muted);
    font-weight: 600;
  }
`;

/**
 * The width a chart has to draw in, kept current by a ResizeObserver: a chart redraws when its width changes
 * (its height follows from what it draws, so redrawing cannot loop).
 *
 * @example
 * #size = new WidthController(this);
 * const width = this.#size.width || 560;
 */
export class WidthController implements ReactiveController {
  width = 0;
  readonly #host: ReactiveControllerHost & HTMLElement;
  #observer: ResizeObserver | undefined;

  constructor(host: ReactiveControllerHost & HTMLElement) {
    this.#host = host;
    host.addController(this);
  }

  hostConnected(): void {
    if (typeof ResizeObserver === 'undefined') return;
    this.#observer = new ResizeObserver((entries) => {
      const width = Math.round(entries[0]?.contentRect.width ?? 0);
      if (width > 0 && Math.abs(width - this.width) >= 1) {
        this.width = width;
        this.#host.requestUpdate();
      }
    });
    this.#observer.observe(this.#host);
  }

  hostDisconnected(): void {
    this.#observer?.disconnect();
    this.#observer = undefined;
  }

  hostUpdate(): void {
    if (this.width === 0 && this.#host.isConnected)
      this.width = Math.round(this.#host.getBoundingClientRect().width);
  }
}
