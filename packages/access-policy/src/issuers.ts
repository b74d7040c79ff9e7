import {
  createIssuerVerifier,
  type IssuerKeysOptions,
  type IssuerVerifier,
  TokenSetupError,
  type VerifiedJwt,
} from '@pp-embed/dataset-token';
import { createPassportReader, type PassportReader, type VisaOutcome } from '@pp-embed/passport';
import { ConfigError, type ConfigProblem, formatPath } from '@pp-embed/server-runtime';
import { DATASET_LABEL, type RouteClass } from '@pp-embed/viz-api';
import * as z from 'zod';

/**
 * One rule that turns a verified token's claims into a grant: an exact scope (RFC 9068 §2.2.3 `scope`), or an exact
 * value of a claim (a string, or an element of a list, such as a `groups` claim).
 */
export interface GrantRule {
  /** Where the rule is written: `trustedIssuers.university.grants[0]`. */
  readonly path: string;
  readonly claim: string;
  readonly value: string;
  readonly dataset: string;
  /** Only these cohorts; null: the whole dataset. */
  readonly cohorts: readonly string[] | null;
  /** The route classes it covers; null: all. */
  readonly routes: readonly RouteClass[] | null;
}

/** An OpenID Provider a credential entry may accept tokens from, as `loadTrustedIssuers` built it. */
export interface TrustedIssuer {
  /** Its key in `trustedIssuers`, which entries name in `issuers`. */
  readonly name: string;
  readonly path: string;
  /** The issuer URL, exactly as its tokens' `iss` reads. */
  readonly issuer: string;
  readonly verifier: IssuerVerifier;
  readonly rules: readonly GrantRule[];
  /** Set when its tokens are GA4GH passports (or carry `ga4gh_passport_v1`): visas mapped by the visa table. */
  readonly passports: PassportReader | undefined;
}

/** What a verified token from a trusted issuer grants, and by which claim and rule, for `decide` and `explain`. */
export interface IssuerGrant {
  readonly dataset: string;
  readonly cohorts: readonly string[] | null;
  readonly routes: readonly RouteClass[] | null;
  /** `scope`, a claim name, or `ga4gh_passport_v1` for a visa. */
  readonly claim: string;
  readonly value: string;
  /** The rule's path (a `grants` item or a row of `passports.visas`). */
  readonly rule: string;
  /** When the grant ends, seconds since the epoch. */
  readonly expiresAt: number;
}

export interface IssuerGrants {
  readonly grants: readonly IssuerGrant[];
  /** Each visa's outcome, for a passport. */
  readonly visas: readonly VisaOutcome[] | undefined;
}

const ROUTE_CLASSES = ['discovery', 'aggregated', 'sample-level'] as const;
const label = z.string().regex(DATASET_LABEL, { error: 'expected a dataset label' });
const cohorts = z.array(z.string().min(1)).min(1, { error: 'expected at least one cohort id' }).optional();
const routes = z
  .array(z.enum(ROUTE_CLASSES, { error: `expected one of ${ROUTE_CLASSES.join(', ')}` }))
  .min(1)
  .optional();
const nonEmpty = (what: string) =>
  z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}` });
/**
 * An issuer's or key set's URL as the configuration may give it: https, or http on 127.0.0.1 only (a test IdP, a
 * sidecar), the rule `keyServerUrl` of @pp-embed/dataset-token applies when it is fetched.
 *
 * @example
 * issuerUrlSchema.parse('https://login.university.example'); // ok; 'http://login.university.example' is refused
 */
export const issuerUrlSchema = nonEmpty('a URL').refine(
  (value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'https:' || (url.protocol === 'http:' && url.hostname === '127.0.0.1');
    } catch {
      return false;
    }
  },
  { error: 'expected an https URL (http only on 127.0.0.1)' },
);

const grantRule = z.union(
  [
    z.strictObject({ scope: nonEmpty('a scope'), dataset: label, cohorts, routes }),
    z.strictObject({
      claim: nonEmpty('a claim name'),
      value: nonEmpty('a value'),
      dataset: label,
      cohorts,
      routes,
    }),
  ],
  {
    error:
      'expected {"scope", "dataset"} or {"claim", "value", "dataset"}, with optional "cohorts" and "routes"',
  },
);

/** One trusted issuer of the `trustedIssuers` section of serverconfig.json. */
export const trustedIssuerSchema = z
  .strictObject({
    issuer: issuerUrlSchema.meta({ description: "The issuer URL, exactly as its tokens' iss reads." }),
    audience: z
      .union([nonEmpty('an audience'), z.array(nonEmpty('an audience')).min(1)])
      .meta({ description: 'How this server is known at the issuer: a token must name it in aud.' }),
    algorithms: z
      .array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']))
      .min(1)
      .optional(),
    maxTokenAge: z
      .int()
      .min(1)
      .max(86_400)
      .optional()
      .meta({ description: 'Longest exp - iat accepted. Default 86400.' }),
    grants: z.array(grantRule).optional().meta({
      description:
        'Rules from claims to grants: an exact scope, or an exact value of a claim such as groups.',
    }),
    passports: z.boolean().optional().meta({
      description: 'Its tokens are GA4GH passports: their visas are mapped through passports.visas.',
    }),
  })
  .meta({ title: 'A trusted OpenID issuer' });

const visaIssuer = z.strictObject({
  issuer: issuerUrlSchema,
  jku: z.array(issuerUrlSchema).min(1).optional(),
  discovery: z.boolean().optional(),
  algorithms: z
    .array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']))
    .min(1)
    .optional(),
  linkedIdentities: z.boolean().optional(),
});

/** The `passports` section: who may sign visas, and the table from visa values to datasets. */
export const passportsSchema = z
  .strictObject({
    visaIssuers: z.array(visaIssuer).min(1),
    visas: z
      .array(
        z.strictObject({
          value: nonEmpty('a visa value such as phs000001.v1.p1'),
          source: z.array(nonEmpty('a source')).min(1),
          by: z.array(nonEmpty('a "by" value')).min(1).optional(),
          dataset: label,
          cohorts,
        }),
      )
      .min(1),
  })
  .meta({
    title: 'GA4GH passports',
    description: 'Visa issuers and the table from ControlledAccessGrants values to datasets.',
  });

export interface LoadTrustedIssuersOptions {
  now?: () => number;
  leewaySeconds?: number;
  /** How discovery documents and key sets are fetched (timeouts, events). */
  keys?: IssuerKeysOptions;
}

/**
 * Reads the `trustedIssuers` and `passports` sections of serverconfig.json and builds a verifier per issuer (keys
 * from its discovery document, fetched by `ready()` or the first token) and the passport reader. Every mistake is
 * collected with its JSON path and thrown as one {@link ConfigError}.
 *
 * @example
 * const issuers = loadTrustedIssuers(config.trustedIssuers, config.passports, { leewaySeconds: 5 });
 * const policy = loadPolicy(config.dsCredentials, { baseDir, issuers });
 */
export function loadTrustedIssuers(
  raw: unknown,
  passportsRaw?: unknown,
  options: LoadTrustedIssuersOptions = {},
): ReadonlyMap<string, TrustedIssuer> {
  const problems: ConfigProblem[] = [];
  const report = (root: string, segments: readonly PropertyKey[], message: string) =>
    problems.push({ path: formatPath(root, segments), message });
  let reader: PassportReader | undefined;
  if (passportsRaw !== undefined) {
    const parsed = passportsSchema.safeParse(passportsRaw);
    if (!parsed.success)
      for (const issue of parsed.error.issues) report('passports', issue.path, issue.message);
    else {
      try {
        reader = createPassportReader({
          visaIssuers: parsed.data.visaIssuers,
          visas: parsed.data.visas.map((row, i) => ({ ...row, path: formatPath('passports', ['visas', i]) })),
          ...(options.now !== undefined && { now: options.now }),
          ...(options.leewaySeconds !== undefined && { leewaySeconds: options.leewaySeconds }),
          ...(options.keys !== undefined && { keys: options.keys }),
        });
      } catch (error) {
        if (!(error instanceof TokenSetupError)) throw error;
        report('passports', ['visaIssuers'], error.message);
      }
    }
  }
  const issuers = new Map<string, TrustedIssuer>();
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) {
    report('trustedIssuers', [], 'expected an object whose keys name trusted issuers');
  }
  const byUrl = new Map<string, string>();
  for (const [name, value] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
    if (name.startsWith('#')) continue;
    const parsed = trustedIssuerSchema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) report('trustedIssuers', [name, ...issue.path], issue.message);
      continue;
    }
    const spec = parsed.data;
    const path = formatPath('trustedIssuers', [name]);
    if (byUrl.has(spec.issuer)) {
      report(
        'trustedIssuers',
        [name, 'issuer'],
        `the same issuer as "${byUrl.get(spec.issuer)}"; keep one of them`,
      );
      continue;
    }
    byUrl.set(spec.issuer, name);
    if (spec.passports === true && reader === undefined && passportsRaw === undefined) {
      report(
        'trustedIssuers',
        [name, 'passports'],
        'needs a "passports" section: the visa issuers and the visa table',
      );
    }
    if ((spec.grants ?? []).length === 0 && spec.passports !== true) {
      report('trustedIssuers', [name], 'grants nothing: give "grants" rules or "passports": true');
    }
    let verifier: IssuerVerifier;
    try {
      verifier = createIssuerVerifier({
        issuer: spec.issuer,
        audience: spec.audience,
        ...(spec.algorithms !== undefined && { algorithms: spec.algorithms }),
        ...(spec.maxTokenAge !== undefined && { maxTokenAgeSeconds: spec.maxTokenAge }),
        ...(spec.passports === true && { types: ['at+jwt', 'JWT', 'vnd.ga4gh.passport+jwt'] }),
        ...(options.leewaySeconds !== undefined && { leewaySeconds: options.leewaySeconds }),
        ...(options.now !== undefined && { now: options.now }),
        ...(options.keys !== undefined && { keys: options.keys }),
      });
    } catch (error) {
      if (!(error instanceof TokenSetupError)) throw error;
      report('trustedIssuers', [name, 'issuer'], error.message);
      continue;
    }
    const rules = (spec.grants ?? []).map((rule, i): GrantRule => ({
      path: formatPath('trustedIssuers', [name, 'grants', i]),
      claim: 'scope' in rule ? 'scope' : rule.claim,
      value: 'scope' in rule ? rule.scope : rule.value,
      dataset: rule.dataset,
      cohorts: rule.cohorts ?? null,
      routes: rule.routes ?? null,
    }));
    issuers.set(
      name,
      Object.freeze({
        name,
        path,
        issuer: spec.issuer,
        verifier,
        rules,
        passports: spec.passports === true ? reader : undefined,
      }),
    );
  }
  if (problems.length > 0) throw new ConfigError('trustedIssuers', problems);
  return issuers;
}

/** The values a claim holds: a string (for `scope`, its space-separated items) or the strings of a list. */
function claimValues(payload: Readonly<Record<string, unknown>>, claim: string): readonly string[] {
  const value = Object.hasOwn(payload, claim) ? payload[claim] : undefined;
  if (typeof value === 'string') return claim === 'scope' ? value.split(' ').filter(Boolean) : [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

/**
 * What a verified token from `issuer` grants: every rule whose claim holds its value, and for a passport issuer
 * every visa grant. Never throws.
 *
 * @example
 * const { grants } = await issuerGrants(trusted, token, verified);
 * grants.filter((g) => g.dataset === 'TermdbTest');
 */
export async function issuerGrants(
  issuer: TrustedIssuer,
  token: string,
  verified: VerifiedJwt,
  at?: number,
): Promise<IssuerGrants> {
  const grants: IssuerGrant[] = [];
  for (const rule of issuer.rules) {
    if (!claimValues(verified.payload, rule.claim).includes(rule.value)) continue;
    grants.push({
      dataset: rule.dataset,
      cohorts: rule.cohorts,
      routes: rule.routes,
      claim: rule.claim,
      value: rule.value,
      rule: rule.path,
      expiresAt: verified.exp,
    });
  }
  if (issuer.passports === undefined) return { grants, visas: undefined };
  const passport = await issuer.passports.read(token, verified, at);
  for (const grant of passport.grants) {
    grants.push({
      dataset: grant.dataset,
      cohorts: grant.cohorts,
      routes: null,
      claim: 'ga4gh_passport_v1',
      value: `visa ${grant.visa} (${grant.rule.value})`,
      rule: grant.rule.path ?? 'passports.visas',
      expiresAt: Math.min(grant.expiresAt, passport.expiresAt),
    });
  }
  return { grants, visas: passport.visas };
}
