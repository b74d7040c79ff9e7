import type { Verifier } from '@pp-embed/dataset-token';
import type { RouteClass } from '@pp-embed/viz-api';
import type { TrustedIssuer } from './issuers.js';

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

/**
 * Requests matched by this entry need a token that `verifier` accepts and `authorize` grants, or a token from one
 * of its trusted `issuers` whose claims grant the dataset and route.
 */
export interface TokenEntry extends EntryBase {
  readonly type: 'jwt';
  /** Lowercase header name carrying the token. */
  readonly headerKey: string;
  /** Built once at load, with this entry's key and rules; undefined when it accepts only trusted issuers' tokens. */
  readonly verifier: Verifier | undefined;
  /** OpenID issuers whose tokens it accepts beside the portal's (`issuers`, names of `trustedIssuers`). */
  readonly issuers: readonly TrustedIssuer[];
  /** Ids the `datasets` claim must all contain; undefined means the requested dataset label. */
  readonly dsnames: readonly DsName[] | undefined;
  readonly looseIpCheck: boolean;
  /** Which kind of key checks the signature; never the key itself. */
  readonly keySource: 'secret' | 'publicKey' | 'jwks' | undefined;
  readonly issuer: readonly string[] | undefined;
  readonly audience: readonly string[] | undefined;
  /** Longest accepted token lifetime in seconds. */
  readonly maxTokenAge: number;
}

/** One entry of a loaded `dsCredentials` block. */
export type PolicyEntry = OpenEntry | ForbiddenEntry | TokenEntry;

/** Route keys with a meaning of their own; every other route key is a route name. */
export const ANY = '*';
export const SAMPLE_LEVEL = 'termdb';
