import type { Signer, Verifier } from '@pp-embed/dataset-token';
import type { RouteClass } from '@pp-embed/viz-api';
import type { TrustedIssuer } from './issuers.js';
import type { PasswordHash } from './password.js';
import type { IP_CHECKS, SCRIPT_ACCESS } from './schema.js';

/**
 * A server route as the policy sees it: its name as `dsCredentials` route keys write it (`termdb/samples`) and
 * its class. A `termdb` credential covers `sample-level` routes; a `discovery` route answers without its
 * token-guarded parts when the token is missing or refused. The server's routes are `ROUTES` of
 * `@pp-embed/viz-api`.
 */
export interface RouteRef {
  readonly name: string;
  readonly class: RouteClass;
}

/** A dataset id the token's `datasets` claim must contain, with an optional label for people. */
export interface DsName {
  readonly id: string;
  readonly label?: string;
}

interface EntryBase {
  /** JSON path of the entry, for logs: `dsCredentials.TermdbTest.*.portal.example.org`. */
  readonly path: string;
  /** The dataset key that holds the entry: a label or `*`. */
  readonly dataset: string;
  /** The route key: `*`, `termdb` or a route name. */
  readonly route: string;
  /** The embedder key: a lowercase `host[:port]`, or `*`. */
  readonly embedder: string;
}

/** Requests matched by this entry need no token. */
export interface OpenEntry extends EntryBase {
  readonly type: 'open';
}

/** Requests matched by this entry are refused with `route_forbidden`. */
export interface ForbiddenEntry extends EntryBase {
  readonly type: 'forbidden';
}

/** What every entry that asks for a token has: where the token comes from and how it is checked. */
interface TokenRules extends EntryBase {
  /** Lowercase header name carrying the token. */
  readonly headerKey: string;
  /** Built once at load, with this entry's key and rules; undefined when it accepts only trusted issuers' tokens. */
  readonly verifier: Verifier | undefined;
  /** Ids the `datasets` claim must all contain; undefined means the requested dataset label. */
  readonly dsnames: readonly DsName[] | undefined;
  /**
   * How the token's `ip` claim is compared with the client address: `strict` (present and equal), `loose` (absent,
   * or in the client's /24 or /64) or `none` (not compared). `looseIpCheck: true` in the config reads as `loose`.
   */
  readonly ipCheck: IpCheck;
  /** Longest accepted token lifetime in seconds. */
  readonly maxTokenAge: number;
}

/**
 * Requests matched by this entry need a token from the portal that `verifier` accepts and `authorize` grants, or a
 * token from one of its trusted `issuers` whose claims grant the dataset and route.
 */
export interface TokenEntry extends TokenRules {
  readonly type: 'jwt';
  /**
   * Whether requests without an `Origin` (scripts) may use this entry, with a token the portal minted for a script:
   * `false` (never), `true` (its `ip` claim checked by `ipCheck` when present) or `'pinned'` (it must carry one).
   */
  readonly scripts: ScriptAccess;
  /** OpenID issuers whose tokens it accepts beside the portal's (`issuers`, names of `trustedIssuers`). */
  readonly issuers: readonly TrustedIssuer[];
  /** Which kind of key checks the signature, never the key itself; undefined when it has none of its own. */
  readonly keySource: 'secret' | 'publicKey' | 'jwks' | undefined;
  readonly issuer: readonly string[] | undefined;
  readonly audience: readonly string[] | undefined;
}

/**
 * A dataset password (`"type": "basic"`): the widget asks the user for it, the login route checks it against
 * `passwordHash` and answers with a token this server signs with `tokenSecret`; requests then carry that token in
 * `headerKey` like any other, and `verifier` accepts only tokens issued for this entry (their `aud` is `audience`).
 */
export interface PasswordEntry extends TokenRules {
  readonly type: 'basic';
  readonly verifier: Verifier;
  readonly keySource: 'password';
  readonly passwordHash: PasswordHash;
  /** Signs the tokens the login route issues; HS256 with the entry's `tokenSecret`. */
  readonly signer: Signer;
  /** The `aud` of the tokens issued for this entry, so that no other entry accepts them. */
  readonly audience: string;
}

/** An entry whose requests carry a token: one from the portal (`jwt`) or one issued for a password (`basic`). */
export type CredentialEntry = TokenEntry | PasswordEntry;

/** Whether an entry takes scripts: `false`, `true` or `'pinned'` (see {@link TokenEntry.scripts}). */
export type ScriptAccess = (typeof SCRIPT_ACCESS)[number];

/** How strictly an entry compares a token's `ip` claim with the client address. */
export type IpCheck = (typeof IP_CHECKS)[number];

/** One entry of a loaded `dsCredentials` block. */
export type PolicyEntry = OpenEntry | ForbiddenEntry | CredentialEntry;

/** Route keys with a meaning of their own; every other route key is a route name. */
export const ANY = '*';
export const SAMPLE_LEVEL = 'termdb';

/**
 * Characters that make a key a glob in ProteinPaint. Keys are matched exactly here, so a pattern would silently
 * match nothing and leave the requests it was meant to cover without its credential.
 */
export const PATTERN = /[*?[\]{}]|^!/;
