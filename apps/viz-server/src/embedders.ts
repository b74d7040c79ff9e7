import type { AccessPolicy } from '@pp-embed/access-policy';
import { companionFiles, LockedError, type Observation, recordSeen } from '@pp-embed/embedder-registry';
import type { RevocationFeeds, RevocationLookup } from '@pp-embed/revocation';
import { accessRevocations, type LoadedRegistry } from '@pp-embed/server-config';
import { ConfigError, type Logger } from '@pp-embed/server-runtime';
import type { EmbedderRegistryHealth } from '@pp-embed/viz-api';
import { currentStamp, sameBytes, type Stamp, watchFiles } from './watch.js';

/**
 * What decides access: the policy, and what every verified token is asked about (the registry's retired entries,
 * then the portals' revocation feeds). Immutable: a change of the registry makes a new one.
 *
 * @example
 * const state: AccessState = { policy: config.policy, revocations: accessRevocations(config.registry, config.revocations) };
 */
export interface AccessState {
  readonly policy: AccessPolicy;
  readonly revocations?: RevocationLookup | undefined;
}

/**
 * The access state of a loaded configuration, as it is at load: for a server that does not watch its registry
 * (tests, tools).
 *
 * @example
 * createApp({ ...deps, access: accessAtLoad(config) });
 */
export function accessAtLoad(config: {
  policy: AccessPolicy;
  registry: LoadedRegistry | undefined;
  revocations: RevocationFeeds | undefined;
}): AccessState {
  return Object.freeze({
    policy: config.policy,
    revocations: accessRevocations(config.registry, config.revocations),
  });
}

/**
 * @example
 * const options: EmbedderRegistryOptions = { log, pollMs: 1000, flushMs: 10_000 };
 */
export interface EmbedderRegistryOptions {
  log: Logger;
  /** How often the file is stat'ed besides the folder watch (which misses changes on some filesystems). Default 1 s. */
  pollMs?: number;
  /** How long a changed file must stay unchanged before it is read: a file being copied is not read. Default 100 ms. */
  settleMs?: number;
  /** How often the keys seen checking tokens are written to the record of key use. Default 10 s. */
  flushMs?: number;
  /** Where that record is; default beside the registry (`companionFiles`). */
  seenFile?: string;
  now?: () => number;
}

interface Use {
  first: number;
  last: number;
}

/**
 * The embedder registry of a running server. It keeps the access state in force and swaps in the next one when
 * the file changes: a folder watch and a stat every second notice a change, the file is read with the same
 * loader as at start (`LoadedRegistry.reload`), the next policy's remote key sets are fetched, and the new state
 * replaces the old between requests (a request reads the state once, when it starts, and finishes on it). A file
 * that cannot be used (cut short, tampered with, older, refused by the loader) is refused: the state in force
 * keeps serving, the log says why with each JSON path (`embedder_registry_refused`), and `health()` says `stale`
 * until a good file is there.
 *
 * It also records which key of which entry checks tokens, in memory, and writes it to the record of key use
 * every few seconds (never per request), for `pp-token embedder list` and `rotate`.
 *
 * @example
 * const embedders = new EmbedderRegistryWatch(config.registry, { policy: config.policy, feeds }, { log });
 * createApp({ ...deps, access: () => embedders.current(), keyUse: (path, kid) => embedders.noteKeyUse(path, kid) });
 */
export class EmbedderRegistryWatch {
  #loaded: LoadedRegistry;
  #state: AccessState;
  readonly #feeds: RevocationFeeds | undefined;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #settleMs: number;
  readonly #seenFile: string;
  #since: number;
  #problem: string | null = null;
  /** The file as last looked at, and the last one refused (not read again until it changes). */
  #looked: Stamp | undefined;
  #refused: Stamp | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #stopWatching: () => void;
  readonly #flushTimer: NodeJS.Timeout;
  #uses = new Map<string, Map<string, Use>>();
  #closed = false;
  #seenFailed = false;
  /** Writes of the record of key use, one after the other. */
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    loaded: LoadedRegistry,
    start: { policy: AccessPolicy; feeds: RevocationFeeds | undefined },
    options: EmbedderRegistryOptions,
  ) {
    this.#loaded = loaded;
    this.#feeds = start.feeds;
    this.#state = Object.freeze({
      policy: start.policy,
      revocations: accessRevocations(loaded, start.feeds),
    });
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#since = this.#now();
    this.#settleMs = options.settleMs ?? 100;
    this.#seenFile = options.seenFile ?? companionFiles(loaded.file).seen;
    void currentStamp(loaded.file).then((stamp) => (this.#looked ??= stamp));
    this.#stopWatching = watchFiles([loaded.file], (_file, how) => this.#schedule(how === 'poll' ? 0 : 20), {
      pollMs: options.pollMs ?? 1_000,
      log: options.log,
      event: 'embedder_registry_watch_failed',
    });
    this.#flushTimer = setInterval(() => void this.flush(), options.flushMs ?? 10_000).unref();
  }

  /** The access state in force. @example const { policy, revocations } = embedders.current(); */
  current(): AccessState {
    return this.#state;
  }

  /** The registry's row of `/healthcheck`. @example embedders.health().status; // 'ok' */
  health(): EmbedderRegistryHealth {
    const entries = this.#loaded.registry.entries;
    const retired = entries.filter((e) => e.retired !== undefined).length;
    return {
      status: this.#problem === null ? 'ok' : 'stale',
      version: this.#loaded.registry.version,
      entries: entries.length - retired,
      retired,
      since: new Date(this.#since).toISOString(),
      problem: this.#problem,
    };
  }

  /**
   * Looks at the file now and resolves when what it holds is in force, or refused (the watch does this by
   * itself).
   *
   * @example
   * await editRegistry(file, key, change, { by });
   * await embedders.check();
   */
  async check(): Promise<void> {
    await this.#look(true);
  }

  /**
   * Notes that key `kid` of the credential entry at `path` checked a token now; an entry of dsCredentials is not
   * recorded. In memory: written by {@link flush}.
   *
   * @example
   * if (decision.allowed && decision.kid !== undefined) embedders.noteKeyUse(decision.entry.path, decision.kid);
   */
  noteKeyUse(path: string, kid: string): void {
    const id = this.#loaded.entryId(path);
    if (id === undefined) return;
    const now = this.#now();
    let byKid = this.#uses.get(id);
    if (byKid === undefined) this.#uses.set(id, (byKid = new Map()));
    const use = byKid.get(kid);
    if (use === undefined) byKid.set(kid, { first: now, last: now });
    else use.last = now;
  }

  /**
   * Writes the key use noted since the last time to the record of key use, after any write of this server still
   * running. Another server holding the file's lock makes this one wait for its next turn (`waitMs`, 0 for the
   * periodic write); nothing is lost.
   *
   * @example
   * await embedders.flush();
   */
  flush(waitMs = 0): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#write(waitMs));
    return this.#flushing;
  }

  async #write(waitMs: number): Promise<void> {
    if (this.#uses.size === 0) return;
    const taken = this.#uses;
    this.#uses = new Map();
    const observations: Observation[] = [...taken].flatMap(([id, byKid]) =>
      [...byKid].map(([kid, use]) => ({ id, kid, first: use.first, last: use.last })),
    );
    try {
      await recordSeen(this.#seenFile, observations, { waitMs });
      this.#seenFailed = false;
    } catch (error) {
      // Kept for the next turn, merged with what is noted meanwhile.
      for (const o of observations) {
        let byKid = this.#uses.get(o.id);
        if (byKid === undefined) this.#uses.set(o.id, (byKid = new Map()));
        const use = byKid.get(o.kid);
        byKid.set(
          o.kid,
          use === undefined
            ? { first: o.first, last: o.last }
            : { first: Math.min(o.first, use.first), last: Math.max(o.last, use.last) },
        );
      }
      if (!(error instanceof LockedError) && !this.#seenFailed) {
        this.#seenFailed = true;
        this.#log.warn('key_use_not_recorded', { file: this.#seenFile, message: (error as Error).message });
      }
    }
  }

  /**
   * Stops watching and writes the key use noted so far. Call it when the server has drained.
   *
   * @example
   * lifecycle.exitOnSignals(() => embedders.close());
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stopWatching();
    clearTimeout(this.#timer);
    clearInterval(this.#flushTimer);
    await this.#running;
    // The last write waits a little for another server's: what this one saw is not noted anywhere else.
    await this.flush(2_000);
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.#look(false);
    }, delayMs).unref();
  }

  /** One look at a time; a look asked for meanwhile runs once after it. */
  async #look(force: boolean): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true;
      await this.#running;
      if (!force) return;
    }
    this.#running = this.#read(force).finally(() => {
      this.#running = undefined;
    });
    await this.#running;
    if (this.#again && !this.#closed) {
      this.#again = false;
      await this.#look(false);
    }
  }

  async #read(force: boolean): Promise<void> {
    const file = this.#loaded.file;
    const found = await currentStamp(file);
    if (found === undefined) {
      this.#problem = 'the registry file is gone; the version loaded before is in force';
      return;
    }
    if (!force && this.#looked !== undefined && sameBytes(found, this.#looked)) return;
    if (!force && this.#refused !== undefined && sameBytes(found, this.#refused)) return;
    if (!force) {
      // A file copied into place, rather than renamed there as `pp-token embedder` does, is read once it is whole.
      await new Promise((resolve) => setTimeout(resolve, this.#settleMs));
      const settled = await currentStamp(file);
      if (settled === undefined || !sameBytes(settled, found)) {
        this.#schedule(this.#settleMs);
        return;
      }
    }
    this.#looked = found;
    const previous = this.#loaded;
    let next: ReturnType<LoadedRegistry['reload']>;
    try {
      next = previous.reload(this.#state.policy);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.#refused = found;
      this.#log.error('embedder_registry_refused', {
        file,
        serving: previous.registry.version,
        problems: error.problems.map((p) => ({ path: p.path, message: p.message })),
      });
      this.#problem = `a change was refused (embedder_registry_refused in the log); version ${previous.registry.version} is in force`;
      return;
    }
    if (next === 'unchanged') {
      this.#problem = null;
      return;
    }
    // Key sets of portals that publish a JWKS are fetched before their entries decide anything; one that cannot be
    // fetched logs that and refuses its tokens until it can (fail closed), as at start.
    await next.policy.ready().catch(() => undefined);
    if (this.#closed) return;
    this.#loaded = next.registry;
    this.#state = Object.freeze({
      policy: next.policy,
      revocations: accessRevocations(next.registry, this.#feeds),
    });
    this.#since = this.#now();
    this.#problem = null;
    this.#refused = undefined;
    this.#log.info('embedder_registry_loaded', {
      version: next.registry.registry.version,
      previous: previous.registry.version,
      ...changes(previous, next.registry),
    });
    for (const warning of next.policy.warnings) {
      this.#log.warn('config_warning', { warning: `${warning.path}: ${warning.message}` });
    }
  }
}

/** What a new version changed, by entry id, for the log. */
function changes(before: LoadedRegistry, after: LoadedRegistry): Record<string, string[]> {
  const old = new Map(before.registry.entries.map((e) => [e.id, e]));
  const out = {
    added: [] as string[],
    retired: [] as string[],
    rekeyed: [] as string[],
    removed: [] as string[],
  };
  const kids = (e: { keys: readonly { kid: string }[] }) => e.keys.map((k) => k.kid).join(' ');
  for (const entry of after.registry.entries) {
    const was = old.get(entry.id);
    old.delete(entry.id);
    if (was === undefined) out.added.push(entry.id);
    else if (was.retired === undefined && entry.retired !== undefined) out.retired.push(entry.id);
    else if (kids(was) !== kids(entry)) out.rekeyed.push(entry.id);
  }
  out.removed.push(...old.keys());
  return out;
}
