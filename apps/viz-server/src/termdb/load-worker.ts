// A worker thread that reads a dataset file on its own read-only connection, for one of two jobs (see
// parallel.ts): a share of the loading queries while the main thread runs the rest (`queries`), or every column,
// while the main thread goes on answering requests (`columns`).
import { parentPort, workerData } from 'node:worker_threads';

import Database from 'better-sqlite3';

import { type GroupRows, type LoadedColumns, loadColumns, readGroups } from './columns.js';
import { DatasetInvalidError } from './errors.js';
import type { ColumnsJob, QueriesJob, WorkerFailure } from './parallel.js';

function failure(error: unknown): WorkerFailure {
  return {
    ok: false,
    reason: error instanceof DatasetInvalidError ? error.reason : null,
    sqliteCode: error instanceof Database.SqliteError ? error.code : null,
    message: error instanceof Error ? error.message : String(error),
  };
}

/** Every buffer of the columns, once each, to hand them over without a copy. */
function buffersOf(loaded: LoadedColumns): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  const add = (value: unknown) => {
    if (ArrayBuffer.isView(value)) buffers.add(value.buffer as ArrayBuffer);
  };
  add(loaded.space.ids);
  add(loaded.space.byId);
  for (const column of loaded.columns.values()) Object.values(column).forEach(add);
  loaded.cohorts.forEach(add);
  return [...buffers];
}

const job = workerData as QueriesJob | ColumnsJob;
if (job.kind === 'queries') {
  const { file, queries, membersSql, port, done } = job;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    let rows: GroupRows[];
    try {
      rows = queries.map((query) => readGroups(db, file, query, membersSql));
    } finally {
      db.close();
    }
    port.postMessage(
      { ok: true, rows },
      rows.flatMap((r) => (r.ids ?? []).map((ids) => ids.buffer as ArrayBuffer)),
    );
  } catch (error) {
    port.postMessage(failure(error));
  } finally {
    Atomics.store(done, 0, 1);
    Atomics.notify(done, 0);
  }
} else {
  const { file, specs, membersSql } = job;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    let loaded: LoadedColumns;
    try {
      loaded = loadColumns(db, file, specs, membersSql);
    } finally {
      db.close();
    }
    parentPort?.postMessage({ ok: true, loaded }, buffersOf(loaded));
  } catch (error) {
    parentPort?.postMessage(failure(error));
  }
}
