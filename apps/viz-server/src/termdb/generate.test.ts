import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

import { TERMDB_TEST, TERMDB_TEST_PRESENT, termdbTestTitle } from '../../test/harness.js';
import { generateDataset } from './generate.js';
import { REQUIRED_COLUMNS } from './schema.js';

const dir = mkdtempSync(join(tmpdir(), 'pp-generate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const fresh = () => join(dir, `demo-${++n}.db`);

function columns(file: string, table: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare<[string], { name: string }>('SELECT name FROM pragma_table_info(?) ORDER BY name')
      .all(table)
      .map((r) => r.name);
  } finally {
    db.close();
  }
}

describe('generateDataset', () => {
  it('writes byte-identical files for the same seed', () => {
    const [a, b] = [fresh(), fresh()];
    generateDataset({ file: a, samples: 500, seed: 11 });
    generateDataset({ file: b, samples: 500, seed: 11 });
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  });

  it('writes every sample to sampleidmap and reports what it wrote', () => {
    const file = fresh();
    const summary = generateDataset({ file, samples: 300, seed: 1 });
    const db = new Database(file, { readonly: true });
    const count = (sql: string) => db.prepare<[], { n: number }>(sql).get()!.n;
    expect(count('SELECT count(*) AS n FROM sampleidmap')).toBe(300);
    expect(summary.rows).toBe(
      count(`SELECT (SELECT count(*) FROM sampleidmap) + (SELECT count(*) FROM subcohort_samples)
                  + (SELECT count(*) FROM anno_categorical) + (SELECT count(*) FROM anno_integer)
                  + (SELECT count(*) FROM anno_float) + (SELECT count(*) FROM survival) AS n`),
    );
    db.close();
  });

  it('refuses to replace an existing file unless asked to', () => {
    const file = fresh();
    writeFileSync(file, 'keep me');
    expect(() => generateDataset({ file, samples: 10, seed: 1 })).toThrow(/already exists/);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
    generateDataset({ file, samples: 10, seed: 1, overwrite: true });
    expect(readFileSync(file).subarray(0, 15).toString()).toBe('SQLite format 3');
  });

  it.each([0, -1, 1.5, Number.NaN, 10_000_001])('rejects %s samples', (samples) => {
    expect(() => generateDataset({ file: fresh(), samples, seed: 1 })).toThrow(RangeError);
  });

  it('leaves nothing behind when it cannot write', () => {
    const folder = join(dir, 'missing-folder');
    expect(() => generateDataset({ file: join(folder, 'x.db'), samples: 10, seed: 1 })).toThrow();
    expect(existsSync(folder)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('creates the indexes a categorical barchart reads from alone', () => {
    const file = fresh();
    generateDataset({ file, samples: 200, seed: 1 });
    const db = new Database(file, { readonly: true });
    const plan = db
      .prepare<[], { detail: string }>(
        "EXPLAIN QUERY PLAN SELECT count(*) FROM anno_categorical WHERE term_id = 'sex' AND value = '1'",
      )
      .all()
      .map((r) => r.detail)
      .join('\n');
    db.close();
    expect(plan).toContain('COVERING INDEX anno_categorical_term_value (term_id=? AND value=?)');
  });

  it.skipIf(!TERMDB_TEST_PRESENT)(termdbTestTitle('uses the table and column names of TermdbTest.db'), () => {
    const file = fresh();
    generateDataset({ file, samples: 10, seed: 1 });
    for (const table of Object.keys(REQUIRED_COLUMNS)) {
      expect(columns(file, table), table).toEqual(columns(TERMDB_TEST, table));
    }
  });
});
