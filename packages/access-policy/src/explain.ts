import type { DatasetTokenClaims } from '@pp-embed/dataset-token';
import type { Revocation, RevocationLookup, RevocationVerdict } from '@pp-embed/revocation';
import {
  type DisclosureRule,
  type Tier,
  TOKEN_INVALID_REASONS,
  type TokenErrorCode,
  type TokenInvalidReason,
} from '@pp-embed/viz-api';
import { canonicalIp } from '@pp-embed/client-address';
import {
  decide,
  type Decision,
  type DecisionCode,
  type DecisionStep,
  type RequestFacts,
  type Scope,
} from './decide.js';
import { type DatasetDisclosure, describeRule, type TierRule, tierWords } from './disclosure.js';
import type { CredentialEntry, RouteRef, TokenEntry } from './entries.js';
import type { AccessPolicy, Trace } from './policy.js';

/** The facts of one request, as the server would see them; the token is given apart. */
export interface ExplainRequest {
  dataset: string;
  /**
   * The route, or its name. A name takes its class from the server's route catalog; a name the catalog does not
   * know is taken as sample-level, the stricter case.
   */
  route: RouteRef | string;
  /** The raw `Origin` header value, if any. */
  origin?: string | null | undefined;
  /** The client address, for the `ip` claim check. */
  clientIp?: string | undefined;
  /** The dataset's disclosure rules per tier, to tell which rule the caller's counts go through. */
  disclosure?: DatasetDisclosure | undefined;
  /** The time to decide at, in milliseconds; the policy's clock when absent. */
  now?: number | undefined;
  /**
   * The header the token was sent in, as a browser's network panel shows it. Absent: the token is taken to be
   * in whichever header the deciding entry reads.
   */
  tokenHeader?: string | undefined;
  /** The revocation lists the server would check tokens against (`pp-token explain --config` loads them once). */
  revocations?: RevocationLookup | undefined;
  /** A dataset password sent to the login route for `route`, to explain that exchange instead of a request. */
  password?: string | undefined;
}

/** The outcome `explain` describes, with the HTTP status and code the server would answer. */
export type ExplainDecision =
  | {
      readonly outcome: 'allowed';
      readonly status: 200;
      /** The caller's tier, and the disclosure rule its counts go through (null: exact). */
      readonly tier: Tier;
      readonly rule: DisclosureRule | null;
    }
  | {
      readonly outcome: 'refused';
      readonly status: Extract<Decision, { allowed: false }>['status'];
      readonly code: DecisionCode;
    };

export interface Explanation {
  readonly decision: ExplainDecision;
  /** Plain sentences, in the order the decision was made. For developers; never sent to a client. */
  readonly steps: readonly string[];
}

const quote = (text: string): string => JSON.stringify(text);
const list = (items: readonly string[]): string =>
  items.length <= 1
    ? items.join('')
    : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] as string}`;

/**
 * Makes the server's decision (`decide`, the same function the server's middleware calls) and tells it step by
 * step: which dataset, route and embedder key matched and why, what the token would need, which check failed,
 * and what the caller then sees. The token is offered in whichever header the deciding entry reads. The
 * sentences name config paths, hosts and addresses, so they are for the developer's terminal and the server's
 * debug log only. They never contain the token or a key.
 *
 * @example
 * const { decision, steps } = await explain(
 *   policy,
 *   { dataset: 'TermdbTest', route: 'termdb/samples', origin: 'https://portal.example.org', clientIp: '203.0.113.7' },
 *   token,
 * );
 * console.log(steps.join('\n')); // … 'Decision: refused with dataset_not_granted (403).'
 */
export async function explain(
  policy: AccessPolicy,
  request: ExplainRequest,
  token?: string | null,
): Promise<Explanation> {
  const sentences: string[] = [];
  const route = routeOf(policy, request.route, sentences);
  const offered = token === null || token === undefined || token === '' ? undefined : token;
  const facts: RequestFacts = {
    dataset: request.dataset,
    route,
    origin: request.origin,
    clientIp: request.clientIp,
    header: (name) => {
      if (offered === undefined) return undefined;
      // Without a named header the token is in the deciding entry's; `Authorization` carries it as Bearer.
      if (request.tokenHeader === undefined) return name === 'authorization' ? undefined : offered;
      if (request.tokenHeader.toLowerCase() !== name) return undefined;
      return name === 'authorization' ? `Bearer ${offered}` : offered;
    },
    disclosure: request.disclosure,
    ...(request.now !== undefined && { now: request.now }),
    ...(request.revocations !== undefined && { revocations: request.revocations }),
    ...(request.password !== undefined && { password: request.password }),
  };
  const steps: DecisionStep[] = [];
  const decision = await decide(policy, facts, steps);
  for (const step of steps) sentences.push(...tell(step, request, offered !== undefined));
  if (decision.allowed) {
    sentences.push('Decision: allowed.');
    const { tier, rule } = decision.scope;
    return { decision: { outcome: 'allowed', status: 200, tier, rule }, steps: sentences };
  }
  sentences.push(`Decision: refused with ${decision.code} (${decision.status}).`);
  return { decision: { outcome: 'refused', status: decision.status, code: decision.code }, steps: sentences };
}

function tell(step: DecisionStep, request: ExplainRequest, tokenGiven: boolean): string[] {
  switch (step.step) {
    case 'resolved':
      return resolutionSentences(step.trace, request);
    case 'duplicate-header':
      return [`The ${quote(step.headerKey)} header was sent more than once; one token is expected.`];
    case 'token':
      return [tokenSentence(step.entry, step.offered, step.outcome)];
    case 'revocation':
      return [revocationSentence(step.verdict)];
    case 'client':
      // A page's request with a browser's token is every embedding's case: said only when it is not that.
      return step.client === 'browser' && step.sender === 'browser' ? [] : [clientSentence(step)];
    case 'route-class':
      return [
        `The token opens ${list(step.granted.map(quote))} data only ("routeClasses")${step.granted.includes(step.route.class as (typeof step.granted)[number]) ? `, which includes this ${step.route.class} route` : `, not this ${step.route.class} route`}.`,
      ];
    case 'grant':
      return grantSentences(step.entry, step.claims, step.result, request);
    case 'issuer':
      return issuerSentences(step, request);
    case 'discovery':
      return [
        `Route ${quote(routeName(request.route))} is a discovery route: without a usable token it still answers, and leaves out the parts that need one (the root terms and cohorts).`,
      ];
    case 'optional-token':
      if (step.guard === undefined)
        return tokenGiven
          ? ['A token was given, but this request does not need one, so it was not checked.']
          : [];
      if (!step.offered) return [];
      return [
        `This route needs no token, but a token in the ${quote(step.guard.headerKey)} header is checked with the entry that guards the dataset's sample-level data (${step.guard.path}): verified and granted, it sets the caller's tier (and so the disclosure rule) and applies its cohorts; refused, it is ignored and the answer is the one without a token.`,
      ];
    case 'sample-rows':
      return sampleRowSentences(step);
    case 'scope':
      return scopeSentences(step.scope, step.verified, step.tierRule, step.rows);
    case 'password':
      return [passwordSentence(step)];
    case 'unlisted-origin':
      return [
        `No entry of any dataset names embedder ${quote(step.host)} and there is no "*" embedder (nor is the origin in corsOrigins), so a page there may read no answer of this server; its discovery request is answered with embedder_not_allowed, the one answer that page may read, so that the widget can say why.`,
      ];
  }
}

function clientSentence(step: Extract<DecisionStep, { step: 'client' }>): string {
  const minted =
    step.client === 'script'
      ? 'The token was minted for a script ("client": "script": the portal gave it in exchange for a personal API token)'
      : 'The token was minted for a browser (it has no "client": "script" claim)';
  if (step.client === step.sender) {
    return `${minted}, as a ${step.sender === 'script' ? 'request without an Origin' : "web page's request"} needs.`;
  }
  return step.sender === 'script'
    ? `${minted}, but the request has no Origin: a script needs a script's token, which the portal gives in exchange for a personal API token; a browser's token used outside its page is refused.`
    : `${minted}, but the request comes from a web page (it has an Origin): pages need a browser's token; a script's token is refused there.`;
}

function passwordSentence(step: Extract<DecisionStep, { step: 'password' }>): string {
  switch (step.outcome) {
    case 'not-available':
      return step.entry === undefined
        ? 'A password was offered, but no dataset password guards this route for this origin.'
        : `A password was offered, but this route takes a token from the portal (${step.entry.path}), not a dataset password.`;
    case 'throttled':
      return `Too many wrong passwords came from this address for this dataset: tries are refused for ${step.retryAfter ?? 1} more seconds.`;
    case 'refused':
      return "The password does not match the entry's passwordHash.";
    case 'accepted':
      return `The password matches the entry's passwordHash: the login route answers with a token for this entry, valid for ${step.entry?.maxTokenAge ?? 0} seconds, to send in the ${quote(step.entry?.headerKey ?? '')} header.`;
  }
}

function sampleRowSentences(step: Extract<DecisionStep, { step: 'sample-rows' }>): string[] {
  if (step.code === 'grant_required') {
    return [
      'The token\'s "access" claim is "signedIn": the portal vouches for a signed-in user without a grant, whose aggregated counts follow the signed-in rule and who may not read sample-level rows.',
    ];
  }
  return [
    `No credential protects this sample-level route, and ${tierWords('anonymous')} see controlled counts (${step.rule.path}): rows would undo the control, so they are served only to callers who see exact counts. Set ${step.disclosure.sampleRowsPath} to "public" to publish them.`,
  ];
}

function routeName(route: RouteRef | string): string {
  return typeof route === 'string' ? route : route.name;
}

function routeOf(policy: AccessPolicy, route: RouteRef | string, sentences: string[]): RouteRef {
  if (typeof route !== 'string') return route;
  const known = policy.route(route);
  if (known !== undefined) return known;
  sentences.push(
    `Route ${quote(route)} is not in the server's route catalog, so it is taken as sample-level (the stricter case).`,
  );
  return { name: route, class: 'sample-level' };
}

function resolutionSentences(t: Trace, request: ExplainRequest): string[] {
  const out = [datasetSentence(request.dataset, t)];
  if (t.dataset.block === undefined) return out;
  out.push(routeSentence(t));
  if (t.route.block === undefined) return out;
  out.push(...embedderSentences(request.origin, t));
  const result = t.result;
  if (result.kind === 'open') out.push('The entry\'s type is "open": no token is needed.');
  else if (result.kind === 'forbidden' && result.code === 'route_forbidden') {
    out.push(
      'The entry\'s type is "forbidden": this route is closed to this embedder, with or without a token.',
    );
  } else if (result.kind === 'needs-token') out.push(requirementSentence(result.entry, request.dataset));
  return out;
}

function datasetSentence(dataset: string, t: Trace): string {
  const block = t.dataset.block;
  if (block === undefined) {
    return `No dataset key covers ${quote(dataset)} (there is neither a key for it nor a "*" key), so it needs no token.`;
  }
  if (t.dataset.via === 'star')
    return `Dataset ${quote(dataset)} has no key of its own, so the "*" dataset block applies (${block.path}).`;
  if (t.dataset.starIgnored) {
    return `Dataset ${quote(dataset)} has its own key (${block.path}), so only that block is used; the "*" dataset block is not consulted.`;
  }
  return `Dataset ${quote(dataset)} has its own key (${block.path}).`;
}

function routeSentence(t: Trace): string {
  const { name, block, via } = t.route;
  const sampleLevel = t.route.class === 'sample-level';
  const what = `Route ${quote(name)} (${t.route.class})`;
  const datasetPath = t.dataset.block?.path ?? '';
  const hasTermdb = t.dataset.block?.routes.has('termdb') === true;
  if (via === 'exact')
    return `${what} matched its own route key (${block?.path}), which comes before "termdb" and "*".`;
  if (via === 'termdb')
    return `${what} has no route key of its own, so the "termdb" key matched: it covers sample-level routes (${block?.path}).`;
  const termdbNote = hasTermdb && !sampleLevel ? ' "termdb" covers only sample-level routes, and' : '';
  if (via === 'star')
    return `${what} has no route key of its own;${termdbNote} the "*" route key matched (${block?.path}).`;
  const keys = [...(t.dataset.block?.routes.keys() ?? [])].map(quote);
  return `${what}: no route key in ${datasetPath} covers it (its keys: ${list(keys)}${hasTermdb && !sampleLevel ? '; "termdb" covers only sample-level routes' : ''}), so it needs no token.`;
}

function embedderSentences(origin: string | null | undefined, t: Trace): string[] {
  const e = t.embedder;
  const block = t.route.block;
  const out: string[] = [];
  if (e.kind === 'host') out.push(`The Origin ${quote(String(origin))} is embedder ${quote(e.host)}.`);
  else if (e.kind === 'absent') {
    out.push(...scriptSentences(t));
    return out;
  } else if (e.kind === 'null')
    out.push('The Origin is "null" (a sandboxed or file: page), so only a "*" embedder can match.');
  else
    out.push(
      `The Origin ${quote(String(origin).slice(0, 200))} is not a valid http(s) origin, so only a "*" embedder can match.`,
    );
  const entryPath = t.result.entry?.path ?? '';
  if (t.embedderVia === 'exact')
    out.push(`Embedder key ${quote(e.kind === 'host' ? e.host : '')} matched (${entryPath}).`);
  else if (t.embedderVia === 'hostname') {
    const { host, hostname } = e.kind === 'host' ? e : { host: '', hostname: '' };
    out.push(
      `No embedder key is ${quote(host)}, so the key ${quote(hostname)} matched: a key without a port matches every port of its host (${entryPath}).`,
    );
  } else if (t.embedderVia === 'star') {
    out.push(
      `${e.kind === 'host' ? `No embedder key is ${quote(e.host)}, so the` : 'The'} "*" embedder matched (${entryPath}).`,
    );
  } else {
    const keys = [...(block?.embedders.keys() ?? [])].map(quote);
    const portNote =
      e.kind === 'host' && e.host !== e.hostname
        ? ` A key ${quote(e.hostname)} (every port) or ${quote(e.host)} (this port) would match.`
        : '';
    out.push(
      `No embedder key in ${block?.path} matches and there is no "*" embedder (its keys: ${list(keys)}).${portNote} ` +
        'A protected route with no credential for the embedder is refused (fail closed).',
    );
  }
  return out;
}

/** A request without an Origin: the entry that takes scripts, or why none does. */
function scriptSentences(t: Trace): string[] {
  const head = 'The request has no Origin header: it is a script’s (or curl’s), not a web page’s.';
  const block = t.route.block;
  const result = t.result;
  if (t.embedderVia === 'script' && result.kind === 'needs-token') {
    const entry = result.entry as TokenEntry;
    const accepts = `The entry ${entry.path} accepts scripts ("scripts": ${entry.scripts === 'pinned' ? '"pinned"' : 'true'})`;
    const carried = `as a Bearer token in the Authorization header or in the ${quote(entry.headerKey)} header`;
    if (entry.verifier === undefined) {
      return [
        head,
        `${accepts}: a token from one of its trusted issuers ${issuerNames(entry)} is needed, ${carried}.`,
      ];
    }
    const issuers =
      entry.issuers.length === 0
        ? ''
        : ` Tokens from its trusted issuers ${issuerNames(entry)} are accepted too.`;
    return [
      head,
      `${accepts}: a token the portal minted for a script is needed, ${carried}; ${entry.scripts === 'pinned' ? 'it must carry an "ip" claim, checked by the entry\'s address rule' : 'an "ip" claim is checked by the entry\'s address rule when the portal pinned one, and a token without one is accepted'}.${issuers}`,
    ];
  }
  if (result.kind === 'open' || (result.kind === 'forbidden' && result.code === 'route_forbidden')) {
    return [
      head,
      `No entry of ${block?.path} accepts scripts, so the "*" embedder decides, as for everyone (${result.entry?.path ?? ''}).`,
    ];
  }
  return [
    head,
    `No entry of ${block?.path} accepts scripts ("scripts": true), so a request without an Origin is refused (fail closed): a protected route answers only pages of its embedders, and scripts where the operator allows them.`,
  ];
}

function issuerSentences(step: Extract<DecisionStep, { step: 'issuer' }>, request: ExplainRequest): string[] {
  const { issuer, outcome } = step;
  if (issuer === undefined) {
    return [
      `The token's "iss" is ${step.iss === undefined ? 'missing' : quote(step.iss)}, which is not ${step.entry.issuers.length > 0 ? `one of the entry's trusted issuers: ${issuerNames(step.entry)}` : 'an issuer this entry trusts'}; the entry has no key of its own for other tokens.`,
    ];
  }
  const who = `trusted issuer ${quote(issuer.name)} (${issuer.issuer}, ${issuer.path})`;
  if ('error' in outcome) {
    return [
      `The token's "iss" names ${who}. It was refused: ${outcome.error.message} (the issuer's rules: "aud" ${list(issuer.verifier.audience.map(quote))}, ${issuer.verifier.algorithms.join(' or ')}, keys from its discovery document).`,
    ];
  }
  const out = [
    `The token's "iss" names ${who}; it verified: signature, algorithm, "aud" ${list(issuer.verifier.audience.map(quote))} and lifetime are valid. Its address is not checked: tokens from an issuer carry none.`,
  ];
  if (request.revocations !== undefined) {
    out.push(
      "A portal's revocation feed does not speak for it (no portal issued it): its own lifetime and the expiry of what it rests on bound it.",
    );
  }
  for (const visa of outcome.visas ?? []) {
    const what =
      visa.type === undefined
        ? ''
        : ` (${visa.type}${visa.value === undefined ? '' : ` ${quote(visa.value)}`})`;
    out.push(
      `Visa ${visa.index}${what} from ${visa.iss === undefined ? 'an unknown issuer' : quote(visa.iss)}: ${visa.accepted ? 'accepted' : `refused (${visa.refusal ?? 'invalid'})`}: ${visa.detail}.`,
    );
  }
  const granted = outcome.grants.map(
    (g) =>
      `${quote(g.dataset)}${g.cohorts === null ? '' : ` (cohorts ${list(g.cohorts.map(quote))})`} by claim ${quote(g.claim)} = ${quote(g.value)} under rule ${g.rule}${g.routes === null ? '' : `, for ${list([...g.routes])} routes`}`,
  );
  out.push(
    granted.length === 0
      ? `No rule of ${quote(issuer.name)} matches the token's claims, so it grants no dataset.`
      : `It grants ${list(granted)}.`,
  );
  if (outcome.refusal !== undefined) out.push(`For ${quote(request.dataset)}: ${outcome.refusal.reason}.`);
  else {
    const ends = Math.min(...outcome.used.map((g) => g.expiresAt));
    out.push(`The grant for ${quote(request.dataset)} lasts until ${new Date(ends * 1000).toISOString()}.`);
  }
  return out;
}

/** The entry's trusted issuers, by name and URL. */
function issuerNames(entry: TokenEntry): string {
  return list(entry.issuers.map((i) => `${quote(i.name)} (${i.issuer})`));
}

/**
 * @internal What checks a portal's token, by the kind of key, never the key: `signed with the shared secret
 * (HS256)`; for an entry with no key of its own, the trusted issuers whose tokens it takes. The access table says
 * the same.
 */
export function signedWith(entry: TokenEntry): string {
  if (entry.verifier === undefined) return `from one of its trusted issuers ${issuerNames(entry)}`;
  const algorithms = entry.verifier.algorithms;
  const key =
    entry.keySource === 'secret'
      ? 'the shared secret'
      : entry.keySource === 'publicKey'
        ? "the portal's public key"
        : "a key of the portal's JWKS";
  return algorithms.length > 0 ? `signed with ${key} (${algorithms.join(' or ')})` : `signed with ${key}`;
}

function ipSentence(entry: CredentialEntry): string {
  return entry.ipCheck === 'loose'
    ? `whose "ip" claim, if any, is in the client's /24 (IPv4) or /64 (IPv6) network (loose address check)`
    : entry.ipCheck === 'none'
      ? `whose "ip" claim is not compared with the client address (ipCheck "none")`
      : `whose "ip" claim is the client address (strict address check)`;
}

function requirementSentence(entry: CredentialEntry, dataset: string): string {
  if (entry.type === 'basic') {
    return (
      `The entry's type is "basic": a dataset password. The widget asks for it and sends it to the login route ` +
      `(POST /termdb/login), which answers with a token this server signs for this entry (HS256 with the entry's tokenSecret, valid ${entry.maxTokenAge} seconds); ` +
      `requests carry that token in the ${quote(entry.headerKey)} header, and it must name ${quote(dataset)} and have been issued ${entry.ipCheck === 'none' ? 'from any address' : `to the client address (${entry.ipCheck} address check)`}.`
    );
  }
  if (entry.verifier === undefined) {
    return `The entry's type is "jwt" with no key of its own: a token is needed in the ${quote(entry.headerKey)} header from one of its trusted issuers, ${issuerNames(entry)}, whose claims grant ${quote(dataset)}.`;
  }
  const parts = [
    `The entry's type is "jwt": a token is needed in the ${quote(entry.headerKey)} header, ${signedWith(entry)}`,
  ];
  if (entry.issuer !== undefined) parts.push(`with "iss" ${list(entry.issuer.map(quote))}`);
  if (entry.audience !== undefined) parts.push(`with "aud" ${list(entry.audience.map(quote))}`);
  parts.push(`with "exp" at most ${entry.maxTokenAge} seconds after "iat"`);
  const ids = entry.dsnames === undefined ? [dataset] : entry.dsnames.map((d) => d.id);
  parts.push(
    `whose "datasets" claim lists ${list(ids.map(quote))}${entry.dsnames === undefined ? '' : " (the entry's dsnames)"}`,
  );
  parts.push(`and ${ipSentence(entry)}`);
  const issuers =
    entry.issuers.length === 0
      ? ''
      : ` Tokens from its trusted issuers ${issuerNames(entry)} are accepted too, granted by their rules (scopes, claims, visas), with no address check.`;
  return `${parts.join(', ')}.${issuers}`;
}

function tokenSentence(
  entry: CredentialEntry,
  offered: boolean,
  outcome:
    | { claims: DatasetTokenClaims; kid: string | undefined }
    | { error: { code: TokenErrorCode; message: string; reason?: TokenInvalidReason | undefined } },
): string {
  if ('claims' in outcome) {
    const exp = new Date(outcome.claims.exp * 1000).toISOString();
    // Which key checked it, when the key has a kid: during a rotation, the old one or the new one.
    const key = outcome.kid === undefined ? '' : ` with key ${quote(outcome.kid)}`;
    return `The token verified${key}: signature, algorithm and lifetime are valid (it expires ${exp}).`;
  }
  if (!offered) return `No token was given (it would come in the ${quote(entry.headerKey)} header).`;
  const reason = outcome.error.reason;
  if (reason === undefined) return `The token was refused: ${outcome.error.message}.`;
  return `The token was refused: ${outcome.error.message} (reason ${quote(reason)}: ${TOKEN_INVALID_REASONS[reason].meaning}; the portal's token is wrong, so signing in again does not help).`;
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

const REASONS: Record<Revocation['reason'], string> = {
  'sign-out': 'the user signed out',
  'password-change': "the user's password was changed",
  'grant-change': 'the grant was changed or removed',
  'account-removed': 'the account was removed',
  admin: 'an administrator revoked it',
  'api-token-revoked': 'the personal API token it was exchanged for was revoked',
};

function revocationSentence(verdict: RevocationVerdict): string {
  if (verdict.state === 'retired') {
    return `The registry entry ${quote(verdict.entry)} that checked the token was retired at ${verdict.at} by ${verdict.by} (\`pp-token embedder retire\`): every token of its keys is refused, whenever it was signed.`;
  }
  const feed = `the revocation feed ${quote(verdict.feed)}`;
  if (verdict.state === 'clear')
    return `The token is not revoked: ${feed} (list ${verdict.seq}) withdraws none of it.`;
  if (verdict.state === 'unavailable') {
    const since =
      verdict.lastSyncAt === undefined
        ? 'has not been read since the server started'
        : `has not answered since ${new Date(verdict.lastSyncAt).toISOString()}`;
    return `${feed[0]?.toUpperCase()}${feed.slice(1)} ${since}, longer than its limit of ${verdict.maxStaleSeconds} seconds, so the tokens it covers are refused until it answers (fail closed).`;
  }
  const r = verdict.revocation;
  const what =
    r.type === 'token'
      ? `this token (jti ${quote(r.jti)})`
      : r.type === 'user'
        ? `every token of this user issued before ${iso(r.before)}`
        : r.type === 'grant'
          ? `this user's tokens for dataset ${quote(r.dataset)} issued before ${iso(r.before)}`
          : `every token of this portal issued before ${iso(r.before)}`;
  return `The token was revoked by ${feed}: ${what} was withdrawn at ${iso(r.at)} (${REASONS[r.reason]}).`;
}

function grantSentences(
  entry: CredentialEntry,
  claims: DatasetTokenClaims,
  result: { ok: true } | { ok: false; code: string; reason: string },
  request: ExplainRequest,
): string[] {
  const datasets = Array.isArray(claims.datasets) ? claims.datasets : [];
  if (!result.ok && result.code === 'dataset_not_granted') {
    return [
      `The "datasets" claim is [${datasets.map(quote).join(', ')}]: ${result.reason.replace(/^the "datasets" claim /, 'it ')}.`,
    ];
  }
  const required = entry.dsnames === undefined ? [request.dataset] : entry.dsnames.map((d) => d.id);
  const out = [`The "datasets" claim includes ${list(required.map(quote))}.`];
  const mode = entry.ipCheck === 'loose' ? 'Loose address check' : 'Strict address check';
  if (!result.ok) {
    out.push(`${mode}: ${result.reason}.`);
    return out;
  }
  if (entry.ipCheck === 'none') {
    out.push('The address is not checked (ipCheck "none"): the token is accepted from any client address.');
    return out;
  }
  const ip = claims.ip;
  const client = request.clientIp === undefined ? '' : (canonicalIp(request.clientIp) ?? request.clientIp);
  if (ip === undefined) out.push('The token has no "ip" claim, which the loose address check accepts.');
  else if (entry.ipCheck === 'loose') {
    out.push(
      `${mode}: the client address ${client} is in the network of the "ip" claim ${canonicalIp(ip) ?? ip}.`,
    );
  } else out.push(`${mode}: the "ip" claim ${canonicalIp(ip) ?? ip} is the client address.`);
  return out;
}

function scopeSentences(
  scope: Scope,
  verified: boolean,
  tierRule: TierRule,
  rows: 'readable' | 'not-readable' | undefined,
): string[] {
  const out: string[] = [];
  if (scope.cohorts !== null) {
    out.push(
      scope.cohorts.length === 0
        ? "The token's clientAuthResult.cohorts is not a list of cohort ids, so no samples are shown (a malformed grant never widens access)."
        : `The token's clientAuthResult.cohorts restricts every answer to the samples of ${list(scope.cohorts.map(quote))}.`,
    );
  }
  const who =
    scope.tier === 'anonymous'
      ? verified
        ? 'The caller is anonymous'
        : 'The caller is anonymous (no verified token)'
      : scope.tier === 'signedIn'
        ? 'The token\'s "access" claim is "signedIn", so the caller is a signed-in user without a grant'
        : 'The token grants the dataset, so the caller is a granted user';
  if (rows === 'readable') {
    out.push(
      `${who} who may also read this dataset's sample-level rows from this origin: every count is exact (a rule would protect nothing from a caller who can count rows).`,
    );
    return out;
  }
  const where = tierRule.rule === null ? '' : ` (${tierRule.path})`;
  const why = rows === 'not-readable' ? ' and may not read its sample-level rows' : '';
  if (tierRule.rule === null) {
    out.push(
      `${who}${why}; the dataset sets no disclosure rule for ${tierWords(scope.tier)}: every count is exact.`,
    );
    return out;
  }
  out.push(
    `${who}${why}; the rule for ${tierWords(scope.tier)} applies${where}. ${describeRule(scope.rule)}`,
  );
  if (scope.beneath.length > 0) {
    out.push(
      'What it hides stays hidden given what the lower tiers are shown, since this caller can also ask without its token.',
    );
  }
  return out;
}
