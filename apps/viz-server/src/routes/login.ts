import { decide, PASSWORD_USER } from '@pp-embed/access-policy';
import { LIMITS, readLoginBody, ROUTES, type RouteResponse } from '@pp-embed/viz-api';
import type { Context } from 'hono';
import type { Logger } from '@pp-embed/server-runtime';
import { type AccessDeps, datasetOf, factsOf, refusal, tokenHeaders } from '../http/access.js';
import type { AppEnv } from '../http/env.js';
import { ApiError } from '../http/errors.js';
import { requestHeader } from '../http/headers.js';

/**
 * `POST /termdb/login?dslabel=…` with `{"password", "route"}`: the dataset-password exchange. The one access
 * decision checks the password against the `basic` entry that guards the route for the calling origin (tries
 * limited per address and dataset) and, when it is right, issues the token the answer carries. The password is
 * never logged; the token travels in the body and then in a request header, never in a cookie.
 *
 * @example
 * app.post(ROUTES.login.path, loginHandler(deps, log));
 */
export function loginHandler(deps: AccessDeps, log: Logger) {
  return async (c: Context<AppEnv>): Promise<Response> => {
    const { policy } = c.var.state;
    const { lease } = datasetOf(c, ROUTES.login, deps, tokenHeaders(policy));
    // The exchange reads no data, only the dataset's label and settings: the file is not held while a client
    // sends its body.
    const dataset = lease.dataset;
    lease.release();
    // A simple (CORS-safelisted) content type would let a page on any origin post without a preflight.
    if (!/^application\/json\s*(;|$)/i.test(requestHeader(c, 'content-type') ?? '')) {
      throw new ApiError('bad_request', { message: 'The body must be application/json.' });
    }
    const body = await readJson(c);
    const read = readLoginBody(body);
    if (!read.ok) throw new ApiError('bad_request', { message: read.problem });
    const route = policy.route(read.value.route ?? ROUTES.samples.name);
    if (route === undefined || route.class === 'login') {
      throw new ApiError('bad_request', { message: 'route must name one route of the dataset.' });
    }
    const facts = factsOf(c, deps, dataset, route);
    const decision = await decide(policy, { ...facts, password: read.value.password });
    if (!decision.allowed) throw refusal(decision);
    if (decision.issued === undefined) throw new Error('a password decision without a token');
    log.info('login', {
      dataset: dataset.label,
      route: route.name,
      origin: facts.origin?.slice(0, 200) ?? null,
      user: PASSWORD_USER,
      expiresIn: decision.issued.expiresIn,
    });
    const answer: RouteResponse<'login'> = decision.issued;
    return c.json(answer);
  };
}

const TOO_LARGE = 'The body is too large.';

/**
 * The body as JSON, read up to the contract's limit and no further (a chunked body names no length, so it is
 * counted as it arrives); anything else is a 400, never a 500.
 */
async function readJson(c: Context<AppEnv>): Promise<unknown> {
  const declared = Number(requestHeader(c, 'content-length') ?? '0');
  if (declared > LIMITS.maxLoginBody) throw new ApiError('bad_request', { message: TOO_LARGE });
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    const reader = c.req.raw.body?.getReader();
    for (;;) {
      const next = await reader?.read();
      if (next === undefined || next.done) break;
      size += next.value.byteLength;
      if (size > LIMITS.maxLoginBody) {
        await reader?.cancel();
        throw new ApiError('bad_request', { message: TOO_LARGE });
      }
      chunks.push(next.value);
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError('bad_request', { message: 'The body could not be read.' });
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new ApiError('bad_request', { message: 'The body is not valid JSON.' });
  }
}
