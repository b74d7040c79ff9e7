/**
 * The reference portal as a library, for the demo, end-to-end tests and benchmarks: build the app, open the
 * database, seed the demo users.
 * @module
 */
export { createApp, type AppDeps, DEFAULT_LOGIN_LIMITS, type LoginLimits } from './app.js';
export { Accounts } from './auth/accounts.js';
export {
  ConfigError,
  configHelp,
  loadConfig,
  type PortalConfig,
  Secret,
  type SigningConfig,
} from './config.js';
export {
  DatabaseError,
  DEFAULT_SESSION_LIFETIMES,
  openStore,
  type PortalStore,
  type StoreLocation,
} from './db/store.js';
export { StoreUnavailableError } from './db/sql.js';
export { REVOCATION_FEED_PATH } from './routes/revocations.js';
export { DEFAULT_EXCHANGE_LIMITS, type ExchangeLimits } from './routes/exchange.js';
export { ApiTokenRefused, type ApiTokenRecord, MAX_API_TOKENS_PER_USER } from './db/api-tokens.js';
export { DEMO_COHORT, DEMO_DATASET, type DemoLogin, REAL_DATASET, seedDemo } from './demo.js';
export { type AppConfig, type PortalEnv } from './http/env.js';
export { jsonLogger, type Logger, silentLogger } from '@pp-embed/server-runtime';
export { listen, type RunningServer } from './server.js';
export { createTokenKeys, es256KeyDirectory, hs256Keys, type TokenKeys } from './tokens/keys.js';
export { type MintDecision, type MintExtras, signRequest, tokenClaims } from './tokens/mint.js';
