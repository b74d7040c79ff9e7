import { existsSync, renameSync, rmSync } from 'node:fs';

import Database from 'better-sqlite3';

import { createRng, cumulativeWeights } from './prng.js';
import type { Rng } from './prng.js';
import { INDEXES_DDL, TABLES_DDL } from './schema.js';

export interface GenerateOptions {
  /** Path of the new SQLite file. */
  readonly file: string;
  /** Number of samples, 1 to {@link MAX_GENERATED_SAMPLES}. */
  readonly samples: number;
  /** Any safe integer, used modulo 2^32; the same seed writes the same file, byte for byte. */
  readonly seed: number;
  /** Replace an existing file; by default an existing file is an error and is left untouched. */
  readonly overwrite?: boolean;
}

export interface GenerateSummary {
  readonly file: string;
  readonly samples: number;
  readonly seed: number;
  /** Rows written to sampleidmap, subcohort_samples, the anno_* tables and survival. */
  readonly rows: number;
  readonly milliseconds: number;
}

export const MAX_GENERATED_SAMPLES = 10_000_000;

// ---------------------------------------------------------------------------------------------------------
// The demo dataset: what it holds and how each value is drawn.

interface Category {
  readonly key: string;
  readonly label: string;
  readonly uncomputable?: true;
}

const SEX: readonly Category[] = [
  { key: '1', label: 'Male' },
  { key: '2', label: 'Female' },
];

const RACE: readonly Category[] = [
  { key: 'White', label: 'White' },
  { key: 'Black', label: 'Black or African American' },
  { key: 'Asian', label: 'Asian' },
  { key: 'Multiple', label: 'More than one race' },
  { key: 'AIAN', label: 'American Indian or Alaska Native' },
  { key: 'NHPI', label: 'Native Hawaiian or Other Pacific Islander' },
  { key: '-9999', label: 'Not reported', uncomputable: true },
];
const RACE_WEIGHTS = cumulativeWeights([0.62, 0.16, 0.08, 0.06, 0.012, 0, 0.068]);

const DIAGNOSIS: readonly (Category & { readonly meanAge: number })[] = [
  { key: 'ALL', label: 'Acute lymphoblastic leukemia', meanAge: 6 },
  { key: 'AML', label: 'Acute myeloid leukemia', meanAge: 9 },
  { key: 'HL', label: 'Hodgkin lymphoma', meanAge: 15 },
  { key: 'NHL', label: 'Non-Hodgkin lymphoma', meanAge: 11 },
  { key: 'CNS', label: 'Central nervous system tumor', meanAge: 8 },
  { key: 'WT', label: 'Wilms tumor', meanAge: 4 },
  { key: 'NB', label: 'Neuroblastoma', meanAge: 2 },
  { key: 'OS', label: 'Osteosarcoma', meanAge: 14 },
  { key: 'EWS', label: 'Ewing sarcoma', meanAge: 13 },
  { key: 'RMS', label: 'Rhabdomyosarcoma', meanAge: 7 },
  { key: 'RB', label: 'Retinoblastoma', meanAge: 1 },
  { key: 'CML', label: 'Chronic myeloid leukemia', meanAge: 12 },
];
const DIAGNOSIS_WEIGHTS = cumulativeWeights([
  0.27, 0.06, 0.1, 0.07, 0.18, 0.06, 0.07, 0.05, 0.04, 0.05, 0, 0,
]);

// Rare on purpose, and by count rather than by share, so that small cells (what suppression is for) exist
// in a dataset of any size: [column, category index, number of samples].
const RARE: readonly [keyof Draws, number, number][] = [
  ['race', RACE.findIndex((c) => c.key === 'NHPI'), 3],
  ['diagnosis', DIAGNOSIS.findIndex((c) => c.key === 'RB'), 4],
  ['diagnosis', DIAGNOSIS.findIndex((c) => c.key === 'CML'), 2],
];

const ARM: readonly Category[] = [
  { key: 'A', label: 'Arm A: standard therapy' },
  { key: 'B', label: 'Arm B: reduced intensity' },
  { key: 'C', label: 'Arm C: intensified therapy' },
  { key: 'OBS', label: 'Observation only' },
];
// The two studies randomised differently, so a cohort restriction visibly changes this chart.
const ARM_WEIGHTS_BY_STUDY: readonly [Float64Array, Float64Array] = [
  cumulativeWeights([0.5, 0.3, 0.19, 0.01]),
  cumulativeWeights([0.35, 0.2, 0.446, 0.004]),
];

const COHORTS = [
  { id: 'ALPHA', name: 'Alpha study', members: null },
  { id: 'BETA', name: 'Beta study', members: null },
  { id: 'ALPHA,BETA', name: 'Alpha + Beta studies', members: ['ALPHA', 'BETA'] },
] as const;

/** Value key written for a lost-to-follow-up sample: charted nowhere, as `uncomputable` says. */
const LOST_TO_FOLLOW_UP = -1;

interface TermRow {
  readonly id: string;
  readonly name: string;
  readonly parent: string | null;
  readonly type: string | null;
  readonly jsondata: Record<string, unknown>;
}

function valuesOf(categories: readonly Category[]): Record<string, unknown> {
  return Object.fromEntries(
    categories.map((c) => [
      c.key,
      c.uncomputable ? { label: c.label, uncomputable: true } : { label: c.label },
    ]),
  );
}

// Parents come first and children are listed in display order; child_order is the position among siblings.
const TERMS: readonly TermRow[] = [
  { id: 'demographics', name: 'Demographics', parent: null, type: null, jsondata: {} },
  {
    id: 'sex',
    name: 'Sex',
    parent: 'demographics',
    type: 'categorical',
    jsondata: { values: valuesOf(SEX) },
  },
  {
    id: 'race',
    name: 'Race',
    parent: 'demographics',
    type: 'categorical',
    jsondata: { values: valuesOf(RACE) },
  },
  {
    id: 'agedx',
    name: 'Age at diagnosis (years)',
    parent: 'demographics',
    type: 'integer',
    jsondata: {
      bins: {
        default: {
          type: 'regular-bin',
          bin_size: 5,
          startinclusive: true,
          first_bin: { startunbounded: true, stop: 5 },
          last_bin: { stopunbounded: true, start: 20 },
        },
      },
      values: {},
    },
  },
  { id: 'diagnosis', name: 'Diagnosis and treatment', parent: null, type: null, jsondata: {} },
  {
    id: 'diaggrp',
    name: 'Diagnosis group',
    parent: 'diagnosis',
    type: 'categorical',
    jsondata: { values: valuesOf(DIAGNOSIS) },
  },
  { id: 'treatment', name: 'Treatment', parent: 'diagnosis', type: null, jsondata: {} },
  {
    id: 'treatment_arm',
    name: 'Treatment arm',
    parent: 'treatment',
    type: 'categorical',
    jsondata: { values: valuesOf(ARM) },
  },
  { id: 'followup', name: 'Follow-up', parent: null, type: null, jsondata: {} },
  {
    id: 'bmi',
    name: 'Body mass index (kg/m²)',
    parent: 'followup',
    type: 'float',
    jsondata: {
      bins: {
        default: {
          type: 'custom-bin',
          lst: [
            { startunbounded: true, stop: 18.5, startinclusive: true, stopinclusive: false },
            { start: 18.5, stop: 25, startinclusive: true, stopinclusive: false },
            { start: 25, stop: 30, startinclusive: true, stopinclusive: false },
            { start: 30, stopunbounded: true, startinclusive: true, stopinclusive: false },
          ],
        },
      },
      values: {},
    },
  },
  {
    id: 'os',
    name: 'Overall survival',
    parent: 'followup',
    type: 'survival',
    jsondata: { unit: 'years', values: { 0: { label: 'Alive' }, 1: { label: 'Deceased' } } },
  },
  {
    id: 'efs',
    name: 'Event-free survival',
    parent: 'followup',
    type: 'survival',
    jsondata: { unit: 'years', values: { 0: { label: 'No event' }, 1: { label: 'Event occurred' } } },
  },
  {
    id: 'followup_years',
    name: 'Years of follow-up',
    parent: 'followup',
    type: 'integer',
    jsondata: {
      bins: {
        default: {
          type: 'regular-bin',
          bin_size: 5,
          startinclusive: true,
          first_bin: { startunbounded: true, stop: 5 },
        },
      },
      values: { [LOST_TO_FOLLOW_UP]: { label: 'Lost to follow-up', uncomputable: true } },
    },
  },
];

/** Per-sample draws, held column by column (-1 / NaN: no value) and written table by table. */
interface Draws {
  readonly cohort: Int8Array; // 0 ALPHA, 1 BETA, 2 both
  readonly sex: Int8Array;
  readonly race: Int8Array;
  readonly diagnosis: Int8Array;
  readonly arm: Int8Array;
  readonly agedx: Float64Array;
  readonly bmi: Float64Array;
  readonly followup: Float64Array;
  /** Time to death or last contact, in years (whole days), and whether it is a death (1) or censored (0). */
  readonly osTime: Float64Array;
  readonly osEvent: Int8Array;
  readonly efsTime: Float64Array;
  readonly efsEvent: Int8Array;
}

// Yearly hazards of death by diagnosis (the order of DIAGNOSIS), so that survival curves split by diagnosis
// differ as they do in a survivorship cohort; the intensified arm halves the hazard of an event other than death.
const DEATH_HAZARD = [0.012, 0.03, 0.008, 0.015, 0.035, 0.01, 0.025, 0.03, 0.032, 0.02, 0.006, 0.018];
const DAYS_PER_YEAR = 365.25;

function draw(n: number, rng: Rng): Draws {
  const d: Draws = {
    cohort: new Int8Array(n),
    sex: new Int8Array(n),
    race: new Int8Array(n),
    diagnosis: new Int8Array(n),
    arm: new Int8Array(n),
    agedx: new Float64Array(n),
    bmi: new Float64Array(n),
    followup: new Float64Array(n),
    osTime: new Float64Array(n),
    osEvent: new Int8Array(n),
    efsTime: new Float64Array(n),
    efsEvent: new Int8Array(n),
  };
  const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  for (let i = 0; i < n; i++) {
    const u = rng.next();
    const cohort = u < 0.6 ? 0 : u < 0.97 ? 1 : 2;
    d.cohort[i] = cohort;
    d.sex[i] = rng.next() < 0.005 ? -1 : rng.next() < 0.51 ? 0 : 1;
    d.race[i] = rng.next() < 0.03 ? -1 : rng.pick(RACE_WEIGHTS);
    const diagnosis = rng.next() < 0.01 ? -1 : rng.pick(DIAGNOSIS_WEIGHTS);
    d.diagnosis[i] = diagnosis;
    d.arm[i] = rng.next() < 0.03 ? -1 : rng.pick(ARM_WEIGHTS_BY_STUDY[cohort === 1 ? 1 : 0]);
    const meanAge = DIAGNOSIS[diagnosis]?.meanAge ?? 8;
    d.agedx[i] = rng.next() < 0.02 ? NaN : Math.round(clamp(rng.normal(meanAge, 3.5), 0, 21));
    d.bmi[i] = rng.next() < 0.08 ? NaN : Math.round(clamp(rng.normal(25.5, 5), 12, 55) * 10) / 10;
    // The Alpha study began earlier, so its survivors have been followed for longer.
    const followup = cohort === 1 ? rng.next() * 25 : 5 + rng.next() * 40;
    const f = rng.next();
    d.followup[i] = f < 0.03 ? NaN : f < 0.05 ? LOST_TO_FOLLOW_UP : Math.floor(followup);
  }
  const planted = new Set<number>();
  for (const [column, category, count] of RARE) {
    for (let k = 0; k < count && planted.size < n; k++) {
      let i: number;
      do i = Math.floor(rng.next() * n);
      while (planted.has(i));
      planted.add(i);
      d[column][i] = category;
    }
  }
  drawSurvival(d, createRng(rng.next() * 4294967296));
  return d;
}

/**
 * Survival times from exponential hazards, censored at the end of follow-up. They come from a stream of their
 * own, drawn after every other column, so that adding them left the other columns of a seed as they were.
 */
function drawSurvival(d: Draws, rng: Rng): void {
  const years = (t: number) => Math.max(1, Math.round(t * DAYS_PER_YEAR)) / DAYS_PER_YEAR;
  const exponential = (rate: number) => -Math.log(1 - rng.next()) / rate;
  for (let i = 0; i < d.cohort.length; i++) {
    const followup = d.followup[i] as number;
    if (!(followup >= 0)) {
      // Missing or lost to follow-up: no survival record.
      d.osTime[i] = NaN;
      d.efsTime[i] = NaN;
      continue;
    }
    const censor = followup + rng.next();
    const hazard = DEATH_HAZARD[d.diagnosis[i] as number] ?? 0.015;
    const death = exponential(hazard);
    d.osTime[i] = years(Math.min(death, censor));
    d.osEvent[i] = death < censor ? 1 : 0;
    const relapse = exponential(hazard * (d.arm[i] === 2 ? 1 : 2));
    const event = Math.min(death, relapse);
    d.efsTime[i] = years(Math.min(event, censor));
    d.efsEvent[i] = event < censor ? 1 : 0;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Writing.

/**
 * Writes a new demo termdb SQLite file, with the tables, columns and term JSON of ProteinPaint's termdb,
 * deterministic from the seed: a small term tree (demographics, diagnosis and treatment, follow-up) with four
 * categorical terms, three numeric terms (regular and custom bins), two survival terms (overall and event-free),
 * two studies and their combination as cohorts, missing values, and rare categories. The file is built beside its destination and renamed into
 * place, so a failed run never leaves a half-written dataset.
 *
 * @throws Error when `file` exists and `overwrite` is not set, or when `samples` or `seed` is out of range.
 * @example
 * generateDataset({ file: 'demo.db', samples: 1_000_000, seed: 1 });
 * // then: openDataset({ label: 'Demo', genome: 'hg38', file: 'demo.db' })
 */
export function generateDataset(options: GenerateOptions): GenerateSummary {
  const { file, samples, seed } = options;
  if (!Number.isInteger(samples) || samples < 1 || samples > MAX_GENERATED_SAMPLES) {
    throw new RangeError(`samples must be an integer from 1 to ${MAX_GENERATED_SAMPLES}.`);
  }
  if (!Number.isSafeInteger(seed)) throw new RangeError('seed must be an integer.');
  if (existsSync(file) && !options.overwrite) throw new Error(`${file} already exists.`);

  const started = performance.now();
  const draws = draw(samples, createRng(seed));
  const temp = `${file}.${process.pid}.tmp`;
  rmSync(temp, { force: true });
  const db = new Database(temp);
  let rows = 0;
  try {
    // Nothing to recover from: a failed run is discarded whole, so the journal and fsyncs are pure cost;
    // and rows are consistent by construction, so foreign-key lookups on every insert are too.
    db.pragma('foreign_keys = OFF');
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('temp_store = MEMORY');
    db.pragma('cache_size = -262144');
    // Larger pages cut index-building time by about a tenth on a million samples and read no slower.
    db.pragma('page_size = 16384');
    db.exec(TABLES_DDL);
    db.transaction(() => {
      rows = writeRows(db, draws);
    })();
    db.exec(INDEXES_DDL);
    // Statistics for the query planner, sampled so that they cost little on a large file.
    db.pragma('analysis_limit = 1000');
    db.exec('ANALYZE');
    db.close();
    // Checked again: the file may have appeared while this one was being written.
    if (existsSync(file) && !options.overwrite) throw new Error(`${file} already exists.`);
    renameSync(temp, file);
  } catch (e) {
    if (db.open) db.close();
    rmSync(temp, { force: true });
    throw e;
  }
  return { file, samples, seed, rows, milliseconds: Math.round(performance.now() - started) };
}

function writeRows(db: Database.Database, d: Draws): number {
  const n = d.cohort.length;
  const terms = db.prepare(
    'INSERT INTO terms (id, name, parent_id, jsondata, child_order, type, isleaf) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const siblings = new Map<string | null, number>();
  const parents = new Set(TERMS.map((t) => t.parent));
  for (const t of TERMS) {
    const order = siblings.get(t.parent) ?? 0;
    siblings.set(t.parent, order + 1);
    const isleaf = !parents.has(t.id);
    const jsondata = { id: t.id, name: t.name, isleaf, ...(t.type ? { type: t.type } : {}), ...t.jsondata };
    terms.run(t.id, t.name, t.parent, JSON.stringify(jsondata), order, t.type, isleaf ? 1 : 0);
  }

  const inStudy = (study: 0 | 1, i: number) => d.cohort[i] === study || d.cohort[i] === 2;
  const membersOf = (study: 0 | 1) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) if (inStudy(study, i)) out.push(i + 1);
    return out;
  };
  const members = { ALPHA: membersOf(0), BETA: membersOf(1) };
  const cohorts = db.prepare(
    'INSERT INTO cohorts (cohort, name, sample_count, subcohorts) VALUES (?, ?, ?, ?)',
  );
  for (const c of COHORTS) {
    const count = c.members === null ? members[c.id].length : n;
    cohorts.run(c.id, c.name, count, c.members === null ? null : JSON.stringify(c.members));
  }

  // Bulk rows go in as one JSON array per term, unpacked by SQLite's json_each: parsing JSON in C is about
  // twice as fast as binding the same values row by row. Array position i is sample i + 1, null is "no
  // value", and rows land in primary-key order, table by table, so every B-tree grows by appending.
  let rows = 0;
  rows += db
    .prepare(
      `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < @n)
       INSERT INTO sampleidmap (id, name) SELECT i, printf('S%07d', i) FROM s`,
    )
    .run({ n }).changes;
  const membership = db.prepare(
    'INSERT INTO subcohort_samples (subcohort, sample) SELECT @cohort, value FROM json_each(@samples)',
  );
  for (const [cohort, samples] of Object.entries(members)) {
    rows += membership.run({ cohort, samples: JSON.stringify(samples) }).changes;
  }
  const annotate = (table: string) =>
    db.prepare(
      `INSERT INTO ${table} (sample, term_id, value)
       SELECT key + 1, @term, value FROM json_each(@values) WHERE value IS NOT NULL`,
    );
  const categorical = annotate('anno_categorical');
  for (const [term, column, categories] of [
    ['diaggrp', d.diagnosis, DIAGNOSIS],
    ['race', d.race, RACE],
    ['sex', d.sex, SEX],
    ['treatment_arm', d.arm, ARM],
  ] as const) {
    const values = Array.from(column, (c) => categories[c]?.key ?? null);
    rows += categorical.run({ term, values: JSON.stringify(values) }).changes;
  }
  const numeric = (table: string, columns: [string, Float64Array][]) => {
    const insert = annotate(table);
    for (const [term, column] of columns) {
      const values = Array.from(column, (v) => (Number.isNaN(v) ? null : v));
      rows += insert.run({ term, values: JSON.stringify(values) }).changes;
    }
  };
  numeric('anno_integer', [
    ['agedx', d.agedx],
    ['followup_years', d.followup],
  ]);
  numeric('anno_float', [['bmi', d.bmi]]);
  const survival = db.prepare(
    `INSERT INTO survival (sample, term_id, tte, exit_code)
     SELECT key + 1, @term, json_extract(value, '$[0]'), json_extract(value, '$[1]')
       FROM json_each(@values) WHERE value IS NOT NULL`,
  );
  for (const [term, time, event] of [
    ['efs', d.efsTime, d.efsEvent],
    ['os', d.osTime, d.osEvent],
  ] as const) {
    const values = Array.from(time, (t, i) => (Number.isNaN(t) ? null : [t, event[i]]));
    rows += survival.run({ term, values: JSON.stringify(values) }).changes;
  }
  return rows;
}
