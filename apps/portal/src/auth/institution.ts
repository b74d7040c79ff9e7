/**
 * "Sign in with your institution": the OpenID Connect authorization code flow with PKCE (openid-client), and the
 * rules that turn what the institution says about a user (groups, GA4GH visas) into the portal's grants.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { VerifiedJwt } from '@pp-embed/dataset-token';
import { createPassportReader, type PassportReader, type VisaOutcome } from '@pp-embed/passport';
import { issuerUrlSchema, passportsSchema } from '@pp-embed/access-policy';
import { ConfigError, type ConfigProblem, formatPath } from '@pp-embed/server-runtime';
import { DATASET_LABEL } from '@pp-embed/viz-api';
import * as client from 'openid-client';
import * as z from 'zod';
import type { Grant } from '../db/grants.js';

const label = z.string().regex(DATASET_LABEL, { error: 'expected a dataset label' });

/** The institution file: who the IdP is, how the portal is registered there, and which claims grant what. */
export const institutionSchema = z.strictObject({
  /** The issuer URL, exactly as the IdP's discovery document names it. */
  issuer: issuerUrlSchema,
  /** Shown on the sign-in page: "Sign in with <name>". */
  name: z.string().min(1).max(80),
  clientId: z.string().min(1),
  /** The client secret: `{"env": "NAME"}` or `{"file": "path"}` (relative to this file); never the value itself. */
  clientSecret: z.union(
    [z.strictObject({ env: z.string().min(1) }), z.strictObject({ file: z.string().min(1) })],
    {
      error: 'expected {"env": "NAME"} or {"file": "path"}',
    },
  ),
  scope: z.string().min(1).default('openid email groups'),
  /** Claim values of the ID token or userinfo that grant a dataset, e.g. a `groups` value. */
  grants: z
    .array(
      z.strictObject({
        claim: z.string().min(1),
        value: z.string().min(1),
        dataset: label,
        clientAuthResult: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .default([]),
  /** GA4GH visas in the userinfo's `ga4gh_passport_v1`: who may sign them and the table to datasets. */
  passports: passportsSchema.optional(),
});

/** The institution a portal trusts for sign-in, read and checked. */
export interface InstitutionConfig {
  readonly issuer: string;
  readonly name: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scope: string;
  readonly grants: z.infer<typeof institutionSchema>['grants'];
  readonly passports: z.infer<typeof passportsSchema> | undefined;
}

/**
 * Reads the institution file (`--institution`): every mistake with its JSON path, as one {@link ConfigError}.
 *
 * @example
 * const institution = readInstitution('/etc/pp-portal/institution.json', process.env);
 */
export function readInstitution(file: string, env: NodeJS.ProcessEnv): InstitutionConfig {
  const problems: ConfigProblem[] = [];
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new ConfigError(file, [{ path: '(root)', message: 'cannot be read as JSON' }]);
  }
  const parsed = institutionSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      problems.push({ path: formatPath('', issue.path), message: issue.message });
    throw new ConfigError(file, problems);
  }
  const { clientSecret, ...spec } = parsed.data;
  let secret: string | undefined;
  if ('env' in clientSecret)
    secret = Object.hasOwn(env, clientSecret.env) ? env[clientSecret.env] : undefined;
  else {
    try {
      secret = readFileSync(resolve(dirname(file), clientSecret.file), 'utf8').trim();
    } catch {
      secret = undefined;
    }
  }
  if (secret === undefined || secret === '') {
    throw new ConfigError(file, [
      { path: 'clientSecret', message: 'is not set (an empty variable or file)' },
    ]);
  }
  return { ...spec, clientSecret: secret, passports: spec.passports };
}

/** What the portal keeps between sending the browser to the IdP and its return: in a signed, short cookie. */
export interface PendingSignIn {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  readonly next: string;
  /** Milliseconds since the epoch after which the return is refused. */
  readonly expiresAt: number;
}

/** The user the institution vouched for, and what it grants them. */
export interface InstitutionSignIn {
  readonly issuer: string;
  readonly subject: string;
  readonly email: string | undefined;
  readonly grants: readonly InstitutionGrant[];
  /** Each visa's fate, for the log. */
  readonly visas: readonly VisaOutcome[];
}

/** A grant from the institution: ends with the earliest visa it rests on (null: with the session). */
export interface InstitutionGrant extends Grant {
  readonly expiresAt: number | null;
}

/** How long the browser may take at the IdP. */
const PENDING_MS = 10 * 60_000;

/**
 * The portal's side of the institution's OpenID Provider. Discovery is done on first use (and again after a
 * failure), with a bounded timeout, so a portal starts while its IdP is away and its password sign-in keeps working.
 *
 * @example
 * const institution = new Institution(config, { stateKey, now: Date.now });
 * const { url, pending } = await institution.start('https://portal.example.org/login/institution/callback', '/');
 */
export class Institution {
  readonly config: InstitutionConfig;
  readonly #stateKey: Buffer;
  readonly #now: () => number;
  readonly #passports: PassportReader | undefined;
  #configuration: Promise<client.Configuration> | undefined;

  constructor(config: InstitutionConfig, options: { stateKey: Buffer; now?: () => number }) {
    this.config = config;
    this.#stateKey = options.stateKey;
    this.#now = options.now ?? Date.now;
    this.#passports =
      config.passports === undefined
        ? undefined
        : createPassportReader({
            visaIssuers: config.passports.visaIssuers,
            visas: config.passports.visas.map((row, i) => ({ ...row, path: `passports.visas[${i}]` })),
            now: this.#now,
            // Each sign-in reads its visas once.
            cacheSize: 0,
          });
  }

  #discover(): Promise<client.Configuration> {
    this.#configuration ??= client
      .discovery(
        new URL(this.config.issuer),
        this.config.clientId,
        undefined,
        client.ClientSecretBasic(this.config.clientSecret),
        {
          timeout: 5,
          // http is for an IdP on this machine only (tests, a local sidecar).
          ...(new URL(this.config.issuer).hostname === '127.0.0.1' && {
            execute: [client.allowInsecureRequests],
          }),
        },
      )
      .catch((error: unknown) => {
        this.#configuration = undefined;
        throw error;
      });
    return this.#configuration;
  }

  /**
   * Where to send the browser, and what to keep (signed) until it returns: a new state, nonce and PKCE verifier
   * per attempt (RFC 7636; OpenID Connect Core §3.1.2.1). Rejects when the IdP cannot be reached.
   *
   * @example
   * const { url, cookie } = await institution.start(callbackUrl, '/datasets/PPDemo');
   */
  async start(redirectUri: string, next: string): Promise<{ url: URL; cookie: string }> {
    const configuration = await this.#discover();
    const pending: PendingSignIn = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      verifier: client.randomPKCECodeVerifier(),
      next,
      expiresAt: this.#now() + PENDING_MS,
    };
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: redirectUri,
      scope: this.config.scope,
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
    });
    return { url, cookie: this.#seal(pending) };
  }

  /** The pending sign-in a cookie holds, when its signature is good and it has not expired. */
  pending(cookie: string | undefined): PendingSignIn | undefined {
    if (cookie === undefined) return undefined;
    const [body, mac] = cookie.split('.');
    if (body === undefined || mac === undefined) return undefined;
    const expected = createHmac('sha256', this.#stateKey).update(body).digest();
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const pending = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as PendingSignIn;
      return pending.expiresAt > this.#now() ? pending : undefined;
    } catch {
      return undefined;
    }
  }

  #seal(pending: PendingSignIn): string {
    const body = Buffer.from(JSON.stringify(pending)).toString('base64url');
    return `${body}.${createHmac('sha256', this.#stateKey).update(body).digest('base64url')}`;
  }

  /**
   * Completes the flow at the redirect URI: the code is exchanged with the PKCE verifier, the state, nonce and ID
   * token are checked by openid-client, the userinfo is read, and the grant rules and visa table are applied.
   * Rejects on any failure (a forged or replayed return, an IdP error).
   *
   * @example
   * const signIn = await institution.finish(new URL(c.req.url), pending);
   */
  async finish(currentUrl: URL, pending: PendingSignIn): Promise<InstitutionSignIn> {
    const configuration = await this.#discover();
    const tokens = await client.authorizationCodeGrant(configuration, currentUrl, {
      pkceCodeVerifier: pending.verifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims();
    if (idClaims === undefined) throw new Error('the IdP returned no ID token');
    const userinfo = await client.fetchUserInfo(configuration, tokens.access_token, idClaims.sub);
    const claims: Record<string, unknown> = { ...idClaims, ...userinfo };
    const grants: InstitutionGrant[] = [];
    for (const rule of this.config.grants) {
      const value = claims[rule.claim];
      const values = Array.isArray(value) ? value : [value];
      if (!values.includes(rule.value)) continue;
      grants.push({ dataset: rule.dataset, clientAuthResult: rule.clientAuthResult ?? {}, expiresAt: null });
    }
    let visas: readonly VisaOutcome[] = [];
    if (this.#passports !== undefined && Array.isArray(claims.ga4gh_passport_v1)) {
      // The visas' holder is the user the ID token names; each visa is checked on its own signature.
      const holder: VerifiedJwt = {
        header: { alg: 'RS256', kid: undefined, jku: undefined, typ: undefined },
        payload: { ga4gh_passport_v1: claims.ga4gh_passport_v1 },
        iss: idClaims.iss,
        sub: idClaims.sub,
        exp: Number.MAX_SAFE_INTEGER,
        iat: idClaims.iat,
      };
      const passport = await this.#passports.read(`${idClaims.iss} ${idClaims.sub} ${this.#now()}`, holder);
      visas = passport.visas;
      for (const grant of passport.grants) {
        grants.push({
          dataset: grant.dataset,
          clientAuthResult: grant.cohorts === null ? {} : { cohorts: [...grant.cohorts] },
          expiresAt: grant.expiresAt * 1000,
        });
      }
    }
    const email = typeof claims.email === 'string' ? claims.email : undefined;
    return { issuer: idClaims.iss, subject: idClaims.sub, email, grants, visas };
  }
}
