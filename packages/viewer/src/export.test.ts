import { presetRule } from '@pp-embed/viz-api';
import { describe, expect, it } from 'vitest';
import { pValueText } from './components/pp-survival/pp-survival.js';
import { barchartCsv, fileName, summaryCsv } from './export.js';
import type { BarchartResult, SummaryResult } from './types.js';

const term = (id: string, name: string) => ({ id, name, type: 'categorical', isleaf: true, supported: true });

describe('chart exports', () => {
  it('write a barchart with an overlay cell by cell, hidden counts as the rule shows them, and the rule', () => {
    const chart: BarchartResult = {
      term: term('race', 'Race'),
      term2: term('sex', 'Sex'),
      term0: null,
      series: [
        { key: '1', label: 'Male' },
        { key: '2', label: 'Female' },
      ],
      bars: [],
      total: null,
      cohorts: null,
      filter: [],
      disclosure: {
        tier: 'anonymous',
        rule: presetRule('genomics-england'),
      },
      charts: [
        {
          key: null,
          label: null,
          total: null,
          bars: [
            {
              key: 'W',
              label: 'White, non-Hispanic',
              count: null,
              suppressed: false,
              segments: [
                { key: '1', label: 'Male', count: 40, suppressed: false },
                { key: '2', label: 'Female', count: null, suppressed: false },
              ],
            },
            {
              key: 'O',
              label: '=Other',
              count: null,
              suppressed: true,
              segments: [
                { key: '1', label: 'Male', count: null, suppressed: true },
                { key: '2', label: 'Female', count: 0, suppressed: false },
              ],
            },
          ],
        },
      ],
    };
    expect(barchartCsv(chart).split('\r\n')).toEqual([
      'key,label,term2_key,term2_label,count,hidden,disclosure_tier,disclosure_rule',
      'W,"White, non-Hispanic",1,Male,40,,anonymous,preset=genomics-england;threshold=5;hidden_as=<5;rounding=1;noise=0;complementary=true',
      'W,"White, non-Hispanic",2,Female,hidden,withheld,anonymous,preset=genomics-england;threshold=5;hidden_as=<5;rounding=1;noise=0;complementary=true',
      "O,'=Other,1,Male,<5,suppressed,anonymous,preset=genomics-england;threshold=5;hidden_as=<5;rounding=1;noise=0;complementary=true",
      "O,'=Other,2,Female,0,,anonymous,preset=genomics-england;threshold=5;hidden_as=<5;rounding=1;noise=0;complementary=true",
      '',
    ]);
  });

  it('write a summary group by group, a rounded n as the answer gives it, with the rule', () => {
    const summary: SummaryResult = {
      term: term('agedx', 'Age'),
      term2: null,
      density: null,
      cohorts: null,
      filter: [],
      disclosure: {
        tier: 'anonymous',
        rule: presetRule('opensafely'),
      },
      groups: [
        {
          key: null,
          label: null,
          n: 10,
          suppressed: false,
          density: null,
          stats: {
            mean: 5.5,
            sd: 3,
            min: null,
            max: null,
            q1: 3.25,
            median: 5.5,
            q3: 7.75,
            whiskerLow: 1.45,
            whiskerHigh: 9.55,
          },
        },
      ],
    };
    expect(summaryCsv(summary)).toBe(
      'group,n,hidden,mean,sd,min,q1,median,q3,max,whisker_low,whisker_high,disclosure_tier,disclosure_rule\r\n' +
        'All samples,10,,5.5,3,,3.25,5.5,7.75,,1.45,9.55,anonymous,preset=opensafely;threshold=8;hidden_as=≤7;rounding=5;noise=0;complementary=true\r\n',
    );
  });

  it('name files safely', () => {
    expect(fileName('TermdbTest', 'Age (years) at diagnosis', 'by', 'Sex', 'svg')).toBe(
      'TermdbTest-Age_years_at_diagnosis-by-Sex.svg',
    );
  });
});

describe('p-values', () => {
  it('read as researchers write them', () => {
    expect(pValueText(0.0128)).toBe('p = 0.013');
    expect(pValueText(0.5)).toBe('p = 0.5');
    expect(pValueText(4.169e-5)).toBe('p = 4.2 × 10⁻⁵');
    expect(pValueText(0)).toBe('p < 10⁻¹⁶');
  });
});
