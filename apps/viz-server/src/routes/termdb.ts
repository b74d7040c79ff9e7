import { Hono } from 'hono';
import { accessControl, type AccessDeps } from '../http/access.js';
import type { AppEnv } from '../http/env.js';
import { ApiError } from '../http/errors.js';
import { MAX_PAGE_SIZE } from '../termdb/types.js';
import { ROUTE_REFS, ROUTES } from './catalog.js';

/** One query parameter, given once; a repeated parameter is a malformed request, not a choice. */
function param(url: URL, name: string, options: { required: true; max?: number }): string;
function param(url: URL, name: string, options?: { required?: false; max?: number }): string | undefined;
function param(
  url: URL,
  name: string,
  options: { required?: boolean; max?: number } = {},
): string | undefined {
  const values = url.searchParams.getAll(name);
  if (values.length > 1) throw new ApiError(400, 'bad_request', `${name} must be given once.`);
  const value = values[0];
  if (value === undefined || value === '') {
    if (options.required === true) throw new ApiError(400, 'bad_request', `${name} is required.`);
    return undefined;
  }
  if (value.length > (options.max ?? 200)) throw new ApiError(400, 'bad_request', `${name} is too long.`);
  return value;
}

function integer(url: URL, name: string, fallback: number, min: number, max: number): number {
  const value = param(url, name);
  if (value === undefined) return fallback;
  if (!/^\d{1,7}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ApiError(400, 'bad_request', `${name} must be a whole number from ${min} to ${max}.`);
  }
  return Number(value);
}

/**
 * The termdb routes. Each is mounted behind `accessControl` for its catalog entry, so a handler only ever runs
 * for a request the policy allowed, and only sees data through the scope the access layer computed.
 */
export function termdbRoutes(deps: AccessDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get(ROUTES.config.path, accessControl(ROUTES.config, deps, { discovery: true }), (c) => {
    const { dataset, granted } = c.var.access;
    const requirements = deps.policy.tokenRequirements(dataset.label, ROUTE_REFS, c.req.header('origin'));
    const tokenRequired = Object.fromEntries(
      Object.entries(ROUTES).map(([id, route]) => [id, requirements.tokenRequired[route.name] === true]),
    );
    return c.json({
      dslabel: dataset.label,
      genome: dataset.genome,
      auth: { headerKey: requirements.headerKey ?? 'x-ds-access-token', tokenRequired },
      minSampleSize: dataset.minSampleSize,
      rootTerms: granted ? dataset.terms(null) : null,
      cohorts: granted ? dataset.cohorts() : null,
    });
  });

  app.get(ROUTES.terms.path, accessControl(ROUTES.terms, deps), (c) => {
    const parent = param(new URL(c.req.url), 'parent') ?? null;
    return c.json({ terms: c.var.access.dataset.terms(parent) });
  });

  app.get(ROUTES.barchart.path, accessControl(ROUTES.barchart, deps), (c) => {
    const term = param(new URL(c.req.url), 'term', { required: true });
    const { dataset, scope } = c.var.access;
    return c.json(dataset.barchart(term, scope));
  });

  app.get(ROUTES.samples.path, accessControl(ROUTES.samples, deps), (c) => {
    const url = new URL(c.req.url);
    const term = param(url, 'term', { required: true });
    const page = integer(url, 'page', 1, 1, 1_000_000);
    const pageSize = integer(url, 'pageSize', 50, 1, MAX_PAGE_SIZE);
    const { dataset, scope } = c.var.access;
    const result = dataset.samples(term, scope, { page, pageSize });
    c.set('sampleCount', result.rows.length);
    return c.json(result);
  });

  // RFC 9110 §15.5.6: a known resource asked with another method is 405 with the methods it takes. A CORS
  // preflight never gets here: the CORS middleware answers it.
  for (const route of Object.values(ROUTES)) {
    app.all(route.path, (c) => {
      c.header('Allow', 'GET, HEAD');
      throw new ApiError(405, 'method_not_allowed', `${route.path} answers GET only.`);
    });
  }

  return app;
}
