import type { Logger } from '@pp-embed/server-runtime';
import {
  DATA_ROUTE_IDS,
  type DataRouteId,
  DEFAULT_HEADER_KEY,
  negotiateFormat,
  readParams,
  ROUTE_IDS,
  ROUTE_METHODS,
  type RouteParams,
  type RouteResponse,
  ROUTES,
  type TableFormat,
} from '@pp-embed/viz-api';
import { type Context, Hono } from 'hono';
import { type AccessDeps, accessControl } from '../http/access.js';
import type { AppEnv } from '../http/env.js';
import { ApiError } from '../http/errors.js';
import { requestHeader } from '../http/headers.js';
import { type Table, tableHeaders, tableStream } from '../http/table.js';
import { loginHandler } from './login.js';

/** A route's handler: its checked parameters in, its wire-contract body out. */
type Handler<R extends DataRouteId> = (c: Context<AppEnv>, params: RouteParams<R>) => RouteResponse<R>;

/** The routes that take `format` in the wire contract: they also answer as CSV or TSV. */
type TableRoute = {
  [R in DataRouteId]: 'format' extends keyof (typeof ROUTES)[R]['params'] ? R : never;
}[DataRouteId];

/**
 * Each table route's JSON body as a table, the header naming the columns. The sample table is streamed from the
 * dataset's rows instead (see below), so that its table is never built whole; the others are small.
 */
const TABLES: { [R in Exclude<TableRoute, 'samples'>]: (body: RouteResponse<R>) => Table } = {
  terms: (body) => ({
    header: ['id', 'name', 'type', 'isleaf', 'supported'],
    batches: [body.terms.map((t) => [t.id, t.name, t.type, t.isleaf, t.supported])],
  }),
  // A suppressed count is empty, with `suppressed` true, as in the JSON answer.
  barchart: (body) => ({
    header: ['key', 'label', 'count', 'suppressed'],
    batches: [body.bars.map((b) => [b.key, b.label, b.count, b.suppressed])],
  }),
};

/**
 * The dataset routes: one handler per route of the wire contract (the compiler refuses a missing one), each
 * mounted behind the access middleware for its route, so a handler only runs for a request the access decision
 * allowed, and only sees data through the scope it computed. Routes that take `format` answer JSON, CSV or TSV
 * (the parameter, else the `Accept` header); the sample table in CSV or TSV holds every row, streamed.
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

  /** Every row of the sample table, streamed; the dataset's file stays open until the last row is sent. */
  function sampleTable(c: Context<AppEnv>, params: RouteParams<'samples'>, format: TableFormat): Response {
    const query = new URL(c.req.url).searchParams;
    if (query.has('page') || query.has('pageSize')) {
      throw new ApiError('bad_request', {
        message: 'page and pageSize page the JSON answer; CSV and TSV hold every row.',
      });
    }
    const { dataset, scope } = c.var.access;
    const rows = dataset.sampleRows(params.term, scope);
    c.set('sampleCount', rows.total);
    const release = c.var.access.holdDataset();
    const body = tableStream(
      format,
      {
        header: ['sample', rows.term.name],
        batches: (function* () {
          for (const batch of rows.batches()) yield batch.map((r) => [r.sample, r.value]);
        })(),
      },
      { log, route: ROUTES.samples.name, done: release },
    );
    return c.body(body, 200, tableHeaders(format, `${dataset.label}-${rows.term.id}`));
  }

  const app = new Hono<AppEnv>();
  const mount = <R extends DataRouteId>(id: R): void => {
    const handler = handlers[id];
    const tabular = 'format' in ROUTES[id].params;
    app.get(ROUTES[id].path, accessControl(id, deps), (c) => {
      const read = readParams(id, new URL(c.req.url).searchParams);
      if (!read.ok) throw new ApiError('bad_request', { message: read.problem });
      if (!tabular) return c.json(handler(c, read.params));
      // The answer depends on Accept as well as the URL (RFC 9110 §12.5.5).
      c.header('Vary', 'Accept');
      const params = read.params as RouteParams<TableRoute>;
      const format = negotiateFormat(params.format, requestHeader(c, 'accept'));
      if (format === 'json') return c.json(handler(c, read.params));
      if (id === 'samples') return sampleTable(c, params as RouteParams<'samples'>, format);
      const route = id as Exclude<TableRoute, 'samples'>;
      const table = (TABLES[route] as (body: unknown) => Table)(handler(c, read.params));
      const body = tableStream(format, table, { log, route: ROUTES[id].name });
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
