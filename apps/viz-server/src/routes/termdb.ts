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

/** A route's handler: its checked parameters in, its wire-contract body out (JSON; the export streams CSV). */
type Handler<R extends DataRouteId> = (
  c: Context<AppEnv>,
  params: RouteParams<R>,
) => R extends 'export' ? Response : RouteResponse<R>;

/** A file name for a download: the dataset and term, with anything unsafe in a header or a path replaced. */
function downloadName(...parts: string[]): string {
  return `${parts.map((p) => p.replace(/[^A-Za-z0-9._-]+/g, '_')).join('-')}.csv`;
}

/**
 * The dataset routes: one handler per route of the wire contract (the compiler refuses a missing one), each
 * mounted behind the access middleware for its route, so a handler only runs for a request the access decision
 * allowed, and only sees data through the scope it computed.
 */
export function termdbRoutes(deps: AccessDeps, log: Logger): Hono<AppEnv> {
  const handlers: { [R in DataRouteId]: Handler<R> } = {
    config(c) {
      const { dataset, granted, scope } = c.var.access;
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
        minSampleSize: scope.rule?.threshold ?? null,
        disclosure: { tier: scope.tier, rule: scope.rule },
        rootTerms: granted ? dataset.terms(null) : null,
        cohorts: granted ? dataset.cohorts() : null,
      };
    },
    terms: (c, { parent }) => ({ terms: c.var.access.dataset.terms(parent ?? null) }),
    barchart: (c, { term, term2, term0, filter }) =>
      c.var.access.dataset.barchart(term, c.var.access.scope, { term2, term0, filter }),
    samples(c, { term, page, pageSize, filter }) {
      const { dataset, scope } = c.var.access;
      const result = dataset.samples(term, scope, { page, pageSize }, filter);
      c.set('sampleCount', result.rows.length);
      return result;
    },
    summary: (c, { term, term2, filter }) =>
      c.var.access.dataset.summary(term, c.var.access.scope, { term2, filter }),
    survival: (c, { term, term2, filter }) =>
      c.var.access.dataset.survival(term, c.var.access.scope, { term2, filter }),
    search: (c, { q }) => c.var.access.dataset.search(q),
    export(c, { term, filter }) {
      const { dataset, scope } = c.var.access;
      const exported = dataset.exportSamples(term, scope, filter);
      c.set('sampleCount', exported.total);
      const chunks = exported.chunks()[Symbol.iterator]();
      const encoder = new TextEncoder();
      // The rows are read from the file after this handler returns: the file stays open until the last one.
      const release = c.var.access.hold();
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          // One batch per turn of the event loop, so that a large export never keeps other requests waiting.
          await new Promise((resolve) => setImmediate(resolve));
          try {
            const next = chunks.next();
            if (next.done === true) {
              release();
              controller.close();
            } else controller.enqueue(encoder.encode(next.value));
          } catch (error) {
            release();
            throw error;
          }
        },
        cancel: release,
      });
      return c.body(stream, 200, {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="${downloadName(dataset.label, exported.term.id)}"`,
      });
    },
  };

  const app = new Hono<AppEnv>();
  const mount = <R extends DataRouteId>(id: R): void => {
    const handler = handlers[id];
    app.get(ROUTES[id].path, accessControl(id, deps), (c) => {
      const read = readParams(id, new URL(c.req.url).searchParams);
      if (!read.ok) throw new ApiError(read.code ?? 'bad_request', { message: read.problem });
      const answer = handler(c, read.params);
      return answer instanceof Response ? answer : c.json(answer);
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
