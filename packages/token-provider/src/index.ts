/**
 * Browser token provider: turns a portal's asynchronous token endpoint into the synchronous
 * `getDatasetAccessToken` callback of `<pp-viewer>` and `runproteinpaint()`. No dependencies.
 * @module
 */
export {
  createTokenProvider,
  type HeadersOption,
  type ListenerTarget,
  type TokenProvider,
  type TokenProviderOptions,
  type TokenState,
  type TokenStatus,
} from './provider.js';
export { backoffDelay, retryAfterMs } from './backoff.js';
