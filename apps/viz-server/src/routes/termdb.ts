import type { Logger } from '@pp-embed/server-runtime';
import {
  DATA_ROUTE_IDS,
  type DataRouteId,
  DEFAULT_HEADER_KEY,
  readParams,
  ROUTE_IDS,
  ROUTE_METHODS,
  type RouteParams,
  type RouteResponse,
  ROUTES,
} from '@pp-embed/viz-api';
import { type Context, Hono } from 'hono';
import { type AccessDeps, accessControl } from '../http/access.js';
import type { AppEnv } from '../http/env.js';
import { ApiError } from '../http/errors.js';
import { requestHeader } from '../http/headers.js';
import { loginHandler } from './login.js';

/** A route's handler: its checked parameters in, its wire-contract body out. */
type Handler<R extends DataRouteId> = (c: Context<AppEnv>, params: RouteParams<R>) => RouteResponse<R>;

/**
 * The dataset routes: one handler per route of the wire contract (the compiler refuses a missing one), each
 * mounted behind the access middleware for its route, so a handler only runs for a request the access decision
 * allowed, and only sees data through the scope it computed.
 */
export function termdbRoutes(deps: AccessDeps, log: Logger): Hono<AppEnv> {
  const handlers: { [R in DataRouteId]: Handler<R> } = {
    config(c) {
      const { dataset, granted } = c.var.access;
      const refs = ROUTE_IDS.map((id) => ROUTES[id]);
      const requirements = c.var.state.policy.tokenRequirements(
        dataset.label,
        refs,
        requestHeader(c, 'origin'),
      );
      const byId = (required: Readonly<Record<string, boolean>>) =>
        Object.fromEntries(ROUTE_IDS.map((id) => [id, required[ROUTES[id].name] === true]));
      return {
        dslabel: dataset.label,
        genome: dataset.genome,
        auth: {
          headerKey: requirements.headerKey ?? DEFAULT_HEADER_KEY,
          tokenRequired: byId(requirements.tokenRequired),
          passwordRequired: byId(requirements.passwordRequired),
        },
        minSampleSize: dataset.minSampleSize,
        rootTerms: granted ? dataset.terms(null) : null,
        cohorts: granted ? dataset.cohorts() : null,
      };
    },
    terms: (c, { parent }) => ({ terms: c.var.access.dataset.terms(parent ?? null) }),
    barchart: (c, { term }) => c.var.access.dataset.barchart(term, c.var.access.scope),
    samples(c, { term, page, pageSize }) {
      const { dataset, scope } = c.var.access;
      const result = dataset.samples(term, scope, { page, pageSize });
      c.set('sampleCount', result.rows.length);
      return result;
    },
  };

  const app = new Hono<AppEnv>();
  const mount = <R extends DataRouteId>(id: R): void => {
    const handler = handlers[id];
    app.get(ROUTES[id].path, accessControl(id, deps), (c) => {
      const read = readParams(id, new URL(c.req.url).searchParams);
      if (!read.ok) throw new ApiError('bad_request', { message: read.problem });
      return c.json(handler(c, read.params));
    });
    // RFC 9110 §15.5.6: a known resource asked with another method is 405 with the methods it takes. A CORS
    // preflight never gets here: the CORS middleware answers it.
    app.all(ROUTES[id].path, (c) => {
      c.header('Allow', ROUTE_METHODS.join(', '));
      throw new ApiError('method_not_allowed', { message: `${ROUTES[id].path} answers GET only.` });
    });
  };
  for (const id of DATA_ROUTE_IDS) mount(id);
  app.post(ROUTES.login.path, loginHandler(deps, log));
  app.all(ROUTES.login.path, (c) => {
    c.header('Allow', 'POST');
    throw new ApiError('method_not_allowed', { message: `${ROUTES.login.path} answers POST only.` });
  });
  return app;
}
