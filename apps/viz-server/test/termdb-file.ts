// Small termdb SQLite files written by hand for tests that need exact data: ProteinPaint's tables (the schema
// the generator writes), filled with the rows a test gives.
import Database from 'better-sqlite3';

import { TABLES_DDL } from '../src/termdb/schema.js';

export interface HandTerm {
  id: string;
  type: 'categorical' | 'integer' | 'float' | 'survival' | null;
  parent?: string;
  name?: string;
  /** Extra term JSON: values, bins, unit. */
  json?: Record<string, unknown>;
}

export interface HandDataset {
  terms: HandTerm[];
  /** Sample ids of sampleidmap (names are `S<id>`). */
  samples: number[];
  /** term id → [sample, value] */
  values?: Record<string, [number, string | number][]>;
  /** term id → [sample, time, exit code] */
  survival?: Record<string, [number, number, number][]>;
  /** cohort id → member samples (subcohort_samples) */
  cohorts?: Record<string, number[]>;
}

/**
 * Writes `data` as a termdb file at `file`.
 *
 * @example
 * writeTermdb(file, { terms: [{ id: 'sex', type: 'categorical' }], samples: [1, 2], values: { sex: [[1, 'M']] } });
 */
export function writeTermdb(file: string, data: HandDataset): void {
  const db = new Database(file);
  try {
    db.exec(TABLES_DDL);
    const parents = new Set(data.terms.map((t) => t.parent));
    const insertTerm = db.prepare(
      'INSERT INTO terms (id, name, parent_id, jsondata, child_order, type, isleaf) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    data.terms.forEach((t, i) => {
      const isleaf = !parents.has(t.id);
      const json = { id: t.id, name: t.name ?? t.id, type: t.type, isleaf, ...t.json };
      insertTerm.run(t.id, t.name ?? t.id, t.parent ?? null, JSON.stringify(json), i, t.type, isleaf ? 1 : 0);
    });
    const insertSample = db.prepare('INSERT INTO sampleidmap (id, name) VALUES (?, ?)');
    for (const id of data.samples) insertSample.run(id, `S${id}`);
    for (const [term, rows] of Object.entries(data.values ?? {})) {
      const type = data.terms.find((t) => t.id === term)?.type;
      const table =
        type === 'integer' ? 'anno_integer' : type === 'float' ? 'anno_float' : 'anno_categorical';
      const insert = db.prepare(`INSERT INTO ${table} (sample, term_id, value) VALUES (?, ?, ?)`);
      for (const [sample, value] of rows) insert.run(sample, term, value);
    }
    const insertSurvival = db.prepare(
      'INSERT INTO survival (sample, term_id, tte, exit_code) VALUES (?, ?, ?, ?)',
    );
    for (const [term, rows] of Object.entries(data.survival ?? {})) {
      for (const [sample, time, exit] of rows) insertSurvival.run(sample, term, time, exit);
    }
    const insertCohort = db.prepare('INSERT INTO cohorts (cohort, name, sample_count) VALUES (?, ?, ?)');
    const insertMember = db.prepare('INSERT INTO subcohort_samples (subcohort, sample) VALUES (?, ?)');
    for (const [cohort, members] of Object.entries(data.cohorts ?? {})) {
      insertCohort.run(cohort, cohort, members.length);
      for (const sample of members) insertMember.run(cohort, sample);
    }
  } finally {
    db.close();
  }
}
