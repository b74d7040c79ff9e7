import type { RouteRef } from '@pp-embed/access-policy';

/**
 * Every dataset route the server answers, declared once. `sampleLevel` is what the access policy reads to
 * decide what a `termdb` credential covers: sample-level routes need the token, aggregated routes stay open.
 * A new route must be added here, so that no handler can decide its own protection.
 */
export const ROUTES = {
  config: { name: 'termdb/config', path: '/termdb/config', sampleLevel: false },
  terms: { name: 'termdb/terms', path: '/termdb/terms', sampleLevel: false },
  barchart: { name: 'termdb/barchart', path: '/termdb/barchart', sampleLevel: false },
  samples: { name: 'termdb/samples', path: '/termdb/samples', sampleLevel: true },
} as const satisfies Record<string, RouteRef & { path: string }>;

export type RouteId = keyof typeof ROUTES;
export type CatalogRoute = (typeof ROUTES)[RouteId];

/** The catalog as the access policy takes it. */
export const ROUTE_REFS: readonly RouteRef[] = Object.values(ROUTES).map(({ name, sampleLevel }) => ({
  name,
  sampleLevel,
}));

/** The route whose protection guards the token a caller may send on an open route (see access.ts). */
export const SAMPLE_ROUTE: CatalogRoute = ROUTES.samples;
