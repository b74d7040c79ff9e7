import { createHash } from 'node:crypto';
import {
  type Algorithm,
  isAlgorithm,
  IssuerKeys,
  type IssuerKeysOptions,
  type JwtHeader,
  peekJwt,
  RemoteJwks,
  type ResolvedKey,
  TokenError,
  TokenSetupError,
  type VerifiedJwt,
  verifyJwt,
} from '@pp-embed/dataset-token';
import { type Identity, identityKey, linkedIdentities, readVisaObject, type VisaObject } from './visa.js';

/**
 * An issuer whose visas are believed, and how its signatures are checked.
 *
 * @example
 * const dac: VisaIssuer = { issuer: 'https://dac.example.org', jku: ['https://dac.example.org/visa-keys.json'] };
 */
export interface VisaIssuer {
  readonly issuer: string;
  /**
   * The key set URLs its visa document tokens may name in `jku`. A `jku` not listed here is refused before anything
   * is fetched (GA4GH AAI v1.2; RFC 8725 §3.10).
   */
  readonly jku?: readonly string[] | undefined;
  /** Visa access tokens (no `jku`): checked with the keys of the issuer's discovery document. */
  readonly discovery?: boolean | undefined;
  /** Default RS256 and ES256. */
  readonly algorithms?: readonly string[] | undefined;
  /** Its `LinkedIdentities` visas may tie visas for other subjects to the passport's holder. */
  readonly linkedIdentities?: boolean | undefined;
}

/**
 * One row of the visa table: a `ControlledAccessGrants` value, from which sources (and by whom), grants which
 * dataset and cohorts.
 *
 * @example
 * const rule: VisaRule = { value: 'phs000001.v1.p1', source: ['https://dbgap.example/dac'], by: ['dac'], dataset: 'TermdbTest', cohorts: ['ABC'] };
 */
export interface VisaRule {
  /** The visa's `value`, compared exactly: a dataset accession such as `phs000001.v1.p1` or an EGA URL. */
  readonly value: string;
  /** Accepted `source` values: the data access committees whose approval counts for this dataset. */
  readonly source: readonly string[];
  /** Accepted `by` values; undefined: any (or none). */
  readonly by?: readonly string[] | undefined;
  readonly dataset: string;
  /** Only these cohorts of the dataset; undefined: the whole dataset. */
  readonly cohorts?: readonly string[] | undefined;
  /** Where the rule is written, for explanations: `visas[0]`. */
  readonly path?: string | undefined;
}

export interface PassportReaderOptions {
  readonly visaIssuers: readonly VisaIssuer[];
  readonly visas: readonly VisaRule[];
  /** Clock skew on visa times, in seconds. Default 5. */
  readonly leewaySeconds?: number | undefined;
  /** The most visas read from one passport. Default 200. */
  readonly maxVisas?: number | undefined;
  /** Passports whose outcome is kept (by hash). Default 1000. */
  readonly cacheSize?: number | undefined;
  /** How visa key sets and discovery documents are fetched. */
  readonly keys?: IssuerKeysOptions | undefined;
  readonly now?: (() => number) | undefined;
}

/** Why a visa was not accepted. */
export type VisaRefusal =
  | 'malformed'
  | 'issuer_not_trusted'
  | 'jku_not_registered'
  | 'jku_missing'
  | 'signature'
  | 'key_unavailable'
  | 'expired'
  | 'asserted_in_future'
  | 'conditions'
  | 'subject_not_linked'
  | 'no_rule'
  | 'source_not_allowed'
  | 'by_not_allowed'
  | 'type_not_used'
  | 'links_not_trusted';

/** What became of one visa of a passport, for `explain` and the logs. */
export interface VisaOutcome {
  /** Its place in `ga4gh_passport_v1`. */
  readonly index: number;
  readonly iss: string | undefined;
  readonly type: string | undefined;
  readonly value: string | undefined;
  readonly accepted: boolean;
  readonly refusal?: VisaRefusal;
  /** In plain words: what was accepted or why not. Never the visa itself. */
  readonly detail: string;
  readonly exp?: number;
}

/** A dataset (and cohorts) a passport grants, and the visa and rule that grant it. */
export interface VisaGrant {
  readonly dataset: string;
  /** null: the whole dataset. */
  readonly cohorts: readonly string[] | null;
  readonly visa: number;
  readonly rule: VisaRule;
  readonly expiresAt: number;
}

/** What a passport grants. */
export interface PassportResult {
  readonly grants: readonly VisaGrant[];
  readonly visas: readonly VisaOutcome[];
  /** Seconds since the epoch: the earliest expiry of the passport and of every visa it was granted on. */
  readonly expiresAt: number;
}

/** Reads passports against one configuration. */
export interface PassportReader {
  /**
   * What the verified passport (or access token carrying `ga4gh_passport_v1`) grants. `token` is its compact form,
   * hashed for the cache. Never rejects: a visa that fails is an outcome, not an error.
   */
  read(token: string, passport: VerifiedJwt, at?: number): Promise<PassportResult>;
  /** Fetches every registered visa key set ahead of the first passport. */
  ready(): Promise<void>;
  close(): void;
}

const DEFAULT_ALGORITHMS: readonly Algorithm[] = ['RS256', 'ES256'];
/** GA4GH Passport v1.2 visa `typ`; older issuers send `JWT`. */
const VISA_TYPES_HEADER = ['vnd.ga4gh.visa+jwt', 'JWT'];
const YEAR = 366 * 86_400;

interface IssuerKeysFor {
  readonly config: VisaIssuer;
  readonly algorithms: readonly Algorithm[];
  readonly jku: ReadonlyMap<string, RemoteJwks>;
  readonly discovery: IssuerKeys | undefined;
}

class VisaRefused extends Error {
  constructor(
    readonly refusal: VisaRefusal,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Builds a passport reader: every visa issuer's registered key sets are made now (fetched on `ready()` or the first
 * visa that needs them, never from a URL a visa names on its own). For each visa of a passport:
 *
 * 1. its `iss` must be a configured visa issuer; a visa document token's `jku` must be one registered for that
 *    issuer (checked before anything is fetched), a visa access token is checked with the issuer's discovery keys;
 * 2. signature, algorithm, `exp` (required) and `sub`, by the rules of `verifyJwt`;
 * 3. `ga4gh_visa_v1` with its fields; `asserted` not in the future; `conditions` refused (not evaluated);
 * 4. a visa for another subject than the passport's only through a `LinkedIdentities` visa of an issuer trusted to
 *    link;
 * 5. `ControlledAccessGrants`: a row of the visa table with that `value`, its `source` in the row's list, its `by`
 *    in the row's list when the row names one.
 *
 * The result expires at the earliest expiry among the passport and the visas it relies on, and is cached by the
 * passport's hash until then.
 *
 * @example
 * const reader = createPassportReader({
 *   visaIssuers: [{ issuer: 'https://dac.example.org', jku: ['https://dac.example.org/visa-keys.json'] }],
 *   visas: [{ value: 'phs000001.v1.p1', source: ['https://dac.example.org'], dataset: 'TermdbTest' }],
 * });
 * const { grants, expiresAt } = await reader.read(token, verifiedPassport);
 */
export function createPassportReader(options: PassportReaderOptions): PassportReader {
  const now = options.now ?? Date.now;
  const leeway = options.leewaySeconds ?? 5;
  const maxVisas = options.maxVisas ?? 200;
  const keyOptions = { now, ...options.keys };
  const issuers = new Map<string, IssuerKeysFor>();
  for (const config of options.visaIssuers) {
    const algorithms = (config.algorithms ?? DEFAULT_ALGORITHMS).map((alg) => {
      if (!isAlgorithm(alg) || alg.startsWith('HS')) {
        throw new TokenSetupError('algorithm_not_allowed', `algorithm ${alg} cannot check a visa`);
      }
      return alg;
    });
    const { discoveryMaxAgeMs: _unused, onEvent, ...jwksOptions } = keyOptions;
    issuers.set(config.issuer, {
      config,
      algorithms,
      jku: new Map(
        (config.jku ?? []).map((url) => [
          url,
          new RemoteJwks(url, {
            ...jwksOptions,
            ...(onEvent !== undefined && { onEvent: (e) => onEvent({ ...e, issuer: config.issuer }) }),
          }),
        ]),
      ),
      discovery: config.discovery === true ? new IssuerKeys(config.issuer, keyOptions) : undefined,
    });
  }
  const rulesByValue = new Map<string, VisaRule[]>();
  for (const rule of options.visas) {
    rulesByValue.set(rule.value, [...(rulesByValue.get(rule.value) ?? []), rule]);
  }
  const cache = new Map<string, PassportResult>();
  const cacheSize = options.cacheSize ?? 1000;

  async function verifyVisa(token: string, nowMs: number): Promise<VerifiedJwt> {
    const iss = peekJwt(token)?.payload.iss;
    const trusted = typeof iss === 'string' ? issuers.get(iss) : undefined;
    if (trusted === undefined) {
      throw new VisaRefused('issuer_not_trusted', `its issuer ${describe(iss)} is not a trusted visa issuer`);
    }
    const resolveKey = (header: JwtHeader): ResolvedKey | Promise<ResolvedKey> => {
      if (header.jku !== undefined) {
        const keys = trusted.jku.get(header.jku);
        if (keys === undefined) {
          throw new VisaRefused(
            'jku_not_registered',
            `its jku ${describe(header.jku)} is not registered for ${trusted.config.issuer}; nothing was fetched`,
          );
        }
        return keys.resolve(header.kid);
      }
      if (trusted.discovery === undefined) {
        throw new VisaRefused(
          'jku_missing',
          `it names no jku, and ${trusted.config.issuer} signs with a jku`,
        );
      }
      return trusted.discovery.resolve(header.kid);
    };
    try {
      return await verifyJwt(
        token,
        resolveKey,
        {
          issuer: trusted.config.issuer,
          algorithms: trusted.algorithms,
          types: VISA_TYPES_HEADER,
          maxLifetimeSeconds: YEAR,
          leewaySeconds: leeway,
          requireSubject: true,
        },
        nowMs,
      );
    } catch (error) {
      if (error instanceof TokenError && error.cause instanceof VisaRefused) throw error.cause;
      if (error instanceof VisaRefused) throw error;
      const tokenError = error as TokenError;
      if (tokenError.code === 'token_expired') throw new VisaRefused('expired', 'it has expired');
      // No key to check it with (the key set could not be fetched, or its kid is not there yet): not a verdict
      // on the visa, so the passport's outcome is not kept (see read).
      if (tokenError.claim === 'kid' || tokenError.claim === 'iss') {
        throw new VisaRefused('key_unavailable', `its key could not be found: ${tokenError.message}`);
      }
      throw new VisaRefused('signature', `it does not verify: ${tokenError.message}`);
    }
  }

  async function evaluate(passport: VerifiedJwt, nowMs: number): Promise<PassportResult> {
    const claim = passport.payload.ga4gh_passport_v1;
    const tokens = Array.isArray(claim) ? (claim as unknown[]).slice(0, maxVisas) : [];
    const checked = await Promise.all(
      tokens.map(async (token, index) => {
        const peeked = typeof token === 'string' ? peekJwt(token) : undefined;
        const base = {
          index,
          iss: typeof peeked?.payload.iss === 'string' ? peeked.payload.iss : undefined,
        };
        if (typeof token !== 'string') {
          return { base, failure: new VisaRefused('malformed', 'it is not a JWT') };
        }
        try {
          const verified = await verifyVisa(token, nowMs);
          const object = readVisaObject(verified.payload.ga4gh_visa_v1);
          if ('problem' in object)
            return { base, failure: new VisaRefused('malformed', `it ${object.problem}`) };
          return { base, verified, visa: object.visa };
        } catch (error) {
          return {
            base,
            failure:
              error instanceof VisaRefused ? error : new VisaRefused('signature', 'it could not be verified'),
          };
        }
      }),
    );

    const outcomes: VisaOutcome[] = [];
    const usable: {
      index: number;
      verified: VerifiedJwt;
      visa: VisaObject;
      base: { index: number; iss: string | undefined };
    }[] = [];
    for (const item of checked) {
      if ('failure' in item && item.failure !== undefined) {
        outcomes[item.base.index] = refusedOutcome(item.base, undefined, item.failure);
        continue;
      }
      const { verified, visa } = item as { verified: VerifiedJwt; visa: VisaObject };
      if (visa.asserted > nowMs / 1000 + leeway) {
        outcomes[item.base.index] = refusedOutcome(
          item.base,
          visa,
          new VisaRefused('asserted_in_future', 'its "asserted" time is in the future'),
        );
      } else if (visa.conditions !== undefined) {
        outcomes[item.base.index] = refusedOutcome(
          item.base,
          visa,
          new VisaRefused('conditions', 'it has "conditions", which pp-embed does not evaluate'),
        );
      } else usable.push({ index: item.base.index, verified, visa, base: item.base });
    }

    // The holder's identities: the passport's subject, and every identity a trusted LinkedIdentities visa of an
    // identity already known ties to it (repeated until nothing new is linked).
    const holder: Identity = { sub: passport.sub ?? '', iss: passport.iss };
    const identities = new Set([identityKey(holder)]);
    const links = usable.filter((u) => u.visa.type === 'LinkedIdentities');
    const usedLinks = new Set<number>();
    for (let grew = true; grew;) {
      grew = false;
      for (const link of links) {
        if (usedLinks.has(link.index)) continue;
        const trusted = issuers.get(link.verified.iss)?.config.linkedIdentities === true;
        if (
          !trusted ||
          !identities.has(identityKey({ sub: link.verified.sub ?? '', iss: link.verified.iss }))
        )
          continue;
        usedLinks.add(link.index);
        for (const identity of linkedIdentities(link.visa.value)) {
          if (!identities.has(identityKey(identity))) {
            identities.add(identityKey(identity));
            grew = true;
          }
        }
      }
    }

    const grants: VisaGrant[] = [];
    let expiresAt = passport.exp;
    for (const { index, verified, visa, base } of usable) {
      const refuse = (refusal: VisaRefusal, detail: string) => {
        outcomes[index] = refusedOutcome(base, visa, new VisaRefused(refusal, detail));
      };
      if (visa.type === 'LinkedIdentities') {
        if (issuers.get(verified.iss)?.config.linkedIdentities !== true) {
          refuse('links_not_trusted', `${verified.iss} is not trusted to link identities`);
        } else if (!usedLinks.has(index)) {
          refuse('subject_not_linked', 'its subject is not the passport holder or linked to them');
        } else {
          outcomes[index] = acceptedOutcome(
            base,
            visa,
            verified,
            'it links identities to the passport holder',
          );
          expiresAt = Math.min(expiresAt, verified.exp);
        }
        continue;
      }
      if (visa.type !== 'ControlledAccessGrants') {
        refuse('type_not_used', `pp-embed grants only from ControlledAccessGrants visas, not ${visa.type}`);
        continue;
      }
      if (!identities.has(identityKey({ sub: verified.sub ?? '', iss: verified.iss }))) {
        refuse(
          'subject_not_linked',
          'it is for another subject, and no trusted LinkedIdentities visa links them',
        );
        continue;
      }
      const rows = rulesByValue.get(visa.value);
      if (rows === undefined) {
        refuse('no_rule', `no row of the visa table has the value ${JSON.stringify(visa.value)}`);
        continue;
      }
      const bySource = rows.filter((row) => row.source.includes(visa.source));
      if (bySource.length === 0) {
        refuse(
          'source_not_allowed',
          `its source ${JSON.stringify(visa.source)} is not accepted for this value`,
        );
        continue;
      }
      const matching = bySource.filter(
        (row) => row.by === undefined || (visa.by !== undefined && row.by.includes(visa.by)),
      );
      if (matching.length === 0) {
        refuse('by_not_allowed', `its "by" ${describe(visa.by)} is not one the table accepts`);
        continue;
      }
      for (const rule of matching) {
        grants.push({
          dataset: rule.dataset,
          cohorts: rule.cohorts ?? null,
          visa: index,
          rule,
          expiresAt: verified.exp,
        });
      }
      outcomes[index] = acceptedOutcome(
        base,
        visa,
        verified,
        `it grants ${matching.map((r) => `${JSON.stringify(r.dataset)} (${r.path ?? 'visa table'})`).join(', ')}`,
      );
      expiresAt = Math.min(expiresAt, verified.exp);
    }
    // Linked identities count only while their links last; a grant ends with the earliest visa it rests on.
    return Object.freeze({ grants: Object.freeze(grants), visas: Object.freeze(outcomes), expiresAt });
  }

  return {
    async ready() {
      const loads: Promise<void>[] = [];
      for (const issuer of issuers.values()) {
        for (const keys of issuer.jku.values()) loads.push(keys.refresh());
        if (issuer.discovery !== undefined) loads.push(issuer.discovery.refresh());
      }
      await Promise.all(loads);
    },
    close() {
      for (const issuer of issuers.values()) {
        for (const keys of issuer.jku.values()) keys.close();
        issuer.discovery?.close();
      }
    },
    async read(token, passport, at) {
      const nowMs = at ?? now();
      const hash = createHash('sha256').update(token).digest('base64url');
      const cached = cache.get(hash);
      if (cached !== undefined) {
        if (nowMs / 1000 < cached.expiresAt) return cached;
        cache.delete(hash);
      }
      const result = await evaluate(passport, nowMs);
      // A visa refused for want of its key is read again next time: the key may be fetched by then.
      if (cacheSize > 0 && !result.visas.some((v) => v.refusal === 'key_unavailable')) {
        if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
        cache.set(hash, result);
      }
      return result;
    },
  };
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 200)) : 'missing';
}

function refusedOutcome(
  base: { index: number; iss: string | undefined },
  visa: VisaObject | undefined,
  failure: VisaRefused,
): VisaOutcome {
  return {
    ...base,
    type: visa?.type,
    value: visa?.value,
    accepted: false,
    refusal: failure.refusal,
    detail: failure.message,
  };
}

function acceptedOutcome(
  base: { index: number; iss: string | undefined },
  visa: VisaObject,
  verified: VerifiedJwt,
  detail: string,
): VisaOutcome {
  return { ...base, type: visa.type, value: visa.value, accepted: true, detail, exp: verified.exp };
}
