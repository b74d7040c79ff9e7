// The chart routes over HTTP: every one behind the same access decision, every number through the caller's
// scope, every bad request a 4xx with a stable code.
import { createHmac } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { FORMAT_MEDIA_TYPES } from '@pp-embed/viz-api';
import Database from 'better-sqlite3';
import { createSigner, generateSecret } from '@pp-embed/dataset-token';
import { describe, expect, it } from 'vitest';

import { body, demoDataset, errorCode, harness, PORTAL } from '../../test/harness.js';
import { writeTermdb } from '../../test/termdb-file.js';
import { generateDataset } from '../termdb/generate.js';

const q = (params: Record<string, string>) =>
  new URLSearchParams({ dslabel: 'PPDemo', ...params }).toString();
const female = JSON.stringify([{ term: 'sex', values: ['2'] }]);

function sql<T>(query: string, ...params: unknown[]): T {
  const db = new Database(demoDataset(), { readonly: true });
  try {
    return db.prepare(query).get(...params) as T;
  } finally {
    db.close();
  }
}

describe('chart routes', () => {
  const h = harness();

  it('serve summaries, survival curves and search without a token under a termdb credential', async () => {
    for (const path of [
      `/termdb/summary?${q({ term: 'bmi', term2: 'sex' })}`,
      `/termdb/survival?${q({ term: 'os', term2: 'treatment_arm' })}`,
      `/termdb/search?${q({ q: 'age' })}`,
      `/termdb/barchart?${q({ term: 'diaggrp', term2: 'sex', term0: 'treatment_arm', filter: female })}`,
    ]) {
      const res = await h.get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('cache-control'), path).toBe('no-store');
    }
  });

  it('apply small-cell suppression for a caller without a token, and lift it for a verified one', async () => {
    const path = `/termdb/summary?${q({ term: 'bmi', term2: 'diaggrp' })}`;
    const anonymous = (await body(await h.get(path))).groups as {
      key: string;
      n: number | null;
      stats: { min: number | null } | null;
    }[];
    const verified = (await body(await h.get(path, { token: h.token() }))).groups as typeof anonymous;
    expect(anonymous.find((g) => g.key === 'CML')).toMatchObject({ n: null, stats: null });
    expect(anonymous.find((g) => g.key === 'ALL')?.stats?.min).toBeNull();
    expect(verified.find((g) => g.key === 'CML')?.n).toBeGreaterThan(0);
    expect(verified.find((g) => g.key === 'ALL')?.stats?.min).not.toBeNull();
  });

  it("restrict every chart to the token's cohorts", async () => {
    const token = h.token({ clientAuthResult: { cohorts: ['BETA'] } });
    const { n } = sql<{ n: number }>(
      `SELECT count(*) AS n FROM survival WHERE term_id = 'os'
          AND sample IN (SELECT sample FROM subcohort_samples WHERE subcohort = 'BETA')`,
    );
    const survival = await body(await h.get(`/termdb/survival?${q({ term: 'os' })}`, { token }));
    expect((survival.series as { n: number }[])[0]?.n).toBe(n);
    expect(survival.cohorts).toEqual(['BETA']);
    const summary = await body(await h.get(`/termdb/summary?${q({ term: 'agedx' })}`, { token }));
    const { m } = sql<{ m: number }>(
      `SELECT count(*) AS m FROM anno_integer WHERE term_id = 'agedx'
          AND sample IN (SELECT sample FROM subcohort_samples WHERE subcohort = 'BETA')`,
    );
    expect((summary.groups as { n: number }[])[0]?.n).toBe(m);
  });

  it('apply a filter within the grant, and echo it', async () => {
    const res = await body(
      await h.get(`/termdb/barchart?${q({ term: 'sex', filter: female })}`, { token: h.token() }),
    );
    expect((res.bars as { key: string }[]).map((b) => b.key)).toEqual(['2']);
    expect(res.filter).toEqual(JSON.parse(female));
    const samples = await body(
      await h.get(`/termdb/samples?${q({ term: 'race', filter: female, pageSize: '5' })}`, {
        token: h.token(),
      }),
    );
    const { n } = sql<{ n: number }>(
      `SELECT count(*) AS n FROM anno_categorical WHERE term_id = 'race' AND value <> '-9999'
          AND sample IN (SELECT sample FROM anno_categorical WHERE term_id = 'sex' AND value = '2')`,
    );
    expect(samples.total).toBe(n);
  });

  it('find terms by name, with their place in the tree', async () => {
    const res = await body(await h.get(`/termdb/search?${q({ q: 'diagnosis' })}`));
    expect(res.terms).toContainEqual(
      expect.objectContaining({ id: 'agedx', path: [{ id: 'demographics', name: 'Demographics' }] }),
    );
    expect((res.terms as { isleaf: boolean }[]).every((t) => t.isleaf)).toBe(true);
    expect(res.total).toBe((res.terms as unknown[]).length);
  });

  describe('refuse bad requests with a stable code and a sentence, never a 500', () => {
    it.each([
      [
        `/termdb/barchart?${q({ term: 'sex', filter: '[{"term":"sex"' })}`,
        400,
        'filter_invalid',
        'filter must be a JSON array of clauses.',
      ],
      [
        `/termdb/barchart?${q({ term: 'sex', filter: '[{"term":"nope","values":["1"]}]' })}`,
        400,
        'filter_invalid',
        'filter[0] names a term that cannot be filtered on.',
      ],
      [
        `/termdb/barchart?${q({ term: 'sex', filter: '[{"term":"race","values":["Martian"]}]' })}`,
        400,
        'filter_invalid',
        'filter[0] lists a category its term does not have.',
      ],
      [
        `/termdb/barchart?${q({ term: 'sex', filter: '[{"term":"agedx","gt":"x"}]' })}`,
        400,
        'filter_invalid',
        'filter[0].gt must be a finite number.',
      ],
      [
        `/termdb/barchart?${q({ term: 'sex', term2: 'os' })}`,
        400,
        'term_wrong_type',
        'term2 must be a categorical, integer or float term.',
      ],
      [
        `/termdb/barchart?${q({ term: 'sex', term2: 'sex' })}`,
        400,
        'term_wrong_type',
        'term2 must differ from the other terms of the chart.',
      ],
      [
        `/termdb/barchart?${q({ term: 'os' })}`,
        400,
        'term_wrong_type',
        'term must be a categorical, integer or float term.',
      ],
      [
        `/termdb/summary?${q({ term: 'sex' })}`,
        400,
        'term_wrong_type',
        'A summary needs an integer or float term.',
      ],
      [
        `/termdb/survival?${q({ term: 'agedx' })}`,
        400,
        'term_wrong_type',
        'A survival chart needs a survival term.',
      ],
      [
        `/termdb/survival?${q({ term: 'os', term2: 'nope' })}`,
        404,
        'term_not_found',
        'No term with this id exists in the dataset.',
      ],
      [`/termdb/search?${q({})}`, 400, 'bad_request', 'q is required.'],
    ])('%s → %i %s', async (path, status, code, message) => {
      const res = await h.get(path);
      expect(res.status).toBe(status);
      expect((await body(res)).error).toEqual({ code, message });
    });
  });

  describe('/termdb/export', () => {
    it('is sample-level: refused without a token', async () => {
      const res = await h.get(`/termdb/export?${q({ term: 'sex' })}`);
      expect(res.status).toBe(401);
      expect(await errorCode(res)).toBe('token_missing');
    });

    it("streams the sample table as CSV within the token's cohorts and the filter, and audits it", async () => {
      const token = h.token({ clientAuthResult: { cohorts: ['ALPHA'] } });
      const res = await h.get(`/termdb/export?${q({ term: 'race', filter: female })}`, { token });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(FORMAT_MEDIA_TYPES.csv);
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="PPDemo-race.csv"');
      expect(res.headers.get('access-control-allow-origin')).toBe(PORTAL);
      const lines = (await res.text()).split('\r\n').filter(Boolean);
      const { n } = sql<{ n: number }>(
        `SELECT count(*) AS n FROM anno_categorical WHERE term_id = 'race' AND value <> '-9999'
            AND sample IN (SELECT sample FROM anno_categorical WHERE term_id = 'sex' AND value = '2')
            AND sample IN (SELECT sample FROM subcohort_samples WHERE subcohort = 'ALPHA')`,
      );
      expect(lines[0]).toBe('sample,Race');
      expect(lines).toHaveLength(n + 1);
      expect(lines[1]).toMatch(/^S\d{7},/);
      expect(h.audit.at(-1)).toMatchObject({ route: 'termdb/export', samples: n, email: 'ana@example.org' });
    });

    it('reads every row from the file it started on, even when a new file is swapped in meanwhile', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pp-export-swap-'));
      const file = join(dir, 'PPDemo.db');
      const next = join(dir, 'next.db');
      // Enough rows for several batches, so that some are read after the swap.
      generateDataset({ file, samples: 12_000, seed: 21 });
      generateDataset({ file: next, samples: 300, seed: 22 });
      const served = harness({ datasets: [{ label: 'PPDemo', genome: 'hg38', file, minSampleSize: 5 }] });
      const token = served.token();
      const path = `/termdb/export?${q({ term: 'sex' })}`;
      const whole = await (await served.get(path, { token })).text();
      expect(whole.split('\r\n').length).toBeGreaterThan(2 * 5000);

      const res = await served.get(path, { token });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let text = '';
      const first = await reader.read();
      text += decoder.decode(first.value, { stream: true });
      renameSync(next, file);
      await served.datasets.check();
      expect(served.logs.some((line) => line.includes('"event":"dataset_swapped"'))).toBe(true);
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        text += decoder.decode(chunk.value, { stream: true });
      }
      expect(text).toBe(whole);
      // New requests read the new file.
      const after = await (await served.get(path, { token })).text();
      expect(after.split('\r\n').length).toBeLessThan(400);
      served.datasets.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('matches the sample table row for row', async () => {
      const token = h.token();
      const csv = (await (await h.get(`/termdb/export?${q({ term: 'bmi' })}`, { token })).text())
        .split('\r\n')
        .slice(1, 11);
      const page = await body(
        await h.get(`/termdb/samples?${q({ term: 'bmi', pageSize: '10' })}`, { token }),
      );
      expect(csv).toEqual(
        (page.rows as { sample: string; value: number }[]).map((r) => `${r.sample},${r.value}`),
      );
    });
  });
});

describe('disclosure tiers over HTTP', () => {
  // Anonymous callers under Genomics England's rule, signed-in ones (a token with access "signedIn") under a
  // threshold of 3, callers with a grant (a token without the claim) exact counts.
  const h = harness({
    datasets: [
      {
        label: 'PPDemo',
        genome: 'hg38',
        file: demoDataset(),
        disclosure: { anonymous: 'genomics-england', signedIn: { threshold: 3 } },
      },
    ],
  });
  const path = `/termdb/barchart?${q({ term: 'diaggrp', term2: 'sex' })}`;

  it('answers each tier under its rule, and says which in the answer', async () => {
    const anonymous = await body(await h.get(path));
    expect(anonymous.disclosure).toMatchObject({
      tier: 'anonymous',
      rule: { preset: 'genomics-england', threshold: 5, hiddenAs: '<5' },
    });
    const signedIn = await body(await h.get(path, { token: h.token({ access: 'signedIn' }) }));
    expect(signedIn.disclosure).toMatchObject({ tier: 'signedIn', rule: { threshold: 3, preset: null } });
    const granted = await body(await h.get(path, { token: h.token() }));
    expect(granted.disclosure).toEqual({ tier: 'granted', rule: null });
    // What a lower tier shows, a higher one shows too, with the same value.
    const bars = (answer: Record<string, unknown>) =>
      new Map((answer.bars as { key: string; count: number | null }[]).map((b) => [b.key, b.count]));
    const [low, mid, high] = [bars(anonymous), bars(signedIn), bars(granted)];
    for (const [key, count] of low) {
      if (count !== null) expect([mid.get(key), high.get(key)], key).toEqual([count, count]);
    }
    for (const [key, count] of mid) if (count !== null) expect(high.get(key), key).toBe(count);
  });

  it('refuses rows to a signed-in caller without a grant: grant_required', async () => {
    const res = await h.get(`/termdb/samples?${q({ term: 'sex' })}`, {
      token: h.token({ access: 'signedIn' }),
    });
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe('grant_required');
    expect((await h.get(`/termdb/samples?${q({ term: 'sex' })}`, { token: h.token() })).status).toBe(200);
  });

  it('lets nothing a caller sends switch its rule off: parameters, headers and tokens it cannot vouch for', async () => {
    const anonymous = await body(await h.get(path));
    const forger = createSigner({ algorithm: 'HS256', key: { secret: generateSecret() } });
    const past = createSigner({
      algorithm: 'HS256',
      key: { secret: h.secret },
      now: () => Date.now() - 3_600_000,
    });
    // Signed with the right key, but with an access level no signer of ours writes.
    const part = (json: object) => Buffer.from(JSON.stringify(json)).toString('base64url');
    const iat = Math.floor(Date.now() / 1000);
    const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ datasets: ['PPDemo'], email: 'x@example.org', iat, exp: iat + 600, access: 'exact' })}`;
    const unknownAccess = `${unsigned}.${createHmac('sha256', h.secret).update(unsigned).digest('base64url')}`;
    const rows = await h.get(`/termdb/samples?${q({ term: 'sex' })}`, { token: unknownAccess });
    expect(await rows.json()).toMatchObject({ error: { code: 'token_invalid', reason: 'claims' } });
    const attempts: { name: string; path?: string; token?: string; headers?: Record<string, string> }[] = [
      {
        name: 'rule-like parameters',
        path: `${path}&minSampleSize=0&threshold=1&disclosure=exact&tier=granted&rule=null`,
      },
      {
        name: 'rule-like headers',
        headers: { 'x-disclosure': 'exact', 'x-tier': 'granted', prefer: 'exact' },
      },
      {
        name: 'a token signed with another key',
        token: forger.sign({ datasets: ['PPDemo'], email: 'x@example.org' }),
      },
      { name: 'an expired token', token: past.sign({ datasets: ['PPDemo'], email: 'x@example.org' }) },
      { name: 'an access claim the server does not know', token: unknownAccess },
      { name: 'a token in another header', headers: { authorization: `Bearer ${h.token()}` } },
    ];
    for (const attempt of attempts) {
      const res = await h.get(attempt.path ?? path, {
        ...(attempt.token !== undefined && { token: attempt.token }),
        headers: attempt.headers ?? {},
      });
      // The route is open: what the caller cannot vouch for is ignored, and it is answered as anonymous.
      expect(res.status, attempt.name).toBe(200);
      const answer = await body(res);
      expect(answer.disclosure, attempt.name).toEqual(anonymous.disclosure);
      expect(answer.bars, attempt.name).toEqual(anonymous.bars);
    }
  });
});

describe('a term with thousands of categories', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pp-wide-'));
  const file = join(dir, 'wide.db');
  const samples = Array.from({ length: 6000 }, (_, i) => i + 1);
  writeTermdb(file, {
    terms: [
      { id: 'sex', type: 'categorical' },
      { id: 'site', type: 'categorical' },
      {
        id: 'age',
        type: 'integer',
        json: { bins: { default: { type: 'regular-bin', bin_size: 10, first_bin: { stop: 10 } } } },
      },
    ],
    samples,
    values: {
      sex: samples.map((s) => [s, s % 2 === 0 ? 'F' : 'M']),
      // 3,000 hospital sites: a barchart of its own, never an overlay.
      site: samples.map((s) => [s, `site-${s % 3000}`]),
      age: samples.map((s) => [s, s % 90]),
    },
  });
  const h = harness({ datasets: [{ label: 'Wide', genome: 'hg38', file }], dsCredentials: {} });
  const wide = (params: Record<string, string>) =>
    new URLSearchParams({ dslabel: 'Wide', ...params }).toString();

  it('is charted alone', async () => {
    const res = await h.get(`/termdb/barchart?${wide({ term: 'site' })}`);
    expect(res.status).toBe(200);
    expect(((await body(res)).bars as unknown[]).length).toBe(3000);
  });

  it.each([
    [
      'as an overlay',
      { term: 'sex', term2: 'site' },
      'term2 has 3000 categories or bins; at most 50 can be shown.',
    ],
    [
      'as a divide-by term',
      { term: 'sex', term0: 'site' },
      'term0 has 3000 categories or bins; at most 50 can be shown.',
    ],
  ])('is refused %s with too_many_values, before any counting', async (_name, params, message) => {
    const res = await h.get(`/termdb/barchart?${wide(params)}`);
    expect(res.status).toBe(400);
    expect((await body(res)).error).toEqual({ code: 'too_many_values', message });
  });

  it('is refused as the split of a summary', async () => {
    const res = await h.get(`/termdb/summary?${wide({ term: 'age', term2: 'site' })}`);
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('too_many_values');
  });
});
