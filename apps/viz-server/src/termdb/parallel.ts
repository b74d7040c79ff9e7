// Reading a dataset file on a worker thread, two ways:
//   - at start, on two cores: the worker runs a share of the loading queries on its own read-only connection
//     while the main thread runs the rest. openDataset stays synchronous (the server opens its datasets before it
//     listens): the main thread waits for the worker on a shared flag and takes its answer from the message port
//     directly, with no turn of the event loop;
//   - for a file that replaces a served one: the worker reads every column while the main thread goes on
//     answering requests from the dataset it serves, and hands the columns over without a copy.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';

import Database from 'better-sqlite3';

import type { ColumnSpec, GroupQuery, GroupRows, LoadedColumns, ParallelReader } from './columns.js';
import { DatasetInvalidError } from './errors.js';

/**
 * A share of the loading queries, taken one by one from the shared counter `next` (an index into `order`); the
 * answer goes to `port`, and `done` wakes the waiting main thread.
 */
export interface QueriesJob {
  readonly kind: 'queries';
  readonly file: string;
  readonly queries: readonly GroupQuery[];
  readonly order: readonly number[];
  readonly next: Int32Array;
  readonly membersSql: string;
  readonly port: MessagePort;
  readonly done: Int32Array;
}

/** Every column; the answer goes to the parent, its arrays transferred rather than copied. */
export interface ColumnsJob {
  readonly kind: 'columns';
  readonly file: string;
  readonly specs: readonly ColumnSpec[];
  readonly membersSql: string;
}

/** What a failed job says: enough for the main thread to throw the error the loader would have thrown. */
export interface WorkerFailure {
  readonly ok: false;
  /** DatasetInvalidError's reason, when that is what failed. */
  readonly reason: string | null;
  /** SQLite's error code, when SQLite failed. */
  readonly sqliteCode: string | null;
  readonly message: string;
}

// The compiled worker beside this module; running from TypeScript sources there is none, and loading stays on
// one thread.
const WORKER = new URL('./load-worker.js', import.meta.url);

/** How long the main thread waits for the worker before it reads the worker's share itself. */
const WAIT_MS = 10 * 60_000;

/**
 * A reader that runs queries on a worker thread, or undefined where no worker can help (one core, or no
 * compiled worker). Its wait answers undefined when the worker failed; the caller then reads those queries
 * itself, so a problem with threads never stops a dataset from opening.
 *
 * @example
 * const loaded = loadColumns(db, file, specs, membersSql, workerReader(file, membersSql));
 */
export function workerReader(file: string, membersSql: string): ParallelReader | undefined {
  if (availableParallelism() < 2 || !existsSync(fileURLToPath(WORKER))) return undefined;
  return (queries, order, next) => {
    const done = new Int32Array(new SharedArrayBuffer(4));
    const { port1, port2 } = new MessageChannel();
    let worker: Worker;
    try {
      const job: QueriesJob = { kind: 'queries', file, queries, order, next, membersSql, port: port2, done };
      worker = new Worker(WORKER, {
        workerData: job,
        transferList: [port2],
        // Not the process's own flags (an --input-type or a loader would stop a plain module from starting).
        execArgv: [],
      });
    } catch {
      return undefined;
    }
    return () => {
      try {
        // Node lets the main thread block on a shared flag (browsers do not).
        const waited = Atomics.wait(done, 0, 0, WAIT_MS);
        const message = waited === 'timed-out' ? undefined : receiveMessageOnPort(port1)?.message;
        const answer = message as { ok: true; rows: Map<number, GroupRows> } | WorkerFailure | undefined;
        return answer?.ok === true ? answer.rows : undefined;
      } finally {
        port1.close();
        void worker.terminate();
      }
    };
  };
}

/**
 * Reads every column of a dataset file on a worker thread, so that the thread that calls it goes on answering
 * requests meanwhile; undefined where no compiled worker is there (running from TypeScript sources). Rejects with
 * the error the loader would have thrown (a DatasetInvalidError, or SQLite's error), and with an
 * AbortError when `signal` aborts (the worker is stopped).
 *
 * @example
 * const loaded = await (columnsInWorker(file, specs, membersSql) ?? Promise.resolve(loadColumns(db, file, specs, membersSql)));
 */
export function columnsInWorker(
  file: string,
  specs: readonly ColumnSpec[],
  membersSql: string,
  signal?: AbortSignal,
): Promise<LoadedColumns> | undefined {
  if (!existsSync(fileURLToPath(WORKER))) return undefined;
  return new Promise<LoadedColumns>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const job: ColumnsJob = { kind: 'columns', file, specs, membersSql };
    const worker = new Worker(WORKER, { workerData: job, execArgv: [] });
    let settled = false;
    const settle = (done: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', abort);
      void worker.terminate();
      done();
    };
    const abort = () => settle(() => reject(signal?.reason));
    signal?.addEventListener('abort', abort, { once: true });
    worker.once('message', (answer: { ok: true; loaded: LoadedColumns } | WorkerFailure) =>
      settle(() => (answer.ok ? resolve(answer.loaded) : reject(rebuilt(file, answer)))),
    );
    worker.once('error', (error) => settle(() => reject(error)));
    worker.once('exit', (code) =>
      settle(() => reject(new Error(`the loading thread stopped (exit code ${code}) before it answered`))),
    );
  });
}

/** The error the loader threw on the worker, as it would have been thrown here. */
function rebuilt(file: string, failure: WorkerFailure): Error {
  if (failure.reason !== null) return new DatasetInvalidError(file, failure.reason);
  if (failure.sqliteCode !== null) return new Database.SqliteError(failure.message, failure.sqliteCode);
  return new Error(failure.message);
}
