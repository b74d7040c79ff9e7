// A worker thread that reads a dataset file on its own read-only connection, for one of two jobs (see
// parallel.ts): loading queries, taken one by one as the main thread takes others (`queries`), or every column,
// while the main thread goes on answering requests (`columns`).
import { parentPort, workerData } from 'node:worker_threads';

import Database from 'better-sqlite3';

import { type GroupQuery, type GroupRows, type LoadedColumns, loadColumns, readGroups } from './columns.js';
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
  const { file, queries, order, next, membersSql, port, done } = job;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    const rows = new Map<number, GroupRows>();
    try {
      // order[0] is this thread's whatever the main thread has taken meanwhile; then the next one free.
      for (let k = 0; k < order.length; k = Atomics.add(next, 0, 1)) {
        const i = order[k] as number;
        rows.set(i, readGroups(db, file, queries[i] as GroupQuery, membersSql));
      }
    } finally {
      db.close();
    }
    port.postMessage(
      { ok: true, rows },
      [...rows.values()].flatMap((r) => (r.ids ?? []).map((ids) => ids.buffer as ArrayBuffer)),
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
