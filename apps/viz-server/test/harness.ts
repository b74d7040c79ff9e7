import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSigner, generateSecret, type SignRequest } from '@pp-embed/dataset-token';
import type { DrainState, Logger } from '@pp-embed/server-runtime';
import Database from 'better-sqlite3';
import { afterAll, beforeAll } from 'vitest';
import { createApp } from '../src/app.js';
import { accessAtLoad } from '../src/embedders.js';
import { loadConfig, type LoadedConfig, type LoadOptions } from '../src/config.js';
import type { Bundle } from '../src/http/bundle.js';
import type { AuditRecord } from '../src/http/audit.js';
import { openDataset, type TermdbDataset } from '../src/termdb/dataset.js';
import { generateDataset } from '../src/termdb/generate.js';
import { DatasetRegistry } from '../src/termdb/registry.js';
import { minSampleSize } from './scopes.js';

/** ProteinPaint's TermdbTest.db, when it is beside the checkout (academic-use licence: read in place, never copied). */
export const TERMDB_TEST = fileURLToPath(
  new URL('../../../../shared/datasets/TermdbTest.db', import.meta.url),
);
export const TERMDB_TEST_PRESENT = existsSync(TERMDB_TEST);

/** A suite title that says why it is skipped on a checkout without ../shared. */
export function termdbTestTitle(title: string): string {
  return TERMDB_TEST_PRESENT
    ? title
    : `${title} (skipped: ../shared/datasets/TermdbTest.db is not beside the checkout)`;
}

export const PORTAL = 'http://portal.test:8080';
export const PORTAL_HOST = 'portal.test:8080';
export const CLIENT_IP = '203.0.113.7';

let sharedDataset: string | undefined;

/** A small generated dataset, made once per test file. */
export function demoDataset(): string {
  if (sharedDataset === undefined) {
    sharedDataset = join(mkdtempSync(join(tmpdir(), 'pp-viz-')), 'PPDemo.db');
    generateDataset({ file: sharedDataset, samples: 2000, seed: 7 });
  }
  return sharedDataset;
}

export interface Harness {
  dir: string;
  config: LoadedConfig;
  datasets: DatasetRegistry;
  app: ReturnType<typeof createApp>;
  secret: string;
  logs: string[];
  audit: AuditRecord[];
  /** Mints a token with the shared secret (defaults: PPDemo, ana@example.org, the client address). */
  token(overrides?: Partial<SignRequest>): string;
  /** `app.request()` with a socket address, an Origin and optionally a token in x-ds-access-token. */
  get(
    path: string,
    options?: { token?: string; origin?: string | null; headers?: Record<string, string>; ip?: string },
  ): Promise<Response>;
  /** `app.request()` as a POST of a JSON body (or of `text` as it is), from the portal's origin. */
  post(
    path: string,
    body: unknown,
    options?: { origin?: string | null; headers?: Record<string, string>; ip?: string; text?: string },
  ): Promise<Response>;
}

/**
 * Writes a serverconfig.json around the generated dataset (and any extra settings), loads it as the server
 * would, and builds the app with logs captured.
 */
export function harness(
  settings: Record<string, unknown> = {},
  options: { bundle?: Bundle; lifecycle?: DrainState; load?: LoadOptions; now?: () => number } = {},
): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'pp-viz-config-'));
  const secret = generateSecret();
  writeFileSync(join(dir, 'secret'), secret);
  const config = {
    datasets: [{ label: 'PPDemo', genome: 'hg38', file: demoDataset(), minSampleSize: 5 }],
    dsCredentials: {
      PPDemo: { termdb: { [PORTAL_HOST]: { type: 'jwt', secret: { file: 'secret' } } } },
    },
    ...settings,
  };
  writeFileSync(join(dir, 'serverconfig.json'), JSON.stringify(config));
  const loaded = loadConfig(join(dir, 'serverconfig.json'), options.load);
  const logs: string[] = [];
  const audit: AuditRecord[] = [];
  const log: Logger = {
    info: (event, fields) => logs.push(JSON.stringify({ level: 'info', event, ...fields })),
    warn: (event, fields) => logs.push(JSON.stringify({ level: 'warn', event, ...fields })),
    error: (event, fields) => logs.push(JSON.stringify({ level: 'error', event, ...fields })),
  };
  const datasets = new DatasetRegistry(loaded.datasets, { log, watch: false });
  const app = createApp({
    ...loaded,
    access: accessAtLoad(loaded),
    revocationFeeds: loaded.revocations,
    datasets,
    bundle: options.bundle,
    log,
    audit: (record) => audit.push(record),
    ...(options.lifecycle !== undefined && { lifecycle: options.lifecycle }),
    ...(options.now !== undefined && { now: options.now }),
  });
  const signer = createSigner({ algorithm: 'HS256', key: { secret } });
  return {
    dir,
    config: loaded,
    datasets,
    app,
    secret,
    logs,
    audit,
    token: (overrides = {}) =>
      signer.sign({ datasets: ['PPDemo'], email: 'ana@example.org', ip: CLIENT_IP, ...overrides }),
    get(path, { token, origin = PORTAL, headers = {}, ip = CLIENT_IP } = {}) {
      const all: Record<string, string> = { ...headers };
      if (origin !== null) all.origin = origin;
      if (token !== undefined) all['x-ds-access-token'] = token;
      const incoming = { socket: { remoteAddress: ip } } as unknown as IncomingMessage;
      return Promise.resolve(app.request(path, { headers: all }, { incoming }));
    },
    post(path, payload, { origin = PORTAL, headers = {}, ip = CLIENT_IP, text } = {}) {
      const all: Record<string, string> = { 'content-type': 'application/json', ...headers };
      if (origin !== null) all.origin = origin;
      const incoming = { socket: { remoteAddress: ip } } as unknown as IncomingMessage;
      const init = { method: 'POST', headers: all, body: text ?? JSON.stringify(payload) };
      return Promise.resolve(app.request(path, init, { incoming }));
    },
  };
}

export async function body(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

export async function errorCode(res: Response): Promise<string> {
  return ((await body(res)).error as { code: string }).code;
}

/**
 * A generated dataset for one test file: written to a temporary folder before the tests, opened by the reader
 * and, for expected values computed with SQL, by better-sqlite3; both closed and the folder removed after.
 */
export function generatedDataset(
  samples: number,
  seed: number,
): { readonly ds: TermdbDataset; readonly db: Database.Database; readonly file: string } {
  let state: { ds: TermdbDataset; db: Database.Database; file: string; dir: string } | undefined;
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-generated-'));
    const file = join(dir, `generated-${samples}-${seed}.db`);
    generateDataset({ file, samples, seed });
    state = {
      dir,
      file,
      ds: openDataset({ label: 'Generated', genome: 'hg38', file, disclosure: minSampleSize(5) }),
      db: new Database(file, { readonly: true }),
    };
  });
  afterAll(() => {
    state?.ds.close();
    state?.db.close();
    if (state) rmSync(state.dir, { recursive: true, force: true });
  });
  const get = () => {
    if (state === undefined) throw new Error('generatedDataset() is ready inside tests only');
    return state;
  };
  return {
    get ds() {
      return get().ds;
    },
    get db() {
      return get().db;
    },
    get file() {
      return get().file;
    },
  };
}
