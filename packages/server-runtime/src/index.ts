/**
 * `@pp-embed/server-runtime`: what the visualization server, the reference portal and `pp-token` share as
 * processes: JSON-line logs, one error type for a configuration that cannot be used, and the "did you mean" of
 * its messages.
 *
 * @example
 * import { ConfigError, jsonLogger } from '@pp-embed/server-runtime';
 * const log = jsonLogger();
 * try { start() } catch (e) { if (e instanceof ConfigError) { console.error(e.message); process.exitCode = 1 } }
 * @module
 */
export { ConfigError, type ConfigProblem, formatPath } from './config-error.js';
export {
  DEFAULT_DRAIN_MS,
  type DrainState,
  Lifecycle,
  type LifecycleOptions,
  type Listening,
  type ListenOptions,
  type ServeTimeouts,
  SERVING,
  type ShutdownSummary,
  type SignalOptions,
} from './lifecycle.js';
export { describeError, jsonLogger, type Logger, silentLogger } from './log.js';
export { closestName } from './did-you-mean.js';
export { type LogKey, RateLimitedLog, type RateLimitedLogOptions } from './rate-limited-log.js';
export { Secret } from './secret.js';
