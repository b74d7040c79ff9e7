import type { SignRequest } from '@pp-embed/dataset-token';
import { canonicalJson as canonical, type Grant } from '../db/grants.js';

/**
 * What a user's token should say, or why there is none.
 *
 * @example
 * const decision: MintDecision = { ok: true, datasets: ['PPDemo'], clientAuthResult: { role: 'analyst' } };
 */
export type MintDecision =
  | { ok: true; datasets: string[]; clientAuthResult: Record<string, unknown> }
  | { ok: false; status: 400 | 403; code: 'no_grants' | 'dataset_not_granted' | 'dataset_required' };

/**
 * The rule that turns a user's grants into token claims. A token carries one `clientAuthResult`, and the
 * visualization server applies it to every dataset the token lists; so grants with different role data are never
 * merged, which could widen one dataset's restriction with another's:
 *
 * - With `dataset` (the page asks for the dataset it shows): a token for that dataset alone, with that grant's
 *   clientAuthResult. 403 `dataset_not_granted` without a grant for it.
 * - Without: one token for every granted dataset when all grants carry the same clientAuthResult; otherwise
 *   400 `dataset_required`, telling the caller to ask per dataset.
 * - No grants at all: 403 `no_grants`.
 *
 * @example
 * tokenClaims([{ dataset: 'PPDemo', clientAuthResult: { cohorts: ['ABC'] } }], 'PPDemo');
 * // { ok: true, datasets: ['PPDemo'], clientAuthResult: { cohorts: ['ABC'] } }
 */
export function tokenClaims(grants: readonly Grant[], dataset?: string): MintDecision {
  if (grants.length === 0) return { ok: false, status: 403, code: 'no_grants' };
  if (dataset !== undefined) {
    const grant = grants.find((g) => g.dataset === dataset);
    if (grant === undefined) return { ok: false, status: 403, code: 'dataset_not_granted' };
    return { ok: true, datasets: [grant.dataset], clientAuthResult: grant.clientAuthResult };
  }
  const first = grants[0] as Grant;
  const shared = canonical(first.clientAuthResult);
  if (grants.some((g) => canonical(g.clientAuthResult) !== shared)) {
    return { ok: false, status: 400, code: 'dataset_required' };
  }
  return { ok: true, datasets: grants.map((g) => g.dataset), clientAuthResult: first.clientAuthResult };
}

/**
 * What a token says beyond the grant: the client address when it is pinned to one, and for a script's token who it
 * is for, the API token it was exchanged for and the route classes it opens.
 *
 * @example
 * const script: MintExtras = { client: 'script', apiTokenId: '3kQ9aZ0pLm2x', routeClasses: ['aggregated'] };
 */
export type MintExtras = Pick<SignRequest, 'ip' | 'client' | 'apiTokenId' | 'routeClasses'>;

/**
 * The request for the signer: claims from the decision, the user's email, and the extras. An empty
 * clientAuthResult is left out rather than sent as `{}`.
 *
 * @example
 * signer.sign(signRequest(decision, 'ana@example.org', { ip: '203.0.113.7' }));
 */
export function signRequest(
  decision: Extract<MintDecision, { ok: true }>,
  email: string,
  extras: MintExtras = {},
): SignRequest {
  const request: SignRequest = { datasets: decision.datasets, email };
  if (extras.ip !== undefined) request.ip = extras.ip;
  if (extras.client !== undefined) request.client = extras.client;
  if (extras.apiTokenId !== undefined) request.apiTokenId = extras.apiTokenId;
  if (extras.routeClasses !== undefined) request.routeClasses = extras.routeClasses;
  if (Object.keys(decision.clientAuthResult).length > 0) request.clientAuthResult = decision.clientAuthResult;
  return request;
}
