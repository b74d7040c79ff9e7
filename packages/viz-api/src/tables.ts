/**
 * The aggregated answers as tables: one layout per route, for the server's CSV and TSV answers and the widget's
 * CSV downloads alike. A number the JSON answer hides is an empty field, and `hidden` says why (`suppressed`: below
 * the dataset's `minSampleSize`; `withheld`: shown beside a suppressed one, it would give it away), so a table
 * carries exactly the suppression of the answer it is made from.
 * @module
 */
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

/** The name of a group or a curve: its label, or `All samples` without a split term. */
const groupName = (group: { label: string | null }) => group.label ?? 'All samples';

/** The routes whose answers have a table layout here. @example const route: TableRouteId = 'barchart'; */
export type TableRouteId = 'terms' | 'barchart' | 'summary' | 'survival' | 'search';

/**
 * The table of each aggregated answer:
 * - `terms`: `id`, `name`, `type`, `isleaf`, `supported`, one row per term.
 * - `barchart`: one row per bar, or with `term0` or `term2` one per chart, bar and overlay category:
 *   (`term0_key`, `term0_label`), `key`, `label`, (`term2_key`, `term2_label`), `count`, `hidden`.
 * - `summary`: one row per group: `group`, `n`, `hidden`, `mean`, `sd`, `min`, `q1`, `median`, `q3`, `max`,
 *   `whisker_low`, `whisker_high` (the violins' densities are JSON only).
 * - `survival`: one row per step of each curve: `series`, `time`, `survival`, `lower`, `upper`, `at_risk`,
 *   `events`, `censored`, `hidden`; a curve that is hidden is one row with its name alone.
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
    ];
    const rows = body.charts.flatMap((chart) =>
      chart.bars.flatMap((bar) => {
        const head = [...(divided ? [chart.key, chart.label] : []), bar.key, bar.label];
        const cells = overlaid ? (bar.segments ?? []) : [bar];
        return cells.map((cell) => [
          ...head,
          ...(overlaid ? [cell.key, cell.label] : []),
          cell.count,
          hiddenAs(cell.count, cell.suppressed),
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
    ],
    rows: body.groups.map((g) => [
      groupName(g),
      g.n,
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
    ]),
  }),
  survival: (body) => ({
    header: ['series', 'time', 'survival', 'lower', 'upper', 'at_risk', 'events', 'censored', 'hidden'],
    rows: body.series.flatMap((series): TableField[][] => {
      const { curve } = series;
      const hidden = hiddenAs(series.n, series.suppressed);
      if (curve === null) return [[groupName(series), null, null, null, null, null, null, null, hidden]];
      return curve.time.map((time, i) => [
        groupName(series),
        time,
        curve.survival[i],
        curve.lower[i],
        curve.upper[i],
        curve.atRisk[i],
        curve.events[i],
        curve.censored[i],
        hidden,
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
