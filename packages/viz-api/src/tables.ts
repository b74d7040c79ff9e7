/**
 * The aggregated answers as tables: one layout per route, for the server's CSV and TSV answers and the widget's
 * CSV downloads alike. A table is made from the answer as the JSON handler returns it, after the disclosure rule:
 * a count the answer hides is written as the rule shows it (`<5` for a small one, `hidden` for a withheld one,
 * never 0 and never an empty field), `hidden` says which (`suppressed` or `withheld`), a rounded or perturbed count
 * is written as the answer gives it, and every row of a table of counts names the caller's tier and the rule.
 * @module
 */
import { type Disclosure, type DisclosureRule, shownAs } from './disclosure.js';
import { type TableField, type TableFormat, tableRow } from './formats.js';
import type { BarchartResult, SummaryResult, SurvivalResult, TermList, TermSearchResult } from './types.js';

/**
 * A table: its column names, then its rows.
 *
 * @example
 * const table: AnswerTable = { header: ['key', 'label'], rows: [['1', 'Male']] };
 */
export interface AnswerTable {
  readonly header: readonly string[];
  readonly rows: readonly (readonly TableField[])[];
}

/**
 * Why a count is not in a table: `''` when it is, else `suppressed` or `withheld`.
 *
 * @example
 * hiddenAs(null, true); // 'suppressed'
 */
export function hiddenAs(count: number | null, suppressed: boolean): '' | 'suppressed' | 'withheld' {
  return count !== null ? '' : suppressed ? 'suppressed' : 'withheld';
}

/**
 * A count as a table holds it: the number as the answer gives it (rounded or perturbed ones included), or for a
 * hidden one the rule's mark (`<5`) or `hidden`, as {@link shownAs} says. An empty field would read as 0.
 *
 * @example
 * countField(null, true, presetRule('genomics-england')); // '<5'
 * countField(40, false, presetRule('opensafely')); // 40
 */
export function countField(
  count: number | null,
  suppressed: boolean,
  rule: DisclosureRule | null,
): TableField {
  return count ?? shownAs(null, suppressed, rule);
}

/**
 * The rule a table's counts went through, as one field: `exact`, or its settings as `name=value` pairs joined with
 * `;` (the preset first, when it comes from one).
 *
 * @example
 * ruleField(null); // 'exact'
 * ruleField(presetRule('genomics-england')); // 'preset=genomics-england;threshold=5;hidden_as=<5;rounding=1;noise=0;complementary=true'
 */
export function ruleField(rule: DisclosureRule | null): string {
  if (rule === null) return 'exact';
  return [
    ...(rule.preset === null ? [] : [`preset=${rule.preset}`]),
    `threshold=${rule.threshold}`,
    `hidden_as=${rule.hiddenAs}`,
    `rounding=${rule.rounding}`,
    `noise=${rule.noise}`,
    `complementary=${rule.complementary}`,
  ].join(';');
}

/** The last two columns of a table of counts, and their fields for an answer's `disclosure`. */
const DISCLOSURE_COLUMNS = ['disclosure_tier', 'disclosure_rule'] as const;
const disclosureFields = (d: Disclosure): TableField[] => [d.tier, ruleField(d.rule)];

/** The name of a group or a curve: its label, or `All samples` without a split term. */
const groupName = (group: { label: string | null }) => group.label ?? 'All samples';

/** The routes whose answers have a table layout here. @example const route: TableRouteId = 'barchart'; */
export type TableRouteId = 'terms' | 'barchart' | 'summary' | 'survival' | 'search';

/**
 * The table of each aggregated answer (the tables of counts end with `disclosure_tier`, `disclosure_rule`):
 * - `terms`: `id`, `name`, `type`, `isleaf`, `supported`, one row per term.
 * - `barchart`: one row per bar, or with `term0` or `term2` one per chart, bar and overlay category:
 *   (`term0_key`, `term0_label`), `key`, `label`, (`term2_key`, `term2_label`), `count`, `hidden`.
 * - `summary`: one row per group: `group`, `n`, `hidden`, `mean`, `sd`, `min`, `q1`, `median`, `q3`, `max`,
 *   `whisker_low`, `whisker_high` (the violins' densities are JSON only).
 * - `survival`: one row per step of each curve: `series`, `n`, `time`, `survival`, `lower`, `upper`, `at_risk`,
 *   `events`, `censored`, `hidden`; a curve that is hidden is one row with its name and `n` alone.
 * - `search`: `id`, `name`, `type`, `supported`, `path` (the ancestors' names joined with ` / `).
 *
 * @example
 * const csv = tableText('csv', ANSWER_TABLES.barchart(result));
 */
export const ANSWER_TABLES: { readonly [R in TableRouteId]: (body: TableBodies[R]) => AnswerTable } = {
  terms: (body) => ({
    header: ['id', 'name', 'type', 'isleaf', 'supported'],
    rows: body.terms.map((t) => [t.id, t.name, t.type, t.isleaf, t.supported]),
  }),
  barchart: (body) => {
    const divided = body.term0 !== null;
    const overlaid = body.term2 !== null;
    const header = [
      ...(divided ? ['term0_key', 'term0_label'] : []),
      'key',
      'label',
      ...(overlaid ? ['term2_key', 'term2_label'] : []),
      'count',
      'hidden',
      ...DISCLOSURE_COLUMNS,
    ];
    const { rule } = body.disclosure;
    const rows = body.charts.flatMap((chart) =>
      chart.bars.flatMap((bar) => {
        const head = [...(divided ? [chart.key, chart.label] : []), bar.key, bar.label];
        const cells = overlaid ? (bar.segments ?? []) : [bar];
        return cells.map((cell) => [
          ...head,
          ...(overlaid ? [cell.key, cell.label] : []),
          countField(cell.count, cell.suppressed, rule),
          hiddenAs(cell.count, cell.suppressed),
          ...disclosureFields(body.disclosure),
        ]);
      }),
    );
    return { header, rows };
  },
  summary: (body) => ({
    header: [
      'group',
      'n',
      'hidden',
      'mean',
      'sd',
      'min',
      'q1',
      'median',
      'q3',
      'max',
      'whisker_low',
      'whisker_high',
      ...DISCLOSURE_COLUMNS,
    ],
    rows: body.groups.map((g) => [
      groupName(g),
      countField(g.n, g.suppressed, body.disclosure.rule),
      hiddenAs(g.n, g.suppressed),
      g.stats?.mean,
      g.stats?.sd,
      g.stats?.min,
      g.stats?.q1,
      g.stats?.median,
      g.stats?.q3,
      g.stats?.max,
      g.stats?.whiskerLow,
      g.stats?.whiskerHigh,
      ...disclosureFields(body.disclosure),
    ]),
  }),
  survival: (body) => ({
    header: [
      'series',
      'n',
      'time',
      'survival',
      'lower',
      'upper',
      'at_risk',
      'events',
      'censored',
      'hidden',
      ...DISCLOSURE_COLUMNS,
    ],
    rows: body.series.flatMap((series): TableField[][] => {
      const { curve } = series;
      const name = groupName(series);
      const n = countField(series.n, series.suppressed, body.disclosure.rule);
      const hidden = hiddenAs(series.n, series.suppressed);
      const disclosure = disclosureFields(body.disclosure);
      if (curve === null) return [[name, n, null, null, null, null, null, null, null, hidden, ...disclosure]];
      return curve.time.map((time, i) => [
        name,
        n,
        time,
        curve.survival[i],
        curve.lower[i],
        curve.upper[i],
        curve.atRisk[i],
        curve.events[i],
        curve.censored[i],
        hidden,
        ...disclosure,
      ]);
    }),
  }),
  search: (body) => ({
    header: ['id', 'name', 'type', 'supported', 'path'],
    rows: body.terms.map((t) => [t.id, t.name, t.type, t.supported, t.path.map((p) => p.name).join(' / ')]),
  }),
};

/** The answer each table is made from. */
export interface TableBodies {
  terms: TermList;
  barchart: BarchartResult;
  summary: SummaryResult;
  survival: SurvivalResult;
  search: TermSearchResult;
}

/**
 * A whole table as text in one format: the header line, then the rows.
 *
 * @example
 * tableText('csv', { header: ['key', 'count'], rows: [['1', 40]] }); // 'key,count\r\n1,40\r\n'
 */
export function tableText(format: TableFormat, table: AnswerTable): string {
  return tableRow(format, table.header) + table.rows.map((row) => tableRow(format, row)).join('');
}
