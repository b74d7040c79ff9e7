// CSV and TSV answers of the dataset routes, through the real app over the generated dataset.
import type { BarchartResult, SummaryResult, SurvivalResult, TermSearchResult } from '@pp-embed/viz-api';
import { describe, expect, it } from 'vitest';
import { body, harness } from '../../test/harness.js';

/** Every sample row of the JSON answer, page after page. */
async function pagedRows(h: ReturnType<typeof harness>, token: string, query: string) {
  const rows: { sample: string; value: string | number }[] = [];
  for (let page = 1; ; page++) {
    const res = await h.get(`/termdb/samples?dslabel=PPDemo&${query}&page=${page}&pageSize=500`, { token });
    const json = (await body(res)) as { rows: typeof rows; total: number };
    rows.push(...json.rows);
    if (rows.length >= json.total) return rows;
  }
}

function tsvLines(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t'));
}

describe('tables: CSV and TSV answers', () => {
  const h = harness();

  it('streams every row of the sample table as TSV, the same rows and order as the JSON pages', async () => {
    const token = h.token();
    const res = await h.get('/termdb/samples?dslabel=PPDemo&term=agedx&format=tsv', { token });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/tab-separated-values; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="PPDemo-agedx.tsv"');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('vary')).toContain('Accept');
    const [header, ...rows] = tsvLines(await res.text());
    expect(header).toEqual(['sample', 'Age at diagnosis (years)']);
    const paged = await pagedRows(h, token, 'term=agedx');
    expect(paged.length).toBeGreaterThan(1000);
    expect(rows).toEqual(paged.map((r) => [r.sample, String(r.value)]));
  });

  it('answers CSV when the Accept header asks for it, within the token’s cohorts', async () => {
    const token = h.token({ clientAuthResult: { cohorts: ['ALPHA'] } });
    const res = await h.get('/termdb/samples?dslabel=PPDemo&term=sex', {
      token,
      headers: { accept: 'text/csv' },
    });
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    const lines = (await res.text()).split('\r\n').filter((line) => line !== '');
    expect(lines[0]).toBe('sample,Sex');
    const paged = await pagedRows(h, token, 'term=sex');
    expect(lines.slice(1)).toEqual(paged.map((r) => `${r.sample},${r.value}`));
  });

  it('writes one audit line per table, with every row it holds', async () => {
    const before = h.audit.length;
    const res = await h.get('/termdb/samples?dslabel=PPDemo&term=race&format=csv', { token: h.token() });
    const rows = (await res.text()).split('\r\n').filter((line) => line !== '').length - 1;
    expect(h.audit.slice(before)).toEqual([
      expect.objectContaining({ route: 'termdb/samples', samples: rows }),
    ]);
  });

  it('needs the same token as the JSON answer', async () => {
    const res = await h.get('/termdb/samples?dslabel=PPDemo&term=sex&format=tsv');
    expect(res.status).toBe(401);
    expect(await body(res)).toMatchObject({ error: { code: 'token_missing' } });
  });

  it('refuses page and pageSize with a table, and an unknown format, with bad_request', async () => {
    for (const query of ['format=tsv&page=2', 'format=csv&pageSize=10', 'format=xlsx', 'format=TSV']) {
      const res = await h.get(`/termdb/samples?dslabel=PPDemo&term=sex&${query}`, { token: h.token() });
      expect(res.status, query).toBe(400);
      expect(await body(res)).toMatchObject({ error: { code: 'bad_request' } });
    }
  });

  it('answers JSON, paged, when neither the parameter nor Accept asks for a table', async () => {
    const res = await h.get('/termdb/samples?dslabel=PPDemo&term=sex', {
      token: h.token(),
      headers: { accept: 'application/json, text/plain, */*' },
    });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await body(res)).toMatchObject({ page: 1, pageSize: 50 });
  });

  it('gives a barchart as a table, a suppressed count empty beside suppressed=true', async () => {
    const anonymous = await h.get('/termdb/barchart?dslabel=PPDemo&term=diaggrp&format=tsv');
    const json = (await body(await h.get('/termdb/barchart?dslabel=PPDemo&term=diaggrp'))) as {
      bars: { key: string; label: string; count: number | null; suppressed: boolean }[];
    };
    const [header, ...rows] = tsvLines(await anonymous.text());
    expect(header).toEqual(['key', 'label', 'count', 'suppressed']);
    expect(rows).toEqual(
      json.bars.map((b) => [b.key, b.label, b.count === null ? '' : String(b.count), String(b.suppressed)]),
    );
    expect(rows.some((r) => r[3] === 'true' && r[2] === '')).toBe(true);
  });

  it('gives the term tree as CSV', async () => {
    const res = await h.get('/termdb/terms?dslabel=PPDemo&format=csv');
    const lines = (await res.text()).split('\r\n').filter((line) => line !== '');
    expect(lines[0]).toBe('id,name,type,isleaf,supported');
    const json = (await body(await h.get('/termdb/terms?dslabel=PPDemo'))) as { terms: { id: string }[] };
    expect(lines.slice(1).map((line) => line.split(',')[0])).toEqual(json.terms.map((t) => t.id));
  });

  it('gives a barchart with an overlay and a divide-by term as one row per chart, bar and overlay category', async () => {
    const query = 'dslabel=PPDemo&term=diaggrp&term2=sex&term0=treatment_arm';
    const json = (await body(await h.get(`/termdb/barchart?${query}`))) as unknown as BarchartResult;
    const [header, ...rows] = tsvLines(await (await h.get(`/termdb/barchart?${query}&format=tsv`)).text());
    expect(header).toEqual([
      'term0_key',
      'term0_label',
      'key',
      'label',
      'term2_key',
      'term2_label',
      'count',
      'suppressed',
    ]);
    const expected = json.charts.flatMap((chart) =>
      chart.bars.flatMap((bar) =>
        (bar.segments ?? []).map((s) => [
          chart.key,
          chart.label,
          bar.key,
          bar.label,
          s.key,
          s.label,
          s.count === null ? '' : String(s.count),
          String(s.suppressed),
        ]),
      ),
    );
    expect(expected.length).toBeGreaterThan(json.charts.length);
    expect(rows).toEqual(expected);
    // A filter narrows the table as it narrows the chart.
    const female = encodeURIComponent(JSON.stringify([{ term: 'sex', values: ['2'] }]));
    const filtered = tsvLines(
      await (await h.get(`/termdb/barchart?${query}&filter=${female}&format=tsv`)).text(),
    );
    expect(filtered.slice(1).every((r) => r[4] === '2')).toBe(true);
  });

  it('gives a summary as one row per group and a survival chart as one row per step of each curve', async () => {
    const summary = (await body(
      await h.get('/termdb/summary?dslabel=PPDemo&term=bmi&term2=sex'),
    )) as unknown as SummaryResult;
    const [sHeader, ...sRows] = tsvLines(
      await (await h.get('/termdb/summary?dslabel=PPDemo&term=bmi&term2=sex&format=tsv')).text(),
    );
    expect(sHeader?.slice(0, 5)).toEqual(['group', 'n', 'suppressed', 'mean', 'sd']);
    expect(sRows.map((r) => [r[0], r[1], r[7]])).toEqual(
      summary.groups.map((g) => [g.label, String(g.n), String(g.stats?.median)]),
    );

    const survival = (await body(
      await h.get('/termdb/survival?dslabel=PPDemo&term=os&term2=sex'),
    )) as unknown as SurvivalResult;
    const [vHeader, ...vRows] = tsvLines(
      await (
        await h.get('/termdb/survival?dslabel=PPDemo&term=os&term2=sex', {
          headers: { accept: 'text/tab-separated-values' },
        })
      ).text(),
    );
    expect(vHeader).toEqual([
      'series',
      'time',
      'survival',
      'lower',
      'upper',
      'at_risk',
      'events',
      'censored',
      'suppressed',
    ]);
    const steps = survival.series.flatMap((series) =>
      (series.curve?.time ?? []).map((time, i) => [
        series.label,
        String(time),
        String(series.curve?.survival[i]),
      ]),
    );
    expect(steps.length).toBeGreaterThan(10);
    expect(vRows.map((r) => r.slice(0, 3))).toEqual(steps);
  });

  it('gives the search answer as a table, each term with its place in the tree', async () => {
    const json = (await body(
      await h.get('/termdb/search?dslabel=PPDemo&q=age'),
    )) as unknown as TermSearchResult;
    const lines = (await (await h.get('/termdb/search?dslabel=PPDemo&q=age&format=csv')).text())
      .split('\r\n')
      .filter(Boolean);
    expect(lines[0]).toBe('id,name,type,supported,path');
    expect(json.terms.length).toBeGreaterThan(0);
    expect(lines.slice(1).map((line) => line.split(',')[0])).toEqual(json.terms.map((t) => t.id));
  });

  it('streams the sample table of the filter, as the JSON pages hold it', async () => {
    const token = h.token();
    const female = encodeURIComponent(JSON.stringify([{ term: 'sex', values: ['2'] }]));
    const [, ...rows] = tsvLines(
      await (
        await h.get(`/termdb/samples?dslabel=PPDemo&term=agedx&filter=${female}&format=tsv`, { token })
      ).text(),
    );
    const paged = await pagedRows(h, token, `term=agedx&filter=${female}`);
    expect(paged.length).toBeGreaterThan(100);
    expect(rows).toEqual(paged.map((r) => [r.sample, String(r.value)]));
  });
});
