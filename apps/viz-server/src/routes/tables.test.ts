// CSV and TSV answers of the dataset routes, through the real app over the generated dataset.
import { ANSWER_TABLES, type AnswerTable, type BarchartResult, tableText } from '@pp-embed/viz-api';
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

  it('gives a barchart as the table of the JSON answer under its rule: a hidden count as the rule shows it, and the rule', async () => {
    const anonymous = await h.get('/termdb/barchart?dslabel=PPDemo&term=diaggrp&format=tsv');
    const json = (await body(
      await h.get('/termdb/barchart?dslabel=PPDemo&term=diaggrp'),
    )) as unknown as BarchartResult;
    expect(json.disclosure).toMatchObject({ tier: 'anonymous', rule: { threshold: 5, hiddenAs: '<5' } });
    const text = await anonymous.text();
    expect(text).toBe(tableText('tsv', ANSWER_TABLES.barchart(json)));
    const [header, ...rows] = tsvLines(text);
    expect(header).toEqual(['key', 'label', 'count', 'hidden', 'disclosure_tier', 'disclosure_rule']);
    expect(rows.map((r) => r[0])).toEqual(json.bars.map((b) => b.key));
    // Never an empty count, which a spreadsheet or pandas would read as 0 or missing: the rule's mark.
    expect(rows.some((r) => r[3] === 'suppressed' && r[2] === '<5')).toBe(true);
    expect(rows.every((r) => r[2] !== '')).toBe(true);
    expect(new Set(rows.map((r) => `${r[4]} ${r[5]}`))).toEqual(
      new Set(['anonymous threshold=5;hidden_as=<5;rounding=1;noise=0;complementary=true']),
    );
    // A caller who sees exact counts gets exact counts, and the table says so.
    const granted = tsvLines(
      await (
        await h.get('/termdb/barchart?dslabel=PPDemo&term=diaggrp&format=tsv', { token: h.token() })
      ).text(),
    );
    expect(
      granted.slice(1).every((r) => /^\d+$/.test(r[2] ?? '') && r[4] === 'granted' && r[5] === 'exact'),
    ).toBe(true);
  });

  it('gives the term tree as CSV', async () => {
    const res = await h.get('/termdb/terms?dslabel=PPDemo&format=csv');
    const lines = (await res.text()).split('\r\n').filter((line) => line !== '');
    expect(lines[0]).toBe('id,name,type,isleaf,supported');
    const json = (await body(await h.get('/termdb/terms?dslabel=PPDemo'))) as { terms: { id: string }[] };
    expect(lines.slice(1).map((line) => line.split(',')[0])).toEqual(json.terms.map((t) => t.id));
  });

  it('gives every aggregated answer as the table of its JSON answer, the filter and split terms applied', async () => {
    const female = encodeURIComponent(JSON.stringify([{ term: 'sex', values: ['2'] }]));
    const queries = [
      ['barchart', 'term=diaggrp&term2=sex&term0=treatment_arm'],
      ['barchart', `term=diaggrp&term2=race&filter=${female}`],
      ['summary', 'term=bmi&term2=sex'],
      ['survival', 'term=os&term2=sex'],
      ['search', 'q=age'],
    ] as const;
    for (const [route, query] of queries) {
      const path = `/termdb/${route}?dslabel=PPDemo&${query}`;
      const json = await body(await h.get(path));
      const table = (ANSWER_TABLES[route] as (b: unknown) => AnswerTable)(json);
      expect(table.rows.length, path).toBeGreaterThan(0);
      const tsv = await h.get(path, { headers: { accept: 'text/tab-separated-values' } });
      expect(tsv.headers.get('content-disposition'), path).toBe(`attachment; filename="PPDemo-${route}.tsv"`);
      expect(await tsv.text(), path).toBe(tableText('tsv', table));
      expect(await (await h.get(`${path}&format=csv`)).text(), path).toBe(tableText('csv', table));
    }
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
