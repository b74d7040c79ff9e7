export {
  ALGORITHMS,
  type Algorithm,
  isAlgorithm,
  HMAC_MIN_SECRET_BYTES,
  RSA_MIN_BITS,
} from './algorithms.js';
export {
  type AccessClaim,
  ACCESS_CLAIMS,
  type DatasetTokenClaims,
  TOKEN_CLIENTS,
  type TokenClient,
  type TokenSubject,
} from './claims.js';
export {
  TOKEN_ERROR_CODES,
  TokenError,
  type TokenErrorCode,
  TokenSetupError,
  type TokenSetupErrorCode,
  isDatasetTokenError,
} from './errors.js';
export {
  type IgnoredKey,
  type JsonWebKeySet,
  type JwksEvent,
  keyServerUrl,
  RemoteJwks,
  type RemoteJwksOptions,
  type ResolvedKey,
} from './jwks.js';
export { discoveryUrl, type IssuerEvent, IssuerKeys, type IssuerKeysOptions } from './discovery.js';
export { createIssuerVerifier, type IssuerVerifier, type IssuerVerifierOptions } from './issuer.js';
export {
  type JwtHeader,
  type JwtRules,
  type KeyResolver,
  peekJwt,
  type VerifiedJwt,
  verifyJwt,
} from './jwt.js';
export {
  type JsonWebKey,
  jwkThumbprint,
  privateKeyFrom,
  publicJwk,
  publicKeyFrom,
  readSecret,
  type SecretSource,
  secretProblem,
} from './keys.js';
export { generateKeyPair, generateSecret } from './generate.js';
export { createSigner, type SignRequest, type Signer, type SignerOptions, type SigningKey } from './sign.js';
export {
  createDocumentVerifier,
  type DocumentVerifier,
  type DocumentVerifierOptions,
  REVOCATION_FEED_TYP,
  type SignedDocument,
  createVerifier,
  MAX_LEEWAY_SECONDS,
  MAX_TOKEN_LENGTH,
  type NamedKey,
  type VerificationKey,
  type VerifiedToken,
  type Verifier,
  type VerifierOptions,
} from './verify.js';
