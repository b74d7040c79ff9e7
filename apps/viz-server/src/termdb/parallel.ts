// Opening a large dataset on two cores: a worker thread runs a share of the loading queries on its own
// read-only connection while the main thread runs the rest. openDataset stays synchronous (the server opens
// its datasets before it listens): the main thread waits for the worker on a shared flag and takes its answer
// from the message port directly, with no turn of the event loop.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';

import type { GroupRows, ParallelReader } from './columns.js';

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
  return (queries) => {
    const done = new Int32Array(new SharedArrayBuffer(4));
    const { port1, port2 } = new MessageChannel();
    let worker: Worker;
    try {
      worker = new Worker(WORKER, {
        workerData: { file, queries, membersSql, port: port2, done },
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
        const answer = message as
          { ok: true; rows: GroupRows[] } | { ok: false; message: string } | undefined;
        return answer?.ok === true ? answer.rows : undefined;
      } finally {
        port1.close();
        void worker.terminate();
      }
    };
  };
}
