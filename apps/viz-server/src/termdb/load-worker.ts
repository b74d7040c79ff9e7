// A worker thread that runs a share of a dataset's loading queries on its own read-only connection, so that
// opening a large dataset uses two cores. See parallel.ts.
import { type MessagePort, workerData } from 'node:worker_threads';

import Database from 'better-sqlite3';

import { type GroupQuery, type GroupRows, readGroups } from './columns.js';

interface Job {
  readonly file: string;
  readonly queries: readonly GroupQuery[];
  readonly membersSql: string;
  readonly port: MessagePort;
  readonly done: Int32Array;
}

const { file, queries, membersSql, port, done } = workerData as Job;
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
  port.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) });
} finally {
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
}
