import { describe, expect, it } from 'vitest';

import { binRanges, layoutBins, MAX_BINS, nextUp, parseBinConfig } from './bins.js';
import type { BinConfig } from './bins.js';

function config(bins: unknown): BinConfig {
  const parsed = parseBinConfig(bins);
  if (parsed === null) throw new Error('expected a valid bin config');
  return parsed;
}

const labels = (cfg: BinConfig, max: number | null) => layoutBins(cfg, max).map((b) => b.label);

describe('regular bins', () => {
  const everyFive = config({ default: { type: 'regular-bin', bin_size: 5, first_bin: { stop: 5 } } });

  it('labels bins the way ProteinPaint does, ending with an open bin at the largest value', () => {
    expect(labels(everyFive, 17)).toEqual(['<5', '5 to <10', '10 to <15', '≥15']);
  });

  it('opens a new last bin when the largest value sits exactly on a bin edge', () => {
    expect(labels(everyFive, 15)).toEqual(['<5', '5 to <10', '10 to <15', '≥15']);
    expect(labels(everyFive, 14.99)).toEqual(['<5', '5 to <10', '≥10']);
  });

  it('keeps a single first bin when every value is below its stop', () => {
    expect(labels(everyFive, 4)).toEqual(['<5']);
  });

  it('has no bins when there is no value to chart', () => {
    expect(layoutBins(everyFive, null)).toEqual([]);
  });

  it('stops at last_bin.start even when values go further', () => {
    const capped = config({
      default: { bin_size: 5, startinclusive: true, first_bin: { stop: 25 }, last_bin: { start: 55 } },
    });
    expect(labels(capped, 90)).toEqual([
      '<25',
      '25 to <30',
      '30 to <35',
      '35 to <40',
      '40 to <45',
      '45 to <50',
      '50 to <55',
      '≥55',
    ]);
  });

  it('shortens the step before last_bin.start when the bin size does not divide the span', () => {
    const uneven = config({ default: { bin_size: 5, first_bin: { stop: 0 }, last_bin: { start: 12 } } });
    expect(labels(uneven, 100)).toEqual(['<0', '0 to <5', '5 to <10', '10 to <12', '≥12']);
  });

  it('applies bins.label_offset as "5 to 9" and bins.rounding as d3 "d"', () => {
    const offset = config({ default: { bin_size: 5, first_bin: { stop: 5 } }, label_offset: 1 });
    expect(labels(offset, 21)).toEqual(['<5', '5 to 9', '10 to 14', '15 to 19', '≥20']);
    const rounded = config({ default: { bin_size: 1262, first_bin: { stop: 1262.76 } }, rounding: 'd' });
    expect(labels(rounded, 3000)).toEqual(['<1263', '1263 to <2525', '≥2525']);
  });

  it('hides binary noise in bin edges', () => {
    const fractional = config({ default: { bin_size: 0.1, first_bin: { stop: 0.1 } } });
    expect(labels(fractional, 0.35)).toEqual(['<0.1', '0.1 to <0.2', '0.2 to <0.3', '≥0.3']);
  });

  it('writes stop-inclusive bins as ">5 to 10" and "≤5"', () => {
    const stopInclusive = config({ default: { bin_size: 5, stopinclusive: true, first_bin: { stop: 5 } } });
    expect(labels(stopInclusive, 12)).toEqual(['≤5', '>5 to 10', '>10']);
  });

  it(`never lays out more than ${MAX_BINS} bins`, () => {
    const tiny = config({ default: { bin_size: 1, first_bin: { stop: 0 } } });
    const bins = layoutBins(tiny, 1e6);
    expect(bins).toHaveLength(MAX_BINS);
    expect(bins.at(-1)?.stop).toBeNull();
  });
});

describe('custom bins', () => {
  it('keeps every bin, labelled from its edges unless it has a label', () => {
    const custom = config({
      default: {
        type: 'custom-bin',
        lst: [
          { startunbounded: true, stop: 18.5, stopinclusive: false, startinclusive: true },
          { start: 18.5, stop: 25, startinclusive: true },
          { start: 25, stop: 30, startinclusive: true, label: 'Overweight' },
          { start: 30, stopunbounded: true, startinclusive: true },
        ],
      },
    });
    expect(labels(custom, null)).toEqual(['<18.5', '18.5 to <25', 'Overweight', '≥30']);
  });

  it('rejects bins that run backwards or leave out required edges', () => {
    const lst = (l: unknown[]) => ({ default: { type: 'custom-bin', lst: l } });
    expect(parseBinConfig(lst([]))).toBeNull();
    expect(
      parseBinConfig(
        lst([
          { stop: 5, startinclusive: true },
          { start: 2, startinclusive: true },
        ]),
      ),
    ).toBeNull();
    expect(parseBinConfig(lst([{ startinclusive: true }]))).toBeNull();
    expect(parseBinConfig(lst([{ stop: 5 }, { start: 5 }]))).toBeNull();
  });
});

describe('bin configs that cannot be charted', () => {
  it.each([
    ['no bins', undefined],
    ['no default', {}],
    ['zero bin size', { default: { bin_size: 0, first_bin: { stop: 1 } } }],
    ['percentile first bin', { default: { bin_size: 5, first_bin: { stop_percentile: 20 } } }],
    [
      'last bin with a stop',
      { default: { bin_size: 5, first_bin: { stop: 5 }, last_bin: { start: 20, stop: 30 } } },
    ],
    ['unknown type', { default: { type: 'log-bin' } }],
  ])('rejects %s', (_, bins) => {
    expect(parseBinConfig(bins)).toBeNull();
  });
});

describe('bin ranges', () => {
  it('turns inclusive and exclusive edges into half-open ranges', () => {
    const [first, second, last] = binRanges([
      { start: null, stop: 5, startinclusive: false, stopinclusive: true, label: '≤5' },
      { start: 5, stop: 10, startinclusive: false, stopinclusive: true, label: '>5 to 10' },
      { start: 10, stop: null, startinclusive: false, stopinclusive: true, label: '>10' },
    ]);
    expect(first).toEqual({ lo: -Infinity, hi: nextUp(5) });
    expect(second).toEqual({ lo: nextUp(5), hi: nextUp(10) });
    expect(last).toEqual({ lo: nextUp(10), hi: Infinity });
  });

  it('gives a value on a shared inclusive edge to the first bin only', () => {
    const [a, b] = binRanges([
      { start: null, stop: 5, startinclusive: true, stopinclusive: true, label: '≤5' },
      { start: 5, stop: null, startinclusive: true, stopinclusive: false, label: '≥5' },
    ]);
    expect(a?.hi).toBe(nextUp(5));
    expect(b?.lo).toBe(nextUp(5));
  });

  it('finds the next double up', () => {
    expect(nextUp(1)).toBe(1 + Number.EPSILON);
    expect(nextUp(0)).toBe(Number.MIN_VALUE);
    expect(nextUp(-1)).toBeGreaterThan(-1);
    expect(nextUp(-1)).toBe(-1 + Number.EPSILON / 2);
  });
});
