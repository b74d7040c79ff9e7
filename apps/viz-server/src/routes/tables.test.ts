// CSV and TSV answers of the dataset routes, through the real app over the generated dataset.
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicy } from '@pp-embed/access-policy';
import { proxyTrust } from '@pp-embed/client-address';
import { silentLogger } from '@pp-embed/server-runtime';
import { describe, expect, it } from 'vitest';
import { body, harness } from '../../test/harness.js';
import { createApp } from '../app.js';
import { openDataset, SAMPLE_BATCH } from '../termdb/dataset.js';
import { generateDataset } from '../termdb/generate.js';
import { DatasetRegistry } from '../termdb/registry.js';

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
});

describe('a streamed table and a dataset update', () => {
  it('finishes on the file it started on when a new file is renamed in meanwhile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-tables-'));
    const file = join(dir, 'Demo.db');
    const next = join(dir, 'next.db');
    generateDataset({ file, samples: 12_000, seed: 3 });
    generateDataset({ file: next, samples: 500, seed: 4 });
    const registry = new DatasetRegistry(
      new Map([['Demo', openDataset({ label: 'Demo', genome: 'hg38', file, minSampleSize: null })]]),
      { log: silentLogger, watch: false, settleMs: 10 },
    );
    try {
      const app = createApp({
        datasets: registry,
        access: { policy: loadPolicy(undefined, { baseDir: dir }) },
        proxies: proxyTrust([]),
        bundle: undefined,
        log: silentLogger,
        audit: () => undefined,
      });
      const res = await app.request('/termdb/samples?dslabel=Demo&term=agedx&format=tsv');
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = decoder.decode((await reader.read()).value);
      // The handler has returned and the body is mid-way: the update swaps the file and retires the old one,
      // which stays open for the stream that holds it.
      renameSync(next, file);
      await registry.check();
      const fresh = await app.request('/termdb/samples?dslabel=Demo&term=agedx&format=tsv');
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      const old = text.split('\n').filter((line) => line !== '').length - 1;
      const updated = (await fresh.text()).split('\n').filter((line) => line !== '').length - 1;
      expect(old).toBeGreaterThan(SAMPLE_BATCH);
      expect(updated).toBeLessThan(500);
    } finally {
      registry.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
