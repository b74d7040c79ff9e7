import { statSync } from 'node:fs';
import type { Logger } from '@pp-embed/server-runtime';
import type { DatasetHealth } from '@pp-embed/viz-api';
import Database from 'better-sqlite3';
import { type DatasetOptions, openDatasetInBackground, type TermdbDataset } from './dataset.js';
import { DatasetInvalidError, DatasetUnavailableError } from './errors.js';
import { verifyFile } from './verify-file.js';
import { currentStamp, sameBytes, sameFile, type Stamp, stampOf, watchFiles } from '../watch.js';

/**
 * One request's hold on a dataset: the file it reads stays open until `release`, even if a new file is swapped
 * in meanwhile, so a request reads one file from start to end.
 *
 * @example
 * const lease = registry.acquire('TermdbTest');
 * try { return lease.dataset.barchart('sex', scope); } finally { lease.release(); }
 */
export interface Lease {
  readonly dataset: TermdbDataset;
  release(): void;
}

/**
 * @example
 * const options: RegistryOptions = { log, pollMs: 2_000, settleMs: 500 };
 */
export interface RegistryOptions {
  log: Logger;
  /**
   * Keep the datasets in step with their files: hash and check each file at start, then watch for changes (a
   * directory watch, and a stat every `pollMs`). Default true; without it files are looked at only by `check()`.
   */
  watch?: boolean;
  /** How often each file is stat'ed, besides the directory watch, which misses changes on some filesystems. Default 2 s. */
  pollMs?: number;
  /** How long a changed file must stay unchanged before it is opened: a file being written is not read. Default 500 ms. */
  settleMs?: number;
  /** The longest the hash and integrity check of a new file may take. Default 10 minutes. */
  checkTimeoutMs?: number;
  now?: () => number;
}

/** One opened file of a dataset. */
interface Generation {
  /** The dataset as requests see it: a read that fails marks the dataset unavailable. */
  readonly dataset: TermdbDataset;
  readonly opened: TermdbDataset;
  readonly stamp: Stamp;
  version: string | null;
  readonly since: number;
  leases: number;
  retired: boolean;
  /** Its file was seen written in place (reported once). */
  changedInPlace: boolean;
}

interface Slot {
  readonly options: DatasetOptions;
  current: Generation;
  status: DatasetHealth['status'];
  problem: string | null;
  /** The last file that failed the checks: not looked at again until it changes. */
  refused: Stamp | undefined;
  running: boolean;
  /** A look was asked for while one ran; `force` looks even at an unchanged file. */
  queued: { force: boolean } | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** What a dataset holds in memory and how long it took to read, for its log lines. */
function inMemory(dataset: TermdbDataset) {
  const { samples, bytes, openMilliseconds, loadThreads } = dataset.stats();
  return { samples, megabytes: Math.round(bytes / 1e5) / 10, openMilliseconds, loadThreads };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The datasets the server serves, each kept in step with its file on disk.
 *
 * The supported update is an atomic rename: write the new file beside the old one (same filesystem), then
 * rename it over the old name. A directory watch, and a stat every `pollMs` for filesystems that do not report
 * changes, notice a new file; once it has stopped changing for `settleMs` it is hashed and checked with
 * SQLite's quick_check in a worker thread, then opened as at start (schema, term tree, cohorts), its columns
 * read into memory on a worker thread while the old file keeps answering. A file that passes is swapped in
 * between requests: requests that started on the old file finish on it, and the old file
 * is closed after the last one. A file that fails is refused, logged, and reported by `health()`; the old file
 * keeps serving.
 *
 * Writing over the served file in place is not supported: the open connection would read a mix of old and new
 * pages. When the file's inode is the same but its size or times changed, or when a read fails, the dataset is
 * unavailable (503 `dataset_unavailable`) until a file that passes the checks is there again, which is then
 * opened afresh: a good file put back always heals the server.
 *
 * @example
 * const registry = new DatasetRegistry(config.datasets, { log });
 * const lease = registry.acquire('TermdbTest'); // undefined for an unknown label
 */
export class DatasetRegistry {
  readonly #slots = new Map<string, Slot>();
  readonly #log: Logger;
  readonly #pollMs: number;
  readonly #settleMs: number;
  readonly #checkTimeoutMs: number;
  readonly #now: () => number;
  #stopWatching: (() => void) | undefined;
  #closed = false;
  /** Stops a check that runs when the registry closes. */
  readonly #stop = new AbortController();
  /** Checks run one at a time: each reads a whole file, and a server may hold many large ones. */
  #checks: Promise<unknown> = Promise.resolve();

  constructor(datasets: ReadonlyMap<string, TermdbDataset>, options: RegistryOptions) {
    this.#log = options.log;
    this.#pollMs = options.pollMs ?? 2_000;
    this.#settleMs = options.settleMs ?? 500;
    this.#checkTimeoutMs = options.checkTimeoutMs ?? 600_000;
    this.#now = options.now ?? Date.now;
    for (const [label, dataset] of datasets) {
      const { genome, file, disclosure } = dataset;
      const slot: Slot = {
        options: { label, genome, file, disclosure },
        current: undefined as unknown as Generation,
        status: 'ok',
        problem: null,
        refused: undefined,
        running: false,
        queued: undefined,
        timer: undefined,
      };
      slot.current = this.#generation(slot, dataset, stampOf(statSync(file)), null);
      this.#slots.set(label, slot);
      this.#log.info('dataset_ready', { dataset: label, ...inMemory(dataset) });
    }
    if (options.watch ?? true) {
      for (const slot of this.#slots.values()) void this.#versionAtStart(slot);
      this.#watch();
    }
  }

  /** The labels served, in configuration order. */
  get labels(): readonly string[] {
    return [...this.#slots.keys()];
  }

  /**
   * The file served now for `label`, held until the lease is released; undefined for an unknown label.
   *
   * @throws DatasetUnavailableError while the dataset's file cannot be read.
   * @example
   * const lease = registry.acquire('TermdbTest');
   */
  acquire(label: string): Lease | undefined {
    const slot = this.#slots.get(label);
    if (slot === undefined) return undefined;
    if (slot.status === 'unavailable') {
      throw new DatasetUnavailableError(label, slot.problem ?? 'its file cannot be read');
    }
    const generation = slot.current;
    generation.leases++;
    let released = false;
    return {
      dataset: generation.dataset,
      release: () => {
        if (released) return;
        released = true;
        generation.leases--;
        if (generation.retired && generation.leases === 0) generation.opened.close();
      },
    };
  }

  /**
   * How each dataset is served, for `/healthcheck`.
   *
   * @example
   * const degraded = registry.health().some((d) => d.status !== 'ok');
   */
  health(): DatasetHealth[] {
    return [...this.#slots.values()].map((slot) => ({
      label: slot.options.label,
      status: slot.status,
      version: slot.current.version,
      since: new Date(slot.current.since).toISOString(),
      problem: slot.problem,
    }));
  }

  /**
   * Looks at every dataset's file now, and resolves when done (the watch does this by itself).
   *
   * @example
   * renameSync(next, file);
   * await registry.check();
   */
  async check(): Promise<void> {
    await Promise.all([...this.#slots.values()].map((slot) => this.#inspect(slot, false)));
  }

  /**
   * Stops watching and closes every file. Call it after the server has drained, when no request is left.
   *
   * @example
   * lifecycle.exitOnSignals(() => registry.close());
   */
  close(): void {
    this.#closed = true;
    this.#stop.abort();
    this.#stopWatching?.();
    for (const slot of this.#slots.values()) {
      clearTimeout(slot.timer);
      slot.current.retired = true;
      slot.current.opened.close();
    }
  }

  #generation(slot: Slot, opened: TermdbDataset, stamp: Stamp, version: string | null): Generation {
    const generation: Generation = {
      dataset: opened,
      opened,
      stamp,
      version,
      since: this.#now(),
      leases: 0,
      retired: false,
      changedInPlace: false,
    };
    // Every method of the dataset, with a failed SQLite read turned into "unavailable" (and a look at the file).
    // Errors of the request itself (an unknown term, a bad page) pass through untouched.
    const guarded = new Map<PropertyKey, unknown>();
    const onFault = (error: unknown): never => {
      this.#unreadable(slot, generation, error);
      throw new DatasetUnavailableError(slot.options.label, 'a read of its file failed', { cause: error });
    };
    (generation as { dataset: TermdbDataset }).dataset = new Proxy(opened, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key);
        if (typeof value !== 'function' || key === 'close') return value;
        let wrapped = guarded.get(key);
        if (wrapped === undefined) {
          wrapped = (...args: unknown[]) => {
            try {
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            } catch (error) {
              if (error instanceof Database.SqliteError) onFault(error);
              throw error;
            }
          };
          guarded.set(key, wrapped);
        }
        return wrapped;
      },
    });
    return generation;
  }

  #unreadable(slot: Slot, generation: Generation, error: unknown): void {
    if (generation !== slot.current || slot.status === 'unavailable') return;
    slot.status = 'unavailable';
    slot.problem = 'a read of its file failed; it is served again once the file passes the checks';
    this.#log.error('dataset_unreadable', {
      dataset: slot.options.label,
      file: slot.options.file,
      code: (error as { code?: unknown }).code ?? null,
      message: error instanceof Error ? error.message : String(error),
    });
    this.#schedule(slot, 0, true);
  }

  async #versionAtStart(slot: Slot): Promise<void> {
    const generation = slot.current;
    const unchanged = async () => {
      const now = await currentStamp(slot.options.file);
      return now !== undefined && sameBytes(now, generation.stamp);
    };
    try {
      if (!(await unchanged())) return;
      const verdict = await this.#verify(slot.options.file);
      // The check read the file by its name: if another file is there now, the verdict is not about the one
      // served (the watch deals with the new one).
      if (this.#closed || slot.current !== generation || !(await unchanged())) return;
      generation.version = `sha256:${verdict.sha256.slice(0, 16)}`;
      if (verdict.problem !== null) {
        slot.status = 'unavailable';
        slot.problem = `the file fails the integrity check: ${verdict.problem}`;
        slot.refused = generation.stamp;
        this.#log.error('dataset_damaged', {
          dataset: slot.options.label,
          file: slot.options.file,
          reason: verdict.problem,
        });
      }
    } catch (error) {
      if (this.#closed) return;
      this.#log.warn('dataset_check_failed', {
        dataset: slot.options.label,
        file: slot.options.file,
        message: error instanceof Error ? error.message : String(error),
      });
    }
  }

  #verify(file: string): ReturnType<typeof verifyFile> {
    const run = this.#checks.then(() =>
      verifyFile(file, { timeoutMs: this.#checkTimeoutMs, signal: this.#stop.signal }),
    );
    this.#checks = run.catch(() => undefined);
    return run;
  }

  #watch(): void {
    // Two labels may serve one file.
    const byFile = new Map<string, Slot[]>();
    for (const slot of this.#slots.values()) {
      byFile.set(slot.options.file, [...(byFile.get(slot.options.file) ?? []), slot]);
    }
    this.#stopWatching = watchFiles(
      [...byFile.keys()],
      (file, how) => {
        for (const slot of byFile.get(file) ?? []) this.#schedule(slot, how === 'poll' ? 0 : 50, false);
      },
      { pollMs: this.#pollMs, log: this.#log, event: 'dataset_watch_failed' },
    );
  }

  #schedule(slot: Slot, delayMs: number, force: boolean): void {
    if (this.#closed) return;
    if (force) {
      clearTimeout(slot.timer);
      slot.timer = undefined;
    }
    slot.timer ??= setTimeout(() => {
      slot.timer = undefined;
      void this.#inspect(slot, force);
    }, delayMs).unref();
  }

  async #inspect(slot: Slot, force: boolean): Promise<void> {
    if (slot.running) {
      slot.queued = { force: force || slot.queued?.force === true };
      return;
    }
    slot.running = true;
    try {
      await this.#look(slot, force);
    } catch (error) {
      this.#log.error('dataset_check_failed', {
        dataset: slot.options.label,
        message: error instanceof Error ? error.message : String(error),
      });
    } finally {
      slot.running = false;
      const queued = slot.queued;
      slot.queued = undefined;
      if (queued !== undefined) this.#schedule(slot, 0, queued.force);
    }
  }

  async #look(slot: Slot, force: boolean): Promise<void> {
    const { label, file } = slot.options;
    const found = await currentStamp(file);
    if (found === undefined) {
      if (slot.status === 'ok') {
        slot.status = 'stale';
        slot.problem = 'its file is gone; the copy opened before is served';
        this.#log.warn('dataset_file_missing', { dataset: label, file, version: slot.current.version });
      }
      return;
    }
    const served = slot.current.stamp;
    if (sameBytes(found, served) && !force) {
      // The served file is back under its name (it was moved away and back).
      if (slot.status === 'stale' && slot.refused === undefined) {
        slot.status = 'ok';
        slot.problem = null;
      }
      return;
    }
    if (slot.refused !== undefined && sameBytes(found, slot.refused) && !force) return;
    if (sameFile(found, served) && !sameBytes(found, served) && !slot.current.changedInPlace) {
      // Written in place under the open connection: its answers can no longer be trusted.
      slot.current.changedInPlace = true;
      slot.status = 'unavailable';
      slot.problem = 'its file was changed in place; it is served again once the file passes the checks';
      this.#log.error('dataset_changed_in_place', {
        dataset: label,
        file,
        message: 'rename a new file over the old one instead of writing into it',
      });
    }

    await sleep(this.#settleMs);
    const settled = await currentStamp(file);
    if (settled === undefined || !sameBytes(settled, found)) {
      this.#schedule(slot, this.#settleMs, force);
      return;
    }

    const started = this.#now();
    let opened: TermdbDataset | undefined;
    let sha256: string;
    try {
      const verdict = await this.#verify(file);
      if (verdict.problem !== null) throw new DatasetInvalidError(file, verdict.problem);
      sha256 = verdict.sha256;
      // Built on a worker thread: requests go on being answered from the dataset served until the swap.
      opened = await openDatasetInBackground(slot.options, this.#stop.signal);
    } catch (error) {
      if (!this.#closed) this.#refuse(slot, found, error);
      return;
    }
    const after = await currentStamp(file);
    if (this.#closed || after === undefined || !sameBytes(after, found)) {
      // Changed again while it was checked: what was checked is not what is there now.
      opened.close();
      if (!this.#closed) this.#schedule(slot, this.#settleMs, force);
      return;
    }
    this.#swap(slot, opened, found, `sha256:${sha256.slice(0, 16)}`, started);
  }

  #refuse(slot: Slot, stamp: Stamp, error: unknown): void {
    const reason =
      error instanceof DatasetInvalidError
        ? error.reason
        : error instanceof Error
          ? error.message
          : String(error);
    slot.refused = stamp;
    if (slot.status === 'unavailable') {
      slot.problem = `its file cannot be served: ${reason}`;
    } else {
      slot.status = 'stale';
      slot.problem = `the new file was refused (${reason}); the file opened before is served`;
    }
    this.#log.error('dataset_update_refused', {
      dataset: slot.options.label,
      file: slot.options.file,
      reason,
      serving: slot.status === 'unavailable' ? null : slot.current.version,
    });
  }

  #swap(slot: Slot, opened: TermdbDataset, stamp: Stamp, version: string, started: number): void {
    const previous = slot.current;
    slot.current = this.#generation(slot, opened, stamp, version);
    slot.status = 'ok';
    slot.problem = null;
    slot.refused = undefined;
    previous.retired = true;
    if (previous.leases === 0) previous.opened.close();
    this.#log.info('dataset_swapped', {
      dataset: slot.options.label,
      file: slot.options.file,
      version,
      previous: previous.version,
      requestsOnPrevious: previous.leases,
      ms: this.#now() - started,
      ...inMemory(opened),
    });
  }
}
