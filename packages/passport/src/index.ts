/**
 * `@pp-embed/passport`: GA4GH Passport v1.2 visas, read and checked against a server's configuration, and the
 * dataset grants their `ControlledAccessGrants` visas map to. Every signature goes through
 * `@pp-embed/dataset-token`.
 *
 * @example
 * import { createPassportReader } from '@pp-embed/passport';
 * const reader = createPassportReader({ visaIssuers, visas });
 * const { grants, expiresAt, visas: outcomes } = await reader.read(token, verifiedPassport);
 * @module
 */
export {
  createPassportReader,
  type PassportReader,
  type PassportReaderOptions,
  type PassportResult,
  type VisaGrant,
  type VisaIssuer,
  type VisaOutcome,
  type VisaRefusal,
  type VisaRule,
} from './reader.js';
export {
  type Identity,
  identityKey,
  linkedIdentities,
  readVisaObject,
  VISA_TYPES,
  type VisaObject,
} from './visa.js';
