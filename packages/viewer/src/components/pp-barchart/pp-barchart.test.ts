import { presetRule } from '@pp-embed/viz-api';
import { afterEach, describe, expect, it } from 'vitest';
import { deepText, until } from '../../../test/browser.js';
import type { BarchartResult } from '../../types.js';
import { defineElements } from '../../define.js';
import type { PpBarchart } from './pp-barchart.js';

defineElements();

// Shaped as before overlays (no panels): the chart draws such data too.
const sex = {
  term: { id: 'sex', name: 'Sex', type: 'categorical', isleaf: true, supported: true },
  bars: [
    { key: '2', label: 'Female', count: 60, suppressed: false },
    { key: '1', label: 'Male', count: 40, suppressed: false },
  ],
  total: 100,
  cohorts: null,
} as unknown as BarchartResult;

const mounted: Element[] = [];
afterEach(() => mounted.splice(0).forEach((element) => element.remove()));

async function mount(data: BarchartResult): Promise<PpBarchart> {
  const chart = document.createElement('pp-barchart');
  chart.style.width = '600px';
  chart.data = data;
  document.body.append(chart);
  mounted.push(chart);
  await chart.updateComplete;
  return chart;
}

const svgOf = (chart: PpBarchart) => chart.shadowRoot?.querySelector<SVGSVGElement>('svg[role="img"]');

describe('<pp-barchart>', () => {
  it('is an image with a sentence that lists every bar', async () => {
    const chart = await mount(sex);
    const svg = svgOf(chart);
    expect(svg?.getAttribute('aria-label')).toBe('Bar chart of Sex: Female 60, Male 40');
    expect(svg?.getAttribute('tabindex')).toBe('0');
    expect(deepText(chart)).toContain('100 samples');
  });

  it('draws bars in proportion to their counts', async () => {
    const chart = await mount(sex);
    const [female, male] = [...(chart.shadowRoot?.querySelectorAll('rect.bar') ?? [])].map((bar) =>
      Number(bar.getAttribute('width')),
    );
    expect(female).toBeGreaterThan(0);
    expect((male ?? 0) / (female ?? 1)).toBeCloseTo(40 / 60, 2);
  });

  it('reads out bars with the arrow keys', async () => {
    const chart = await mount(sex);
    const svg = svgOf(chart);
    svg?.focus();
    svg?.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
    await until(() => chart.shadowRoot?.querySelector('.readout')?.textContent?.includes('Female'));
    expect(chart.shadowRoot?.querySelector('.readout')?.textContent?.replace(/\s+/g, ' ').trim()).toBe(
      'Female: 60 samples (60% of 100)',
    );
    svg?.dispatchEvent(new KeyboardEvent('keydown', { key: 'End', bubbles: true }));
    await until(() => chart.shadowRoot?.querySelector('.readout')?.textContent?.includes('Male'));
    expect(chart.shadowRoot?.querySelectorAll('.row.active')).toHaveLength(1);
  });

  it('labels suppressed cells without a known rule as "suppressed"', async () => {
    const chart = await mount({
      ...sex,
      bars: [...sex.bars, { key: 'x', label: 'Unknown', count: null, suppressed: true }],
      total: null,
    });
    expect(svgOf(chart)?.getAttribute('aria-label')).toBe(
      'Bar chart of Sex: Female 60, Male 40, Unknown suppressed',
    );
    expect(deepText(chart)).toContain('suppressed');
    expect(deepText(chart)).toContain('Total not shown while counts are hidden');
  });

  it("shows hidden and rounded counts as the answer's rule does: ≤7, hidden, ≈ 40", async () => {
    const chart = await mount({
      ...sex,
      bars: [
        { key: '2', label: 'Female', count: 40, suppressed: false },
        { key: '1', label: 'Male', count: null, suppressed: false },
        { key: 'x', label: 'Unknown', count: null, suppressed: true },
      ],
      total: 55,
      disclosure: {
        tier: 'anonymous',
        rule: presetRule('opensafely'),
      },
    });
    const values = [...(chart.shadowRoot?.querySelectorAll('text.value') ?? [])].map((t) => t.textContent);
    expect(values).toEqual(['≈ 40', 'hidden', '≤7']);
    expect(svgOf(chart)?.getAttribute('aria-label')).toBe(
      'Bar chart of Sex: Female about 40, Male hidden, Unknown fewer than 8',
    );
    expect(deepText(chart)).toContain('≈ 55 samples');
  });

  it('renders a sentence, not an exception, for malformed data', async () => {
    const chart = await mount({ term: sex.term, bars: [null], total: 1 } as unknown as BarchartResult);
    expect(deepText(chart)).toBe('This chart could not be drawn.');
  });

  it('shortens labels that do not fit and keeps the full label in a tooltip', async () => {
    const long = 'A diagnosis group with a name far too long to fit beside its bar in a narrow chart';
    const chart = await mount({
      ...sex,
      bars: [{ key: 'l', label: long, count: 12, suppressed: false }],
      total: 12,
    });
    const label = chart.shadowRoot?.querySelector('text.label')?.textContent ?? '';
    expect(label.endsWith('…')).toBe(true);
    expect(label.length).toBeLessThan(long.length);
    expect(chart.shadowRoot?.querySelector('title')?.textContent).toContain(long);
  });
});
