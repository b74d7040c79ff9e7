/**
 * `@pp-embed/api-token`: personal API tokens for scripts. Their format (`ppat_`, a public id, a 256-bit secret
 * and a checksum secret scanners can check), the portal's endpoints for scripts (the OAuth 2.0 token exchange
 * and the "what may I access" endpoint), and a Node client that exchanges, refreshes and reads data.
 *
 * @example
 * import { ScriptClient } from '@pp-embed/api-token';
 * const client = new ScriptClient({ portal, vizServer, apiToken: process.env.PP_API_TOKEN ?? '' });
 * for await (const row of client.sampleRows('PPDemo', 'agedx')) console.log(row.sample, row.value);
 * @module
 */
export {
  API_TOKEN_LENGTH,
  API_TOKEN_PATTERN,
  API_TOKEN_PREFIX,
  generateApiToken,
  isApiTokenId,
  parseApiToken,
} from './format.js';
export {
  ACCESS_PATH,
  type AccessInfo,
  DEFAULT_API_TOKEN_DAYS,
  EXCHANGE_GRANT_TYPE,
  type ExchangeResponse,
  formatScope,
  MAX_API_TOKEN_DAYS,
  OAUTH_ERRORS,
  type OAuthErrorBody,
  type OAuthErrorCode,
  parseScope,
  SCRIPT_CLIENT_ID,
  type Scope,
  TOKEN_PATH,
} from './contract.js';
export {
  ExchangeError,
  type RouteQuery,
  ScriptClient,
  type ScriptClientOptions,
  tsvRecords,
  VizError,
} from './client.js';
