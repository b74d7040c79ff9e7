import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** What a look at a whole dataset file found. */
export interface FileVerdict {
  /** SHA-256 of the bytes read, hex. */
  sha256: string;
  /** What `PRAGMA quick_check` reported, or why the file could not be read as a database; null when sound. */
  problem: string | null;
}

// Reads the file twice, off the main thread: a hash of every byte, and SQLite's quick_check (every page, index
// and constraint short of matching index contents to rows). Both take seconds on a large file, which would stall
// every request if done on the event loop. It is plain JavaScript given as text, so that it runs the same from
// the sources (tests) and from dist/.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { createReadStream } = require('node:fs');
const Database = require(workerData.sqlite);
(async () => {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(workerData.file)) hash.update(chunk);
  let problem = null;
  try {
    const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
    try {
      const lines = db.pragma('quick_check(5)', { simple: false }).map((row) => String(Object.values(row)[0]));
      if (!(lines.length === 1 && lines[0] === 'ok')) problem = 'SQLite quick_check failed: ' + lines.join('; ');
    } finally {
      db.close();
    }
  } catch (error) {
    problem =
      error && error.code === 'SQLITE_NOTADB'
        ? 'it is not an SQLite database'
        : 'it cannot be read as a database (' + String((error && error.code) || 'unknown error') + ')';
  }
  parentPort.postMessage({ sha256: hash.digest('hex'), problem });
})().catch((error) => parentPort.postMessage({ error: String((error && error.code) || error) }));
`;

const SQLITE = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * Hashes a dataset file and runs SQLite's quick_check on it in a worker thread. Rejects when the file cannot
 * be read at all, when the check takes longer than `timeoutMs`, or when `signal` aborts (the worker is stopped).
 *
 * @example
 * const { sha256, problem } = await verifyFile('/data/TermdbTest.db');
 * if (problem !== null) log.error('dataset_update_refused', { problem });
 */
export function verifyFile(
  file: string,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<FileVerdict> {
  const timeoutMs = options.timeoutMs ?? 600_000;
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted === true) {
      reject(new Error('the check was stopped'));
      return;
    }
    const worker = new Worker(WORKER, { eval: true, workerData: { file, sqlite: SQLITE } });
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', stop);
      void worker.terminate();
      settle();
    };
    const stop = () => finish(() => reject(new Error('the check was stopped')));
    options.signal?.addEventListener('abort', stop, { once: true });
    const timer = setTimeout(
      () => finish(() => reject(new Error(`the check took longer than ${Math.round(timeoutMs / 1000)} s`))),
      timeoutMs,
    );
    worker.once('message', (message: FileVerdict | { error: string }) =>
      finish(() =>
        'error' in message
          ? reject(new Error(`the file cannot be read (${message.error})`))
          : resolve(message),
      ),
    );
    worker.once('error', (error) => finish(() => reject(error)));
  });
}
