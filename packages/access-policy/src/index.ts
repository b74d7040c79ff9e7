/**
 * `@pp-embed/access-policy`: ProteinPaint's `dsCredentials`, read once and checked, and the one access decision
 * the visualization server makes for every dataset request. `explain` narrates that same decision.
 *
 * @example
 * import { decide, loadPolicy } from '@pp-embed/access-policy';
 * import { ROUTES } from '@pp-embed/viz-api';
 * const policy = loadPolicy(serverconfig.dsCredentials, { baseDir });
 * const decision = await decide(policy, {
 *   dataset: 'TermdbTest', route: ROUTES.samples, origin, clientIp, header: (name) => req.header(name),
 * });
 * @module
 */
export {
  loadPolicy,
  type LoadPolicyOptions,
  type RegisteredCredential,
  REGISTERED_RULES,
  verificationKey,
} from './load.js';
export {
  type AccessPolicy,
  type ForbiddenCode,
  type Resolution,
  type RouteRequirement,
  type TokenRequirements,
} from './policy.js';
export {
  type CredentialEntry,
  type DsName,
  type ForbiddenEntry,
  type IpCheck,
  type ScriptAccess,
  type OpenEntry,
  type PasswordEntry,
  type PolicyEntry,
  type RouteRef,
  type TokenEntry,
} from './entries.js';
export {
  cohortsOf,
  decide,
  type Decision,
  type DecisionCode,
  type DecisionStep,
  type IssuedToken,
  PASSWORD_USER,
  type RequestFacts,
  type Scope,
} from './decide.js';
export {
  type DatasetDisclosure,
  datasetDisclosure,
  describeCount,
  describeRule,
  disclosureProblems,
  NO_DISCLOSURE,
  rulesBeneath,
  type TierRule,
  tierOf,
  tierWords,
} from './disclosure.js';
export { explain, type ExplainDecision, type ExplainRequest, type Explanation } from './explain.js';
export { dsCredentialsJsonSchema, entrySchema, secretSource } from './schema.js';
export {
  type GrantRule,
  type IssuerGrant,
  type IssuerGrants,
  issuerGrants,
  issuerUrlSchema,
  loadTrustedIssuers,
  type LoadTrustedIssuersOptions,
  passportsSchema,
  type TrustedIssuer,
  trustedIssuerSchema,
} from './issuers.js';
export { type AccessRow, type AccessTable, accessTable, formatAccessTable } from './table.js';
export { hashPassword, type PasswordHash, parsePasswordHash, verifyPassword } from './password.js';
export { type LoginThrottleOptions } from './throttle.js';
export {
  migrateDsCredentials,
  type MigrateOptions,
  type Migration,
  MIGRATED_TOKEN_SECRET_ENV,
} from './migrate.js';
export { type Embedder, embedderFromOrigin } from './origin.js';
