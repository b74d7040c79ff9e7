import type { Logger } from '@pp-embed/server-runtime';
import {
  DATA_ROUTE_IDS,
  ANSWER_TABLES,
  type AnswerTable,
  type DataRouteId,
  DEFAULT_HEADER_KEY,
  type Filter,
  negotiateFormat,
  readParams,
  ROUTE_IDS,
  ROUTE_METHODS,
  type RouteParams,
  type RouteResponse,
  ROUTES,
  type TableFormat,
  type TableRouteId,
} from '@pp-embed/viz-api';
import { type Context, Hono } from 'hono';
import { type AccessDeps, accessControl } from '../http/access.js';
import type { AppEnv } from '../http/env.js';
import { ApiError } from '../http/errors.js';
import { requestHeader } from '../http/headers.js';
import { tableHeaders, tableStream } from '../http/table.js';
import { loginHandler } from './login.js';

/** A route's handler: its checked parameters in, its wire-contract body out (JSON; the export streams CSV). */
type Handler<R extends DataRouteId> = (
  c: Context<AppEnv>,
  params: RouteParams<R>,
) => R extends 'export' ? Response : RouteResponse<R>;

/** The routes that take `format` in the wire contract: they also answer as CSV or TSV. */
type TableRoute = {
  [R in DataRouteId]: 'format' extends keyof (typeof ROUTES)[R]['params'] ? R : never;
}[DataRouteId];

/**
 * The dataset routes: one handler per route of the wire contract (the compiler refuses a missing one), each
 * mounted behind the access middleware for its route, so a handler only runs for a request the access decision
 * allowed, and only sees data through the scope it computed. Routes that take `format` answer JSON, CSV or TSV
 * (the parameter, else the `Accept` header); the sample table in CSV or TSV holds every row, streamed.
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
    // The widget's download: the sample table as CSV, streamed as the samples route streams it.
    export: (c, { term, filter }) => sampleTable(c, term, filter, 'csv'),
  };

  /** Every row of the sample table, streamed; the dataset's file stays open until the last row is sent. */
  function sampleTable(c: Context<AppEnv>, termId: string, filter: Filter, format: TableFormat): Response {
    const { dataset, scope } = c.var.access;
    const rows = dataset.sampleRows(termId, scope, filter);
    c.set('sampleCount', rows.total);
    const release = c.var.access.hold();
    const body = tableStream(
      format,
      {
        header: ['sample', rows.term.name],
        batches: (function* () {
          for (const batch of rows.batches()) yield batch.map((r) => [r.sample, r.value]);
        })(),
      },
      { log, route: ROUTES[c.var.access.route].name, done: release },
    );
    return c.body(body, 200, tableHeaders(format, `${dataset.label}-${rows.term.id}`));
  }

  const app = new Hono<AppEnv>();
  const mount = <R extends DataRouteId>(id: R): void => {
    const handler = handlers[id];
    const tabular = 'format' in ROUTES[id].params;
    app.get(ROUTES[id].path, accessControl(id, deps), (c) => {
      const read = readParams(id, new URL(c.req.url).searchParams);
      if (!read.ok) throw new ApiError(read.code ?? 'bad_request', { message: read.problem });
      if (!tabular) {
        const answer = handler(c, read.params);
        return answer instanceof Response ? answer : c.json(answer);
      }
      // The answer depends on Accept as well as the URL (RFC 9110 §12.5.5).
      c.header('Vary', 'Accept');
      const params = read.params as RouteParams<TableRoute>;
      const format = negotiateFormat(params.format, requestHeader(c, 'accept'));
      if (format === 'json') return c.json(handler(c, read.params));
      if (id === 'samples') {
        const query = new URL(c.req.url).searchParams;
        if (query.has('page') || query.has('pageSize')) {
          throw new ApiError('bad_request', {
            message: 'page and pageSize page the JSON answer; CSV and TSV hold every row.',
          });
        }
        const { term, filter } = params as RouteParams<'samples'>;
        return sampleTable(c, term, filter, format);
      }
      // The aggregated answers are small: their table is made whole, from the JSON answer, in one batch.
      // Every route that takes `format` has its layout in viz-api (the compiler checks the assignment).
      const route: TableRouteId = id as Exclude<TableRoute, 'samples'>;
      const made = (ANSWER_TABLES[route] as (body: unknown) => AnswerTable)(handler(c, read.params));
      const body = tableStream(
        format,
        { header: made.header, batches: [made.rows] },
        { log, route: ROUTES[id].name },
      );
      return c.body(body, 200, tableHeaders(format, `${c.var.access.dataset.label}-${id}`));
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
