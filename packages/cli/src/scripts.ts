import { readFileSync } from 'node:fs';
import { ExchangeError, ScriptClient, VizError } from '@pp-embed/api-token';
import { DATA_ROUTE_IDS, type DataRouteId, RESPONSE_FORMATS, ROUTES } from '@pp-embed/viz-api';
import type { Command } from './commands.js';
import { type Io, UsageError } from './io.js';
import { required, str, type Values } from './options.js';

/** Where the API token is read from when no option says: the environment, as the portal's page suggests. */
const DEFAULT_TOKEN_ENV = 'PP_API_TOKEN';

/** The personal API token: from an environment variable or a file, never an argument (ps and shell history). */
function apiToken(values: Values, io: Io): string {
  const env = str(values, 'api-token-env');
  const file = str(values, 'api-token-file');
  if (env !== undefined && file !== undefined) {
    throw new UsageError('give --api-token-env or --api-token-file, not both');
  }
  if (file !== undefined) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch {
      throw new UsageError(`--api-token-file: cannot read ${file}`);
    }
  }
  const name = env ?? DEFAULT_TOKEN_ENV;
  const value = io.env[name]?.trim();
  if (value === undefined || value === '') {
    throw new UsageError(`no API token: set ${name}, or give --api-token-env NAME or --api-token-file FILE`);
  }
  return value;
}

function url(values: Values, name: string): string {
  const value = required(values, name);
  try {
    const parsed = new URL(value);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return parsed.href;
  } catch {
    // refused below
  }
  throw new UsageError(`--${name} must be an http(s) URL`);
}

/** A refusal of the portal or the server: its code and reason on stderr, exit 1. */
function refused(error: unknown, io: Io): number {
  if (error instanceof ExchangeError) {
    io.err(`${error.code}: ${error.message}`);
    return 1;
  }
  if (error instanceof VizError) {
    io.err(`${error.code}: ${error.message}`);
    return 1;
  }
  throw error;
}

const tokenOptions = {
  portal: { type: 'string' },
  'api-token-env': { type: 'string' },
  'api-token-file': { type: 'string' },
} as const;

/** `pp-token fetch` and `pp-token access`: a personal API token's exchange, and what it opens. */
export const scriptCommands: Record<'fetch' | 'access', Command> = {
  fetch: {
    summary: "exchange a personal API token at the portal and print a route's answer (JSON, CSV or TSV)",
    usage:
      'pp-token fetch --portal URL --viz-server URL --dataset LABEL --route ROUTE [--term ID] [--parent ID] [--page N] [--page-size N] [--format json|csv|tsv] [--api-token-env NAME | --api-token-file FILE]',
    options: {
      ...tokenOptions,
      'viz-server': { type: 'string' },
      dataset: { type: 'string' },
      route: { type: 'string' },
      term: { type: 'string' },
      parent: { type: 'string' },
      page: { type: 'string' },
      'page-size': { type: 'string' },
      format: { type: 'string' },
    },
    async run(values, _positionals, io) {
      const name = required(values, 'route');
      const route = DATA_ROUTE_IDS.find((id) => ROUTES[id].name === name || id === name);
      if (route === undefined) {
        throw new UsageError(`--route is one of ${DATA_ROUTE_IDS.map((id) => ROUTES[id].name).join(', ')}`);
      }
      const format = str(values, 'format') ?? 'json';
      if (!(RESPONSE_FORMATS as readonly string[]).includes(format)) {
        throw new UsageError(`--format is ${RESPONSE_FORMATS.join(', ')}`);
      }
      const dataset = required(values, 'dataset');
      const client = new ScriptClient({
        portal: url(values, 'portal'),
        vizServer: url(values, 'viz-server'),
        apiToken: apiToken(values, io),
        scope: { datasets: [dataset] },
        now: () => io.now(),
      });
      // Only the parameters the route takes (the wire contract's list); the server checks their values.
      const given: Record<string, string | undefined> = {
        dslabel: dataset,
        term: str(values, 'term'),
        parent: str(values, 'parent'),
        page: str(values, 'page'),
        pageSize: str(values, 'page-size'),
        format: format === 'json' ? undefined : format,
      };
      const params = ROUTES[route as DataRouteId].params as Record<string, unknown>;
      const query = Object.fromEntries(Object.entries(given).filter(([key]) => key in params));
      try {
        const response = await client.get(route, query, {
          accept:
            format === 'json'
              ? 'application/json'
              : `text/${format === 'csv' ? 'csv' : 'tab-separated-values'}`,
        });
        if (response.body !== null) {
          for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>)
            await io.write(chunk);
        }
        return 0;
      } catch (error) {
        return refused(error, io);
      }
    },
  },

  access: {
    summary: 'ask the portal what a personal API token opens now: datasets, route classes, cohorts, expiry',
    usage: 'pp-token access --portal URL [--api-token-env NAME | --api-token-file FILE]',
    options: tokenOptions,
    async run(values, _positionals, io) {
      const portal = url(values, 'portal');
      const client = new ScriptClient({ portal, vizServer: portal, apiToken: apiToken(values, io) });
      try {
        io.out(JSON.stringify(await client.access(), null, 2));
        return 0;
      } catch (error) {
        return refused(error, io);
      }
    },
  },
};
