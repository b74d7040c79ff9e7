/**
 * The `ga4gh_visa_v1` object of a GA4GH Passport visa (GA4GH Passport v1.2, "Visa Object Fields"), read strictly:
 * a visa that does not have the shape is not a visa.
 */

/** The visa types of GA4GH Passport v1.2. pp-embed grants from `ControlledAccessGrants` and links identities with `LinkedIdentities`. */
export const VISA_TYPES = [
  'AffiliationAndRole',
  'AcceptedTermsAndPolicies',
  'ResearcherStatus',
  'ControlledAccessGrants',
  'LinkedIdentities',
] as const;

/**
 * One visa's assertion.
 *
 * @example
 * const grant: VisaObject = { type: 'ControlledAccessGrants', asserted: 1767225600, value: 'phs000001.v1.p1', source: 'https://dbgap.example/dac', by: 'dac' };
 */
export interface VisaObject {
  readonly type: string;
  /** When the source asserted it, seconds since the epoch. */
  readonly asserted: number;
  readonly value: string;
  readonly source: string;
  readonly by?: string;
  /** Conditions on the assertion; pp-embed does not evaluate them, so a visa that has any grants nothing. */
  readonly conditions?: unknown;
}

/** A person as a visa names them: the subject at one issuer. */
export interface Identity {
  readonly sub: string;
  readonly iss: string;
}

const MAX_FIELD = 2048;

const shortString = (value: unknown): value is string =>
  typeof value === 'string' && value !== '' && value.length <= MAX_FIELD;

/**
 * The `ga4gh_visa_v1` claim as a {@link VisaObject}, or a sentence saying why it is not one.
 *
 * @example
 * readVisaObject(payload.ga4gh_visa_v1); // { visa: { type: 'ControlledAccessGrants', … } } or { problem: 'has no "value"' }
 */
export function readVisaObject(value: unknown): { visa: VisaObject } | { problem: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problem: 'has no ga4gh_visa_v1 object' };
  }
  const { type, asserted, value: assertion, source, by, conditions } = value as Record<string, unknown>;
  if (!shortString(type)) return { problem: 'has no "type"' };
  if (typeof asserted !== 'number' || !Number.isFinite(asserted))
    return { problem: 'has no "asserted" time' };
  if (!shortString(assertion)) return { problem: 'has no "value"' };
  if (!shortString(source)) return { problem: 'has no "source"' };
  if (by !== undefined && !shortString(by)) return { problem: 'has a "by" that is not a string' };
  return {
    visa: {
      type,
      asserted,
      value: assertion,
      source,
      ...(by !== undefined && { by }),
      ...(conditions !== undefined && { conditions }),
    },
  };
}

/**
 * The identities a `LinkedIdentities` visa's value lists: `sub,iss` pairs, each part URL-encoded, separated by `;`.
 * Entries that are not such a pair are skipped.
 *
 * @example
 * linkedIdentities('10001,https%3A%2F%2Fidp.example;abc,https%3A%2F%2Fother.example');
 * // [{ sub: '10001', iss: 'https://idp.example' }, { sub: 'abc', iss: 'https://other.example' }]
 */
export function linkedIdentities(value: string): Identity[] {
  const out: Identity[] = [];
  for (const pair of value.split(';')) {
    const parts = pair.split(',');
    if (parts.length !== 2) continue;
    try {
      const sub = decodeURIComponent(parts[0] as string);
      const iss = decodeURIComponent(parts[1] as string);
      if (sub !== '' && iss !== '') out.push({ sub, iss });
    } catch {
      // A malformed escape names nobody.
    }
  }
  return out;
}

/** One key per identity, for sets. @example identityKey({ sub: 'a', iss: 'https://idp' }); // 'https://idp\u0000a' */
export function identityKey(identity: Identity): string {
  return `${identity.iss}\u0000${identity.sub}`;
}
