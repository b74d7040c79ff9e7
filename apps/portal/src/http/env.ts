import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Accounts } from '../auth/accounts.js';
import type { CsrfTokens } from '../auth/csrf.js';
import type { FeedPublisher } from '@pp-embed/revocation';
import type { PortalConfig } from '../config.js';
import type { Institution } from '../auth/institution.js';
import type { WindowLimit } from '../db/login-failures.js';
import type { SessionGrant } from '../db/identities.js';
import type { Session } from '../db/sessions.js';
import type { PortalStore } from '../db/store.js';
import type { Logger, RateLimitedLog } from '@pp-embed/server-runtime';
import type { TokenKeys } from '../tokens/keys.js';
import type { PageUser } from '../views/layout.js';

/**
 * The part of the configuration the HTTP app uses (the rest is for `main.ts`: where to listen, which database).
 *
 * @example
 * const config: AppConfig = { vizServerUrl: 'http://127.0.0.1:3001', tokenIp: 'none', proxies: proxyTrust([]),
 *   publicUrl: undefined, datasets: [{ label: 'PPDemo' }] };
 */
export type AppConfig = Pick<PortalConfig, 'vizServerUrl' | 'tokenIp' | 'proxies' | 'publicUrl' | 'datasets'>;

/**
 * What each request knows after the portal's middleware ran, typed for `c.var`.
 *
 * @example
 * app.get('/', (c) => c.text(c.var.session?.email ?? 'signed out'));
 */
export interface PortalVariables {
  /** The live session of the signed-in user, if any. */
  session: Session | undefined;
  /** Whether the browser reached the portal over https (Secure, `__Host-` cookies). */
  https: boolean;
  /** The portal's own origin, as the browser sees it. */
  origin: string;
  /** The client address, when known. */
  client: string | undefined;
}

/**
 * The Hono environment of the portal.
 *
 * @example
 * const routes = new Hono<PortalEnv>();
 */
export interface PortalEnv {
  Variables: PortalVariables;
}

/**
 * The resolved dependencies every route module receives.
 *
 * @example
 * export function tokenRoutes(portal: Portal): Hono<PortalEnv> { … }
 */
export interface Portal {
  config: AppConfig;
  store: PortalStore;
  keys: TokenKeys;
  clock: () => number;
  logger: Logger;
  /** Lines a client can cause at will, bounded per (event, origin, address): see {@link logRefusal}. */
  refusals: RateLimitedLog;
  csrf: CsrfTokens;
  accounts: Accounts;
  /** Failed sign-ins allowed, counted in the store (shared by every replica). */
  limits: { perAccount: WindowLimit; perAddress: WindowLimit };
  /** The revocation feed endpoint's publisher. */
  feed: FeedPublisher;
  /** Built assets by file name, e.g. `dataset-page.js`. */
  assets: ReadonlyMap<string, string>;
  /** The institution users may sign in with, when one is configured. */
  institution: Institution | undefined;
}

/**
 * A signed-in user's grants: those kept for the account, then what the institution granted this session (an
 * account's own grant for a dataset wins). `expiresAt` (milliseconds) is when a grant resting on a visa ends; null
 * for the others.
 *
 * @example
 * const grants = await userGrants(portal, session, Date.now());
 */
export async function userGrants(
  portal: Pick<Portal, 'store'>,
  session: Session,
  now: number,
): Promise<SessionGrant[]> {
  const [own, institutional] = await Promise.all([
    portal.store.grants.forUser(session.userId),
    portal.store.identities.grantsFor(session.id, now),
  ]);
  const held = new Set(own.map((g) => g.dataset));
  return [
    ...own.map((g) => ({ ...g, expiresAt: null })),
    ...institutional.filter((g) => !held.has(g.dataset)),
  ];
}

/**
 * Stable codes of the portal's JSON API.
 *
 * @example
 * const code: ApiErrorCode = 'not_signed_in';
 */
export type ApiErrorCode =
  | 'not_signed_in'
  | 'csrf_failed'
  | 'no_grants'
  | 'dataset_not_granted'
  | 'dataset_required'
  | 'bad_request'
  | 'not_found'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'server_draining'
  | 'store_unavailable'
  | 'internal_error'
  | 'invalid_token'
  | 'too_many_requests';

/**
 * The one shape of every JSON error: `{"error":{"code":"…","message":"…"}}`, the message a fixed sentence.
 *
 * @example
 * return apiError(c, 403, 'no_grants', 'Your account has no dataset grants.');
 */
export function apiError(
  c: Context,
  status: ContentfulStatusCode,
  code: ApiErrorCode,
  message: string,
): Response {
  c.header('Cache-Control', 'no-store');
  return c.json({ error: { code, message } }, status);
}

/**
 * The signed-in user as pages show them, with the CSRF token of the sign-out form.
 *
 * @example
 * layout({ title, main, user: pageUser(portal, c.var.session) });
 */
export function pageUser(portal: Portal, session: Session | undefined): PageUser | undefined {
  return session === undefined
    ? undefined
    : { email: session.email, csrf: portal.csrf.forSession(session.id) };
}

/**
 * Logs a refusal that anyone can cause at will (a failed CSRF check, a cross-origin post, a throttled sign-in),
 * at most a few lines per minute for each event, origin and client address, so that a flood cannot fill the
 * disk; what was dropped is counted in a `log_suppressed` line.
 *
 * @example
 * logRefusal(portal, c, 'csrf_failed', { path: '/logout', email: session.email });
 */
export function logRefusal(
  portal: Pick<Portal, 'refusals'>,
  c: Context<PortalEnv>,
  event: string,
  fields: Record<string, unknown> = {},
): void {
  const origin = c.req.header('origin')?.slice(0, 200) ?? null;
  const address = c.var.client ?? null;
  portal.refusals.warn({ code: event, origin, address }, event, { ...fields, origin, address });
}
