export { loadPolicy, type LoadPolicyOptions } from './load.js';
export {
  type AccessPolicy,
  type ForbiddenCode,
  type Resolution,
  type RouteRequirement,
  type TokenRequirements,
} from './policy.js';
export {
  type DsName,
  type ForbiddenEntry,
  type OpenEntry,
  type PolicyEntry,
  type RouteRef,
  type TokenEntry,
} from './entries.js';
export {
  AccessRefusedError,
  authorize,
  type Authorization,
  type AuthorizeRequest,
  REFUSAL_CODES,
  REFUSAL_MESSAGES,
  type RefusalCode,
} from './authorize.js';
export {
  explain,
  type ExplainDecision,
  type ExplainEvidence,
  type ExplainRequest,
  type Explanation,
} from './explain.js';
export { PolicyConfigError, type PolicyProblem } from './problems.js';
export {
  DEFAULT_HEADER_KEY,
  dsCredentialsJsonSchema,
  dsCredentialsSchema,
  type DsCredentialsInput,
} from './schema.js';
export { type Embedder, embedderFromOrigin } from './origin.js';
export { canonicalIp, sameAddress, sameNetwork } from './ip.js';
export { TERMDB_ROUTES, type TermdbRouteId } from './routes.js';
