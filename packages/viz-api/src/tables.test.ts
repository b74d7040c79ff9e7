import { describe, expect, it } from 'vitest';
import { presetRule } from './disclosure.js';
import { ANSWER_TABLES, countField, hiddenAs, ruleField, tableText } from './tables.js';
import type { BarchartResult, SurvivalResult } from './types.js';

const term = (id: string, name: string) => ({ id, name, type: 'categorical', isleaf: true, supported: true });

const barchart = (split: Partial<BarchartResult>): BarchartResult => ({
  term: term('race', 'Race'),
  term2: null,
  term0: null,
  series: null,
  bars: [],
  total: null,
  cohorts: null,
  filter: [],
  charts: [],
  disclosure: { tier: 'granted', rule: null },
  ...split,
});

const GE = 'preset=genomics-england;threshold=5;hidden_as=<5;rounding=1;noise=0;complementary=true';

describe('the tables of the aggregated answers', () => {
  it('write a hidden count as the rule shows it, never as an empty field or 0, and a rounded one as given', () => {
    const opensafely = presetRule('opensafely');
    expect(countField(null, true, opensafely)).toBe('≤7');
    expect(countField(null, false, opensafely)).toBe('hidden');
    expect(countField(null, true, null)).toBe('hidden');
    expect(countField(40, false, opensafely)).toBe(40);
    expect(countField(0, false, opensafely)).toBe(0);
    expect(ruleField(null)).toBe('exact');
    expect(ruleField(presetRule('genomics-england'))).toBe(GE);
    expect(ruleField({ ...opensafely, preset: null, rounding: 10 })).toBe(
      'threshold=8;hidden_as=≤7;rounding=10;noise=0;complementary=true',
    );
  });

  it('say why a count is hidden, and nothing for a count that is shown', () => {
    expect([hiddenAs(3, false), hiddenAs(null, true), hiddenAs(null, false)]).toEqual([
      '',
      'suppressed',
      'withheld',
    ]);
  });

  it('lay a barchart out one row per bar, with the columns of the divide-by and overlay terms it has', () => {
    const bar = { key: 'W', label: 'White', count: 40, suppressed: false };
    const plain = barchart({
      charts: [{ key: null, label: null, total: 40, bars: [{ ...bar, segments: null }] }],
    });
    expect(tableText('csv', ANSWER_TABLES.barchart(plain))).toBe(
      'key,label,count,hidden,disclosure_tier,disclosure_rule\r\nW,White,40,,granted,exact\r\n',
    );

    const split = barchart({
      disclosure: { tier: 'anonymous', rule: presetRule('genomics-england') },
      term2: term('sex', 'Sex'),
      term0: term('arm', 'Arm'),
      charts: [
        {
          key: 'A',
          label: 'Arm A',
          total: null,
          bars: [
            {
              ...bar,
              segments: [
                { key: '1', label: 'Male', count: null, suppressed: true },
                { key: '2', label: 'Female', count: null, suppressed: false },
              ],
            },
          ],
        },
      ],
    });
    expect(ANSWER_TABLES.barchart(split)).toEqual({
      header: [
        'term0_key',
        'term0_label',
        'key',
        'label',
        'term2_key',
        'term2_label',
        'count',
        'hidden',
        'disclosure_tier',
        'disclosure_rule',
      ],
      rows: [
        ['A', 'Arm A', 'W', 'White', '1', 'Male', '<5', 'suppressed', 'anonymous', GE],
        ['A', 'Arm A', 'W', 'White', '2', 'Female', 'hidden', 'withheld', 'anonymous', GE],
      ],
    });
  });

  it('lay a survival chart out one row per step, and a hidden curve as its name alone', () => {
    const survival: SurvivalResult = {
      term: term('os', 'Overall survival'),
      term2: term('sex', 'Sex'),
      unit: 'years',
      atRiskTimes: [],
      logRank: null,
      cohorts: null,
      filter: [],
      disclosure: { tier: 'anonymous', rule: presetRule('genomics-england') },
      series: [
        {
          key: '1',
          label: 'Male',
          n: 2,
          events: 1,
          suppressed: false,
          truncatedAt: null,
          atRisk: [],
          sampled: false,
          curve: {
            time: [0, 2.5],
            survival: [1, 0.5],
            lower: [1, 0.1],
            upper: [1, 0.9],
            atRisk: [2, 1],
            events: [0, 1],
            censored: [0, 0],
          },
        },
        {
          key: '2',
          label: 'Female',
          n: null,
          events: null,
          suppressed: true,
          truncatedAt: null,
          atRisk: [],
          sampled: false,
          curve: null,
        },
      ],
    };
    expect(tableText('tsv', ANSWER_TABLES.survival(survival)).split('\n')).toEqual([
      'series\tn\ttime\tsurvival\tlower\tupper\tat_risk\tevents\tcensored\thidden\tdisclosure_tier\tdisclosure_rule',
      `Male\t2\t0\t1\t1\t1\t2\t0\t0\t\tanonymous\t${GE}`,
      `Male\t2\t2.5\t0.5\t0.1\t0.9\t1\t1\t0\t\tanonymous\t${GE}`,
      `Female\t<5\t\t\t\t\t\t\t\tsuppressed\tanonymous\t${GE}`,
      '',
    ]);
  });
});
