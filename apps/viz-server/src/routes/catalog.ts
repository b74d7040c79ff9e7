import { type RouteRef, TERMDB_ROUTES, type TermdbRouteId } from '@pp-embed/access-policy';

/**
 * Every dataset route the server answers: the class of each (sample-level or aggregated) comes from the one
 * declaration in @pp-embed/access-policy, which `pp-token explain` reads too; this adds the URL path. A handler
 * cannot decide its own protection: it is mounted behind the access middleware for its entry here.
 */
export const ROUTES = {
  config: { ...TERMDB_ROUTES.config, path: '/termdb/config' },
  terms: { ...TERMDB_ROUTES.terms, path: '/termdb/terms' },
  barchart: { ...TERMDB_ROUTES.barchart, path: '/termdb/barchart' },
  samples: { ...TERMDB_ROUTES.samples, path: '/termdb/samples' },
} as const satisfies Record<TermdbRouteId, RouteRef & { path: string }>;

export type CatalogRoute = (typeof ROUTES)[TermdbRouteId];

/** The catalog as the access policy takes it. */
export const ROUTE_REFS: readonly RouteRef[] = Object.values(TERMDB_ROUTES);

/** The route whose protection guards the token a caller may send on an open route (see access.ts). */
export const SAMPLE_ROUTE: CatalogRoute = ROUTES.samples;
