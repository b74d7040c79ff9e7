import type { Logger } from './log.js';

/**
 * What a line is about, for counting: e.g. `{ code, origin, address }` of a refusal. Lines with the same key
 * share one allowance.
 *
 * @example
 * const key: LogKey = { code: 'token_invalid', origin: 'https://portal.example.org', address: '203.0.113.7' };
 */
export type LogKey = Readonly<Record<string, string | null>>;

/**
 * @example
 * const options: RateLimitedLogOptions = { perKey: 10, total: 300, windowMs: 60_000 };
 */
export interface RateLimitedLogOptions {
  /** Lines written per key per window. Default 10. */
  perKey?: number;
  /** Lines written per window, all keys together. Default 300. */
  total?: number;
  /** Default 60 s. */
  windowMs?: number;
  /** Keys counted per window; lines of further keys are suppressed and counted together. Default 10,000. */
  maxKeys?: number;
  /** The `top` list of the summary line. Default 10. */
  topKeys?: number;
  clock?: () => number;
}

/**
 * A log for lines that a client can cause at will (refusals, malformed requests): each key gets `perKey` lines
 * per window and all keys together `total`, so that a flood of hostile requests writes a bounded amount whatever
 * it varies. At the end of a window in which anything was suppressed, one `log_suppressed` line gives the count,
 * the number of keys and the keys that lost most, so what was dropped is still known by its size and its source.
 * Nothing that must be kept (an audit trail, a server fault) belongs here.
 *
 * @example
 * const refusals = new RateLimitedLog(jsonLogger());
 * refusals.info({ code, origin, address }, 'refused', { route, status, code, origin, address });
 */
export class RateLimitedLog {
  readonly #log: Logger;
  readonly #perKey: number;
  readonly #total: number;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #topKeys: number;
  readonly #clock: () => number;
  #windowStart: number;
  #written = 0;
  #suppressed = 0;
  /** Suppressed lines of keys beyond `maxKeys`. */
  #uncounted = 0;
  readonly #keys = new Map<string, { key: LogKey; written: number; suppressed: number }>();
  #timer: NodeJS.Timeout | undefined;

  constructor(log: Logger, options: RateLimitedLogOptions = {}) {
    this.#log = log;
    this.#perKey = options.perKey ?? 10;
    this.#total = options.total ?? 300;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#maxKeys = options.maxKeys ?? 10_000;
    this.#topKeys = options.topKeys ?? 10;
    this.#clock = options.clock ?? Date.now;
    this.#windowStart = this.#clock();
  }

  /** @example refusals.info({ code, origin, address }, 'refused', fields); */
  info(key: LogKey, event: string, fields: Record<string, unknown> = {}): void {
    this.#write('info', key, event, fields);
  }

  /** @example refusals.warn({ code: 'bad_request', origin, address }, 'bad_request', fields); */
  warn(key: LogKey, event: string, fields: Record<string, unknown> = {}): void {
    this.#write('warn', key, event, fields);
  }

  /**
   * Ends the current window now: writes its `log_suppressed` line if anything was suppressed, and starts
   * counting afresh. Called by itself when a window with suppressed lines ends; call it at shutdown.
   *
   * @example
   * lifecycle.exitOnSignals(() => refusals.flush());
   */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#suppressed > 0) {
      const top = [...this.#keys.values()]
        .filter((k) => k.suppressed > 0)
        .sort((a, b) => b.suppressed - a.suppressed)
        .slice(0, this.#topKeys)
        .map((k) => ({ ...k.key, suppressed: k.suppressed }));
      this.#log.warn('log_suppressed', {
        windowSeconds: Math.round((this.#clock() - this.#windowStart) / 1000),
        written: this.#written,
        suppressed: this.#suppressed,
        keys: this.#keys.size + (this.#uncounted > 0 ? 1 : 0),
        ...(this.#uncounted > 0 && { suppressedBeyondKeyLimit: this.#uncounted }),
        top,
      });
    }
    this.#keys.clear();
    this.#written = 0;
    this.#suppressed = 0;
    this.#uncounted = 0;
    this.#windowStart = this.#clock();
  }

  #write(level: 'info' | 'warn', key: LogKey, event: string, fields: Record<string, unknown>): void {
    if (this.#clock() - this.#windowStart >= this.#windowMs) this.flush();
    const id = JSON.stringify(key);
    let entry = this.#keys.get(id);
    if (entry === undefined && this.#keys.size < this.#maxKeys) {
      entry = { key, written: 0, suppressed: 0 };
      this.#keys.set(id, entry);
    }
    if (entry === undefined || entry.written >= this.#perKey || this.#written >= this.#total) {
      this.#suppressed++;
      if (entry === undefined) this.#uncounted++;
      else entry.suppressed++;
      // The summary of a window with suppressed lines is written at its end even if no line comes after it.
      const left = Math.max(0, this.#windowStart + this.#windowMs - this.#clock());
      this.#timer ??= setTimeout(() => this.flush(), left).unref();
      return;
    }
    entry.written++;
    this.#written++;
    this.#log[level](event, fields);
  }
}
