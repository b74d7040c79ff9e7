import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@pp-embed/server-runtime';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from './dataset.js';
import { DatasetUnavailableError } from './errors.js';
import { generateDataset } from './generate.js';
import { DatasetRegistry, type RegistryOptions } from './registry.js';
import { exact } from '../../test/scopes.js';

const ALL = exact();
const PAGE = { page: 1, pageSize: 10 };
let dir: string;
/** Two good datasets told apart by their number of samples, and files that fail the checks. */
const files = { small: '', large: '', noTerms: '', notSqlite: '' };
/** Samples with a sex in each good file. */
const SMALL = { total: 0 };
const LARGE = { total: 0 };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pp-registry-'));
  files.small = join(dir, 'small.db');
  files.large = join(dir, 'large.db');
  generateDataset({ file: files.small, samples: 300, seed: 1 });
  generateDataset({ file: files.large, samples: 900, seed: 2 });
  for (const [file, into] of [
    [files.small, SMALL],
    [files.large, LARGE],
  ] as const) {
    const dataset = openDataset({ label: 'x', genome: 'hg38', file });
    into.total = dataset.barchart('sex', ALL).total ?? 0;
    dataset.close();
  }
  expect(SMALL.total).not.toBe(LARGE.total);
  files.noTerms = join(dir, 'no-terms.db');
  copyFileSync(files.small, files.noTerms);
  const db = new Database(files.noTerms);
  db.pragma('foreign_keys = OFF');
  db.exec('DROP TABLE terms');
  db.close();
  files.notSqlite = join(dir, 'not-sqlite.db');
  writeFileSync(files.notSqlite, 'SQLite format 3\0'.padEnd(4096, 'x'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const open: DatasetRegistry[] = [];
afterEach(() => open.splice(0).forEach((r) => r.close()));

/** A registry serving a copy of `source` as `Demo`, with every log line kept. */
function serve(source: string, options: Partial<RegistryOptions> = {}) {
  const file = join(mkdtempSync(join(dir, 'served-')), 'Demo.db');
  copyFileSync(source, file);
  const lines: { event: string; fields: Record<string, unknown> }[] = [];
  const log: Logger = {
    info: (event, fields = {}) => lines.push({ event, fields }),
    warn: (event, fields = {}) => lines.push({ event, fields }),
    error: (event, fields = {}) => lines.push({ event, fields }),
  };
  const dataset = openDataset({ label: 'Demo', genome: 'hg38', file });
  const registry = new DatasetRegistry(new Map([['Demo', dataset]]), {
    log,
    watch: false,
    settleMs: 10,
    ...options,
  });
  open.push(registry);
  return { registry, file, lines, events: () => lines.map((l) => l.event) };
}

/** Writes `source` beside `file` and renames it over: the supported update. */
function renameOver(file: string, source: string): void {
  const next = `${file}.next`;
  copyFileSync(source, next);
  renameSync(next, file);
}

function total(registry: DatasetRegistry): number | null {
  const lease = registry.acquire('Demo');
  if (lease === undefined) throw new Error('no Demo');
  try {
    return lease.dataset.barchart('sex', ALL).total;
  } finally {
    lease.release();
  }
}

const health = (registry: DatasetRegistry) => registry.health()[0];

describe('DatasetRegistry: the supported update, a new file renamed over the old one', () => {
  it('swaps the new file in between requests; a request that started on the old file finishes on it', async () => {
    const { registry, file, lines } = serve(files.small);
    expect(total(registry)).toBe(SMALL.total);
    const before = registry.acquire('Demo');
    renameOver(file, files.large);
    await registry.check();

    expect(total(registry)).toBe(LARGE.total);
    // The request that held the old file still reads it, whole, then lets it go. Charts answer from memory;
    // the sample table reads names from the file, which is closed once the last request on it is done.
    expect(before?.dataset.barchart('sex', ALL).total).toBe(SMALL.total);
    expect(before?.dataset.samples('sex', ALL, PAGE).total).toBe(SMALL.total);
    before?.release();
    expect(() => before?.dataset.samples('sex', ALL, PAGE)).toThrow(/not open/);

    const swapped = lines.find((l) => l.event === 'dataset_swapped');
    expect(swapped?.fields).toMatchObject({ dataset: 'Demo', file, requestsOnPrevious: 1 });
    expect(swapped?.fields.version).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(health(registry)).toMatchObject({
      status: 'ok',
      version: swapped?.fields.version,
      problem: null,
    });
  });

  it.each([
    ['a table missing', () => files.noTerms, /table "terms" is missing/],
    ['not a database', () => files.notSqlite, /not an SQLite database|cannot be read/],
  ])(
    'refuses a file with %s, logs it, reports it, and keeps serving the old file',
    async (_, bad, reason) => {
      const { registry, file, lines } = serve(files.small);
      renameOver(file, bad());
      await registry.check();

      expect(total(registry)).toBe(SMALL.total);
      expect(health(registry)).toMatchObject({ status: 'stale', problem: expect.stringMatching(reason) });
      expect(health(registry)?.problem).not.toContain(dir);
      const refused = lines.find((l) => l.event === 'dataset_update_refused');
      expect(refused?.fields).toMatchObject({ dataset: 'Demo', file, reason: expect.stringMatching(reason) });

      // The refused file is not checked again until it changes; a good one then goes in.
      await registry.check();
      expect(lines.filter((l) => l.event === 'dataset_update_refused')).toHaveLength(1);
      renameOver(file, files.large);
      await registry.check();
      expect(total(registry)).toBe(LARGE.total);
      expect(health(registry)).toMatchObject({ status: 'ok', problem: null });
    },
  );

  it('reports a file that is gone, and keeps serving the copy it has open', async () => {
    const { registry, file, events } = serve(files.small);
    rmSync(file);
    await registry.check();
    expect(total(registry)).toBe(SMALL.total);
    expect(health(registry)).toMatchObject({ status: 'stale', problem: expect.stringMatching(/gone/) });
    expect(events()).toContain('dataset_file_missing');
    renameOver(file, files.large);
    await registry.check();
    expect(total(registry)).toBe(LARGE.total);
    expect(health(registry)?.status).toBe('ok');
  });
});

describe('DatasetRegistry: writing over the served file in place (not supported, never fatal)', () => {
  it('refuses requests while the file is changed in place, and a good file written back heals it', async () => {
    const { registry, file, events } = serve(files.small);
    writeFileSync(file, readFileSync(files.notSqlite));
    await registry.check();
    expect(() => registry.acquire('Demo')).toThrow(DatasetUnavailableError);
    expect(health(registry)).toMatchObject({ status: 'unavailable' });
    expect(events()).toEqual(expect.arrayContaining(['dataset_changed_in_place', 'dataset_update_refused']));

    // Another valid dataset written over it in place: served afresh, its tree and its counts together.
    writeFileSync(file, readFileSync(files.large));
    await registry.check();
    expect(total(registry)).toBe(LARGE.total);
    expect(health(registry)).toMatchObject({ status: 'ok', problem: null });
  });

  it('turns a failed read into dataset_unavailable, and opens the file afresh once it is good again', async () => {
    const { registry, file, lines } = serve(files.small);
    const lease = registry.acquire('Demo');
    // What a copy in progress looks like to the open connection: the schema is gone from under it.
    writeFileSync(file, Buffer.alloc(0));
    expect(() => lease?.dataset.samples('sex', ALL, PAGE)).toThrow(DatasetUnavailableError);
    lease?.release();
    expect(health(registry)?.status).toBe('unavailable');
    expect(lines.find((l) => l.event === 'dataset_unreadable')?.fields).toMatchObject({ dataset: 'Demo' });
    // A request error is not a read failure: it passes through and changes nothing.
    writeFileSync(file, readFileSync(files.small));
    await registry.check();
    expect(total(registry)).toBe(SMALL.total);
    const again = registry.acquire('Demo');
    expect(() => again?.dataset.barchart('no-such-term', ALL)).toThrow(/No term/);
    again?.release();
    expect(health(registry)?.status).toBe('ok');
  });
});

describe('DatasetRegistry: watching', () => {
  it('hashes the served file at start and notices a rename by itself', async () => {
    const { registry, file } = serve(files.small, { watch: true, pollMs: 200 });
    const until = async (ok: () => boolean) => {
      for (let i = 0; i < 200 && !ok(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(ok()).toBe(true);
    };
    await until(() => health(registry)?.version !== null);
    const first = health(registry)?.version;
    renameOver(file, files.large);
    await until(() => health(registry)?.version !== first);
    expect(total(registry)).toBe(LARGE.total);
  });
});
