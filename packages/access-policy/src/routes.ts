import type { RouteRef } from './entries.js';

/**
 * The visualization server's dataset routes and their class, declared once for the server and for
 * `pp-token explain`: sample-level routes are what a `termdb` credential protects; aggregated routes stay open
 * under it. Adding a route means adding it here.
 *
 * @example
 * loadPolicy(config.dsCredentials, { baseDir, routes: Object.values(TERMDB_ROUTES) });
 */
export const TERMDB_ROUTES = {
  config: { name: 'termdb/config', sampleLevel: false },
  terms: { name: 'termdb/terms', sampleLevel: false },
  barchart: { name: 'termdb/barchart', sampleLevel: false },
  samples: { name: 'termdb/samples', sampleLevel: true },
} as const satisfies Record<string, RouteRef>;

export type TermdbRouteId = keyof typeof TERMDB_ROUTES;
