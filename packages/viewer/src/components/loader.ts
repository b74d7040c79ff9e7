import type { ReactiveControllerHost } from 'lit';
import { PpRequestError, isAbortError } from '../client/errors.js';
import type { RouteName } from '../types.js';

/**
 * Where an async load stands, in the shape of `@lit/task`'s INITIAL/PENDING/COMPLETE/ERROR.
 *
 * @example
 * if (state.status === 'complete') render(state.value);
 */
export type LoadState<T> =
  | { status: 'idle' }
  | { status: 'pending' }
  | { status: 'complete'; value: T }
  | { status: 'error'; error: PpRequestError };

/**
 * Callbacks of a {@link Loader}.
 *
 * @example
 * const hooks: LoaderHooks<Term[]> = { onError: (error) => report(error) };
 */
export interface LoaderHooks<T> {
  onComplete?: (value: T) => void;
  onError?: (error: PpRequestError) => void;
}

/**
 * One abortable load bound to a key of its inputs. Starting a load with a new key aborts the previous
 * request, and a response that arrives after it has been superseded is dropped, so a quick succession of
 * term changes can never paint an older term's data.
 *
 * @example
 * const chart = new Loader<BarchartResult>(this, 'barchart');
 * chart.ensure(`${host}|${term}`, (signal) => client.barchart(term, signal));
 */
export class Loader<T> {
  state: LoadState<T> = { status: 'idle' };
  /** The inputs the current state belongs to; `undefined` when nothing is loaded or loading. */
  key: string | undefined;
  readonly #host: ReactiveControllerHost;
  readonly #route: RouteName;
  readonly #hooks: LoaderHooks<T>;
  #controller: AbortController | undefined;
  #speculative = false;

  constructor(host: ReactiveControllerHost, route: RouteName, hooks: LoaderHooks<T> = {}) {
    this.#host = host;
    this.#route = route;
    this.#hooks = hooks;
  }

  /** The loaded value, if the state is complete. */
  get value(): T | undefined {
    return this.state.status === 'complete' ? this.state.value : undefined;
  }

  /**
   * Starts `work` unless the current state already belongs to `key`. A `speculative` load (started before
   * its inputs are confirmed) only keeps a success: its failure is dropped silently, so that the confirmed
   * load runs and reports it. A confirmed `ensure` for the same key adopts a speculative load in flight.
   */
  ensure(
    key: string,
    work: (signal: AbortSignal) => Promise<T>,
    options: { speculative?: boolean } = {},
  ): void {
    if (this.key !== key) this.run(key, work, options);
    else if (!options.speculative) this.#speculative = false;
  }

  /** Aborts whatever is in flight and starts `work` for `key`. */
  run(key: string, work: (signal: AbortSignal) => Promise<T>, options: { speculative?: boolean } = {}): void {
    this.#controller?.abort();
    const controller = new AbortController();
    this.#controller = controller;
    this.#speculative = options.speculative === true;
    this.key = key;
    this.state = { status: 'pending' };
    this.#host.requestUpdate();
    let promise: Promise<T>;
    try {
      promise = work(controller.signal);
    } catch (error) {
      promise = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    promise.then(
      (value) => {
        if (this.#controller !== controller) return;
        this.#controller = undefined;
        this.state = { status: 'complete', value };
        this.#host.requestUpdate();
        this.#hooks.onComplete?.(value);
      },
      (error: unknown) => {
        if (this.#controller !== controller || controller.signal.aborted || isAbortError(error)) return;
        this.#controller = undefined;
        if (this.#speculative) {
          this.key = undefined;
          this.state = { status: 'idle' };
          this.#host.requestUpdate();
          return;
        }
        this.fail(key, error);
      },
    );
  }

  /** Sets the error state for `key` without a request, e.g. when the inputs are unusable. */
  fail(key: string, error: unknown): void {
    this.#controller?.abort();
    this.#controller = undefined;
    this.key = key;
    // A defect in this widget still ends as an error state, never as an exception at the page.
    const normalised =
      error instanceof PpRequestError ? error : new PpRequestError('unexpected_response', 0, this.#route);
    this.state = { status: 'error', error: normalised };
    this.#host.requestUpdate();
    this.#hooks.onError?.(normalised);
  }

  /** Aborts and forgets: the next `ensure` loads again. */
  reset(): void {
    this.#controller?.abort();
    this.#controller = undefined;
    this.key = undefined;
    if (this.state.status !== 'idle') {
      this.state = { status: 'idle' };
      this.#host.requestUpdate();
    }
  }

  /** Aborts an unfinished load so that the next `ensure` starts it again; finished states are kept. */
  suspend(): void {
    if (this.state.status === 'pending') this.reset();
  }
}
