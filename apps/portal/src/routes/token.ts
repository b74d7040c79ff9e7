import { Hono } from 'hono';
import { DATASET_LABEL } from '@pp-embed/viz-api';
import { apiError, logRefusal, type Portal, type PortalEnv, userGrants } from '../http/env.js';
import { JWKS_MAX_AGE_SECONDS } from '../tokens/keys.js';
import { type MintDecision, type MintExtras, signRequest, tokenClaims } from '../tokens/mint.js';

const REFUSALS = {
  no_grants: 'Your account has no dataset grants.',
  dataset_not_granted: 'Your account has no grant for this dataset.',
  dataset_required: 'Your grants differ per dataset; ask for one with ?dataset=<label>.',
} as const;

/**
 * A dataset token for a user, the one way the portal mints, for a page or for a script: the grant's claims and the
 * extras, signed with the current key, with its `jti`, `exp` and the seconds it has left. `endsAt` lists when the
 * grants it rests on end (milliseconds; a grant resting on a visa ends when the visa does): no token outlives them,
 * and there is none (`undefined`) when under a second is left. `cutoff` is the revocation cutoff for this user and
 * these datasets (RevocationStore.cutoffFor) when the caller read it already, with what else it needed.
 *
 * @example
 * const minted = await mintFor(portal, 'ana@example.org', decision, { ip: '203.0.113.7' });
 */
export async function mintFor(
  portal: Pick<Portal, 'store' | 'keys' | 'clock'>,
  email: string,
  decision: Extract<MintDecision, { ok: true }>,
  extras: MintExtras,
  endsAt: readonly number[] = [],
  cutoff?: number,
): Promise<{ token: string; jti: string; exp: number; expiresIn: number } | undefined> {
  const { store, keys, clock } = portal;
  // A revocation made this second withdraws every token with an earlier `iat`, this second's included: wait for
  // it to pass (under a second, and only just after a revocation) so that the token is not born revoked.
  const after = cutoff ?? (await store.revocations.cutoffFor(email, decision.datasets, clock()));
  const wait = after * 1000 - clock();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 1000)));
  const now = clock();
  const signer = await keys.signer();
  const ttlSeconds = Math.min(
    signer.ttlSeconds,
    ...endsAt.map((end) => Math.floor(end / 1000) - Math.floor(now / 1000)),
  );
  if (ttlSeconds < 1) return undefined;
  const token = signer.sign({ ...signRequest(decision, email, extras), ttlSeconds });
  const { jti, exp } = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as {
    jti: string;
    exp: number;
  };
  // `iat` is whole seconds rounded down, so up to a second of the lifetime is already gone: say so.
  const expiresIn = Math.floor(Math.floor(now / 1000) + ttlSeconds - now / 1000);
  return { token, jti, exp, expiresIn };
}

/**
 * The token endpoint and the published keys.
 *
 * `POST /api/dataset-token[?dataset=<label>]` answers `{"token": "<JWT>", "expiresIn": <seconds>}` for the
 * signed-in user (see {@link tokenClaims} for which datasets and clientAuthResult go in), `Cache-Control: no-store`.
 * It needs the session cookie, the session's CSRF token in `x-csrf-token`, and a same-origin `Origin` or
 * `Sec-Fetch-Site` (checked before this route). 401 `not_signed_in` without a session; 403 `csrf_failed`,
 * `no_grants` or `dataset_not_granted`; 400 `dataset_required` or `bad_request`. The token itself is never logged.
 *
 * `GET /.well-known/jwks.json` publishes the ES256 public keys (404 under HS256, which has nothing public).
 *
 * @example
 * app.route('/', tokenRoutes(portal));
 */
export function tokenRoutes(portal: Portal): Hono<PortalEnv> {
  const { store, csrf, keys, config, logger, clock } = portal;
  const routes = new Hono<PortalEnv>();

  routes.post('/api/dataset-token', async (c) => {
    const session = c.var.session;
    if (session === undefined) {
      // RFC 9110 §15.5.2: a 401 names how to authenticate; here, by signing in to get a session cookie.
      c.header('WWW-Authenticate', 'Session realm="pp-portal"');
      return apiError(c, 401, 'not_signed_in', 'Sign in to get a dataset token.');
    }
    if (!csrf.checkSession(session.id, c.req.header('x-csrf-token'))) {
      logRefusal(portal, c, 'csrf_failed', { path: '/api/dataset-token', email: session.email });
      return apiError(c, 403, 'csrf_failed', 'The request did not carry this session’s CSRF token.');
    }
    const dataset = c.req.query('dataset');
    if (dataset !== undefined && !DATASET_LABEL.test(dataset)) {
      return apiError(c, 400, 'bad_request', 'dataset must be a dataset label.');
    }
    const grants = await userGrants(portal, session, clock());
    const decision = tokenClaims(grants, dataset);
    if (!decision.ok) {
      logger.info('token_refused', { email: session.email, code: decision.code });
      return apiError(c, decision.status, decision.code, REFUSALS[decision.code]);
    }
    let ip: string | undefined;
    if (config.tokenIp === 'client') {
      ip = c.var.client;
      if (ip === undefined) throw new Error('tokenIp is "client" but the client address is unknown');
    }
    const ends = grants
      .filter((g) => decision.datasets.includes(g.dataset) && g.expiresAt !== null)
      .map((g) => g.expiresAt as number);
    const minted = await mintFor(portal, session.email, decision, { ip }, ends);
    if (minted === undefined) {
      logger.info('token_refused', { email: session.email, code: 'dataset_not_granted' });
      return apiError(c, 403, 'dataset_not_granted', REFUSALS.dataset_not_granted);
    }
    const { token, jti, exp, expiresIn } = minted;
    // Signing out withdraws exactly the tokens minted for the session.
    await store.sessions.recordToken(session, jti, exp);
    logger.info('token_minted', { email: session.email, datasets: decision.datasets });
    c.header('Cache-Control', 'no-store');
    return c.json({ token, expiresIn });
  });

  routes.on(['GET', 'PUT', 'DELETE', 'PATCH'], '/api/dataset-token', (c) => {
    c.header('Allow', 'POST');
    return apiError(c, 405, 'method_not_allowed', 'Use POST.');
  });

  routes.get('/.well-known/jwks.json', async (c) => {
    const jwks = await keys.jwks();
    if (jwks === undefined) {
      return apiError(c, 404, 'not_found', 'This portal signs with a shared secret and publishes no keys.');
    }
    c.header('Content-Type', 'application/jwk-set+json');
    // Short, so that a verifier sees a new key well before it signs (the rotation rule, tokens/keys.ts).
    c.header('Cache-Control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
    return c.body(JSON.stringify(jwks));
  });

  return routes;
}
