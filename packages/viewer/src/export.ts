/**
 * Exports of what the widget shows: a chart as SVG or PNG (its title and legend included, and the line that says
 * how counts are shown) and its numbers as CSV. They are made from the answer on screen, so they carry the same
 * disclosure control: the CSV is the server's table of that answer (`ANSWER_TABLES`), a hidden count written as the
 * rule shows it (`<5`, `hidden`), never a number, and every row naming the tier and the rule.
 * @module
 */
import { ANSWER_TABLES, csvRow, tableText } from '@pp-embed/viz-api';
import { seriesColor, textWidth } from './components/chart-kit.js';
import type { BarchartResult, SummaryResult, SurvivalResult } from './types.js';

/**
 * The numbers of a barchart as CSV, as the server's CSV answer lays them out: one line per cell (chart, bar,
 * overlay category), hidden counts empty.
 *
 * @example
 * barchartCsv(result); // 'key,label,count,hidden\r\n1,Male,40,\r\n...'
 */
export function barchartCsv(data: BarchartResult): string {
  return tableText('csv', ANSWER_TABLES.barchart(data));
}

/**
 * The statistics of a summary as CSV, one line per group.
 *
 * @example
 * summaryCsv(result); // 'group,n,hidden,mean,...'
 */
export function summaryCsv(data: SummaryResult): string {
  return tableText('csv', ANSWER_TABLES.summary(data));
}

/**
 * The steps of each survival curve as CSV, and the log-rank test in a last line.
 *
 * @example
 * survivalCsv(result); // 'series,time,survival,lower,upper,at_risk,events,censored,hidden\r\n...'
 */
export function survivalCsv(data: SurvivalResult): string {
  const table = tableText('csv', ANSWER_TABLES.survival(data));
  const { logRank } = data;
  return logRank ? table + csvRow([`log-rank chi2 ${logRank.chi2} df ${logRank.df} p ${logRank.p}`]) : table;
}

// Presentation that CSS gives the chart on screen, written into the exported file so that it looks the same
// without the widget's style sheet.
const STYLED = [
  'fill',
  'fill-opacity',
  'stroke',
  'stroke-width',
  'stroke-opacity',
  'opacity',
  'font-family',
  'font-size',
  'font-weight',
  'font-variant-numeric',
  'text-anchor',
  'shape-rendering',
] as const;

/** A legend entry of an exported chart. @example const entry: LegendEntry = { label: 'Female', color: '#e69f00' }; */
export interface LegendEntry {
  label: string;
  color: string;
}

/**
 * A self-contained SVG file of a chart on screen: computed styles inlined, a white background, the title and
 * legend (HTML on screen) drawn above it, and a note (how its counts are shown) below.
 *
 * @example
 * const file = svgFile(chart.shadowRoot.querySelector('svg'), 'Diagnosis by Sex', legend, ruleNote(data.disclosure));
 */
export function svgFile(
  source: SVGSVGElement,
  title: string,
  legend: readonly LegendEntry[],
  note = '',
): { markup: string; width: number; height: number } {
  const clone = source.cloneNode(true) as SVGSVGElement;
  const originals = [source, ...source.querySelectorAll('*')];
  [clone, ...clone.querySelectorAll('*')].forEach((node, i) => {
    const original = originals[i];
    if (!original) return;
    const computed = getComputedStyle(original);
    const style = STYLED.map((p) => `${p}:${computed.getPropertyValue(p)}`).join(';');
    node.setAttribute('style', style);
    node.removeAttribute('class');
  });
  const width = Number(source.getAttribute('width')) || source.clientWidth;
  const chartHeight = Number(source.getAttribute('height')) || source.clientHeight;
  const font = getComputedStyle(source).fontFamily || 'sans-serif';
  // Legend entries flow in rows under the title.
  let x = 0;
  let y = 44;
  const items = legend.map((entry) => {
    const w = 18 + textWidth(entry.label, `12px ${font}`, 12) + 18;
    if (x > 0 && x + w > width) {
      x = 0;
      y += 20;
    }
    const item = `<rect x="${x}" y="${y - 10}" width="11" height="11" rx="2" fill="${entry.color}"/><text x="${x + 16}" y="${y}" font-size="12" font-family="${escapeXml(font)}" fill="#1d2733">${escapeXml(entry.label)}</text>`;
    x += w;
    return item;
  });
  const top = legend.length ? y + 16 : 36;
  const height = top + chartHeight + (note === '' ? 0 : 28);
  clone.setAttribute('x', '0');
  clone.setAttribute('y', String(top));
  clone.removeAttribute('tabindex');
  const markup =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect width="100%" height="100%" fill="#ffffff"/>` +
    `<text x="0" y="20" font-size="15" font-weight="650" font-family="${escapeXml(font)}" fill="#1d2733">${escapeXml(title)}</text>` +
    items.join('') +
    new XMLSerializer().serializeToString(clone) +
    (note === ''
      ? ''
      : `<text x="0" y="${height - 8}" font-size="11" font-family="${escapeXml(font)}" fill="#5b6675">${escapeXml(note)}</text>`) +
    `</svg>`;
  return { markup, width, height };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The legend of a chart for its export: the overlay's or the curves' colours.
 *
 * @example
 * legendOf(barchart); // [{ label: 'Female', color: '#4a7cc9' }, ...]
 */
export function legendOf(data: BarchartResult | SurvivalResult | SummaryResult): LegendEntry[] {
  if ('series' in data && Array.isArray(data.series)) {
    return data.series.map((s, i) => ({
      label: ('label' in s && s.label) || 'All samples',
      color: seriesColor(i),
    }));
  }
  return [];
}

/**
 * The SVG drawn on a canvas at twice its size, as a PNG.
 *
 * @example
 * download(await pngOf(file), 'chart.png');
 */
export async function pngOf(
  file: { markup: string; width: number; height: number },
  scale = 2,
): Promise<Blob> {
  const image = new Image();
  const url = URL.createObjectURL(new Blob([file.markup], { type: 'image/svg+xml' }));
  try {
    image.src = url;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.ceil(file.width * scale);
    canvas.height = Math.ceil(file.height * scale);
    const context = canvas.getContext('2d');
    if (!context) throw new Error('no 2d canvas');
    context.scale(scale, scale);
    context.drawImage(image, 0, 0);
    return await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('PNG encoding failed'))), 'image/png'),
    );
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * Offers `blob` to the user as a download named `name`.
 *
 * @example
 * download(new Blob([csv], { type: 'text/csv' }), 'TermdbTest-sex.csv');
 */
export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.rel = 'noopener';
  link.click();
  // The click starts the download synchronously; the URL is released after this task.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/**
 * A file name from parts: letters, digits, `.`, `_` and `-` kept, anything else replaced.
 *
 * @example
 * fileName('TermdbTest', 'Age at diagnosis', 'svg'); // 'TermdbTest-Age_at_diagnosis.svg'
 */
export function fileName(...parts: string[]): string {
  const extension = parts.pop() ?? '';
  return `${parts.map((p) => p.replace(/[^A-Za-z0-9._-]+/g, '_')).join('-')}.${extension}`;
}
