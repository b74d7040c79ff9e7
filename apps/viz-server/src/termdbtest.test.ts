// The real ProteinPaint test dataset through the whole server, when it is beside the checkout (as in CI).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { silentLogger } from '@pp-embed/server-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TERMDB_TEST, TERMDB_TEST_PRESENT, termdbTestTitle } from '../test/harness.js';
import { createApp } from './app.js';
import { accessAtLoad } from './embedders.js';
import { loadConfig } from './config.js';
import { DatasetRegistry } from './termdb/registry.js';

const FILE = TERMDB_TEST;
const present = TERMDB_TEST_PRESENT;

// Collected even when skipped, so nothing here may read the file unless it is there.
describe.skipIf(!present)(termdbTestTitle('TermdbTest.db served by the app'), () => {
  let app: ReturnType<typeof createApp>;
  let db: Database.Database;
  const categorical = present ? categoricalTerms() : [];

  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-termdbtest-'));
    writeFileSync(
      join(dir, 'serverconfig.json'),
      JSON.stringify({ datasets: [{ label: 'TermdbTest', genome: 'hg38', file: FILE }] }),
    );
    const config = loadConfig(join(dir, 'serverconfig.json'));
    app = createApp({
      ...config,
      access: accessAtLoad(config),
      datasets: new DatasetRegistry(config.datasets, { log: silentLogger, watch: false }),
      bundle: undefined,
      log: silentLogger,
      audit: () => undefined,
    });
    db = new Database(FILE, { readonly: true });
  });
  afterAll(() => db.close());

  it('lists its root terms', async () => {
    const res = await app.request('/termdb/config?dslabel=TermdbTest');
    const config = (await res.json()) as { rootTerms: { id: string }[] };
    const roots = db.prepare("SELECT id FROM terms WHERE parent_id IS NULL OR parent_id = ''").pluck().all();
    expect(config.rootTerms.map((t) => t.id).sort()).toEqual([...roots].sort());
  });

  it.each(categorical)('barchart of %s equals SQL on the file', async (term) => {
    const res = await app.request(`/termdb/barchart?dslabel=TermdbTest&term=${encodeURIComponent(term)}`);
    expect(res.status).toBe(200);
    const { bars } = (await res.json()) as { bars: { key: string; count: number }[] };
    const expected = db
      .prepare('SELECT value, count(*) AS n FROM anno_categorical WHERE term_id = ? GROUP BY value')
      .all(term) as { value: string; n: number }[];
    const got = Object.fromEntries(bars.map((b) => [b.key, b.count]));
    for (const { value, n } of expected) {
      // Categories marked uncomputable in the term's values are left out of charts.
      if (got[value] !== undefined) expect(got[value]).toBe(n);
    }
    expect(bars.reduce((a, b) => a + b.count, 0)).toBeGreaterThan(0);
  });
});

function categoricalTerms(): string[] {
  const db = new Database(FILE, { readonly: true });
  try {
    return db
      .prepare(
        "SELECT id FROM terms WHERE type = 'categorical' AND id IN (SELECT term_id FROM anno_categorical) ORDER BY id",
      )
      .pluck()
      .all() as string[];
  } finally {
    db.close();
  }
}
