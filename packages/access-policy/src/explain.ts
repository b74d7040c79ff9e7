import { type DatasetTokenClaims, TokenError, type TokenErrorCode } from '@pp-embed/dataset-token';
import { authorize, type RefusalCode } from './authorize.js';
import type { RouteRef, TokenEntry } from './entries.js';
import { canonicalIp } from './ip.js';
import { type AccessPolicy, type Trace, traceResolution } from './policy.js';

/** The facts of one request, as the server would see them. */
export interface ExplainRequest {
  dataset: string;
  /**
   * The route, or its bare name. A bare name takes its class from the route catalog given to `loadPolicy`; a
   * name the catalog does not know (or any name, without a catalog) is taken as sample-level, the stricter case.
   */
  route: RouteRef | string;
  /** The raw `Origin` header value, if any. */
  origin?: string | null | undefined;
  /** The client address, for the `ip` claim check. */
  clientIp?: string | undefined;
}

/** A token to verify with the matching entry's verifier, or the outcome of a verification done elsewhere. */
export type ExplainEvidence =
  { token: string | null | undefined } | { claims: DatasetTokenClaims } | { error: unknown };

/** The outcome `explain` describes, with the HTTP status and code the server would answer. */
export type ExplainDecision =
  | { readonly outcome: 'allowed'; readonly status: 200 }
  | { readonly outcome: 'refused'; readonly status: 401 | 403; readonly code: RefusalCode | TokenErrorCode };

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
 * Makes the same decision as `resolve`, the token's verifier and `authorize`, and tells it step by step: which
 * dataset, route and embedder key matched and why, what the token would need, and which check failed. The
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
  evidence?: string | ExplainEvidence,
): Promise<Explanation> {
  const steps: string[] = [];
  const route = routeOf(policy, request.route, steps);
  const t = traceResolution(policy, request.dataset, route, request.origin);
  const given: ExplainEvidence | undefined = typeof evidence === 'string' ? { token: evidence } : evidence;
  const done = (decision: ExplainDecision): Explanation => {
    steps.push(
      decision.outcome === 'allowed'
        ? 'Decision: allowed.'
        : `Decision: refused with ${decision.code} (${decision.status}).`,
    );
    return { decision, steps };
  };
  const allowed: ExplainDecision = { outcome: 'allowed', status: 200 };
  const unchecked = (): void => {
    if (!noToken(given))
      steps.push('A token was given, but this request does not need one, so it was not checked.');
  };

  steps.push(datasetSentence(request.dataset, t));
  if (t.dataset.block === undefined) {
    unchecked();
    return done(allowed);
  }
  steps.push(routeSentence(t));
  if (t.route.block === undefined) {
    unchecked();
    return done(allowed);
  }
  steps.push(...embedderSentences(request.origin, t));
  const result = t.result;
  if (result.kind === 'forbidden' && result.code === 'embedder_not_allowed') {
    return done({ outcome: 'refused', status: 403, code: 'embedder_not_allowed' });
  }
  if (result.kind === 'open') {
    steps.push('The entry\'s type is "open": no token is needed.');
    unchecked();
    return done(allowed);
  }
  if (result.kind === 'forbidden') {
    steps.push(
      'The entry\'s type is "forbidden": this route is closed to this embedder, with or without a token.',
    );
    return done({ outcome: 'refused', status: 403, code: 'route_forbidden' });
  }

  const entry = result.entry;
  steps.push(requirementSentence(entry, request.dataset));
  const verified = await verification(entry, given);
  steps.push(verified.sentence);
  if (!('claims' in verified)) return done({ outcome: 'refused', status: 401, code: verified.code });
  const claims = verified.claims;

  const grant = authorize(entry, claims, { dataset: request.dataset, clientIp: request.clientIp });
  const datasets = Array.isArray(claims.datasets) ? claims.datasets : [];
  if (!grant.ok && grant.code === 'dataset_not_granted') {
    steps.push(
      `The "datasets" claim is [${datasets.map(quote).join(', ')}]: ${grant.reason.replace(/^the "datasets" claim /, 'it ')}.`,
    );
    return done({ outcome: 'refused', status: 403, code: 'dataset_not_granted' });
  }
  const required = entry.dsnames === undefined ? [request.dataset] : entry.dsnames.map((d) => d.id);
  steps.push(`The "datasets" claim includes ${list(required.map(quote))}.`);
  const mode = entry.looseIpCheck ? 'Address check (looseIpCheck)' : 'Strict address check';
  if (!grant.ok) {
    steps.push(`${mode}: ${grant.reason}.`);
    return done({ outcome: 'refused', status: 403, code: 'ip_mismatch' });
  }
  const ip = claims.ip;
  const client = request.clientIp === undefined ? '' : (canonicalIp(request.clientIp) ?? request.clientIp);
  if (ip === undefined) steps.push('The token has no "ip" claim, which looseIpCheck accepts.');
  else if (entry.looseIpCheck) {
    steps.push(
      `${mode}: the client address ${client} is in the network of the "ip" claim ${canonicalIp(ip) ?? ip}.`,
    );
  } else steps.push(`${mode}: the "ip" claim ${canonicalIp(ip) ?? ip} is the client address.`);
  return done(allowed);
}

function routeOf(policy: AccessPolicy, route: RouteRef | string, steps: string[]): RouteRef {
  if (typeof route !== 'string') return route;
  const known = policy.route(route);
  if (known !== undefined) return known;
  steps.push(
    `Route ${quote(route)} is not in the server's route catalog, so it is taken as sample-level (the stricter case).`,
  );
  return { name: route, sampleLevel: true };
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
  const { name, sampleLevel, block, via } = t.route;
  const what = `Route ${quote(name)} (${sampleLevel ? 'sample-level' : 'aggregated'})`;
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
  else if (e.kind === 'absent')
    out.push(
      'The request has no Origin header (as from a script or curl), so only a "*" embedder can match.',
    );
  else if (e.kind === 'null')
    out.push('The Origin is "null" (a sandboxed or file: page), so only a "*" embedder can match.');
  else
    out.push(
      `The Origin ${quote(String(origin).slice(0, 200))} is not a valid http(s) origin, so only a "*" embedder can match.`,
    );
  const entryPath = t.result.entry?.path ?? '';
  if (t.embedderVia === 'exact')
    out.push(`Embedder key ${quote(e.kind === 'host' ? e.host : '')} matched (${entryPath}).`);
  else if (t.embedderVia === 'star') {
    out.push(
      `${e.kind === 'host' ? `No embedder key is ${quote(e.host)}, so the` : 'The'} "*" embedder matched (${entryPath}).`,
    );
  } else {
    const keys = [...(block?.embedders.keys() ?? [])].map(quote);
    out.push(
      `No embedder key in ${block?.path} matches and there is no "*" embedder (its keys: ${list(keys)}). ` +
        'A protected route with no credential for the embedder is refused (fail closed).',
    );
  }
  return out;
}

function requirementSentence(entry: TokenEntry, dataset: string): string {
  const algorithms = entry.verifier.algorithms;
  const key =
    entry.keySource === 'secret'
      ? 'the shared secret'
      : entry.keySource === 'publicKey'
        ? "the portal's public key"
        : "a key of the portal's JWKS";
  const signed =
    algorithms.length > 0 ? `signed with ${key} (${algorithms.join(' or ')})` : `signed with ${key}`;
  const parts = [
    `The entry's type is "jwt": a token is needed in the ${quote(entry.headerKey)} header, ${signed}`,
  ];
  if (entry.issuer !== undefined) parts.push(`with "iss" ${list(entry.issuer.map(quote))}`);
  if (entry.audience !== undefined) parts.push(`with "aud" ${list(entry.audience.map(quote))}`);
  parts.push(`with "exp" at most ${entry.maxTokenAge} seconds after "iat"`);
  const ids = entry.dsnames === undefined ? [dataset] : entry.dsnames.map((d) => d.id);
  parts.push(
    `whose "datasets" claim lists ${list(ids.map(quote))}${entry.dsnames === undefined ? '' : " (the entry's dsnames)"}`,
  );
  parts.push(
    entry.looseIpCheck
      ? `and whose "ip" claim, if any, is in the client's /24 (IPv4) or /64 (IPv6) network (looseIpCheck)`
      : `and whose "ip" claim is the client address (strict address check)`,
  );
  return `${parts.join(', ')}.`;
}

function noToken(given: ExplainEvidence | undefined): given is undefined | { token: null | undefined | '' } {
  return given === undefined || ('token' in given && (given.token == null || given.token === ''));
}

type Verified = { claims: DatasetTokenClaims; sentence: string } | { code: TokenErrorCode; sentence: string };

async function verification(entry: TokenEntry, given: ExplainEvidence | undefined): Promise<Verified> {
  const refused = (error: unknown): Verified => {
    const code = error instanceof TokenError ? error.code : 'token_invalid';
    const why = error instanceof TokenError ? error.message : 'it could not be verified';
    return { code, sentence: `The token was refused: ${why}.` };
  };
  if (noToken(given)) {
    return {
      code: 'token_missing',
      sentence: `No token was given (it would come in the ${quote(entry.headerKey)} header).`,
    };
  }
  if ('error' in given) return refused(given.error);
  if ('claims' in given) return { claims: given.claims, sentence: 'The token was verified by the caller.' };
  try {
    const claims = await entry.verifier.verify(given.token);
    const exp = new Date(claims.exp * 1000).toISOString();
    return {
      claims,
      sentence: `The token verified: signature, algorithm and lifetime are valid (it expires ${exp}).`,
    };
  } catch (error) {
    return refused(error);
  }
}
