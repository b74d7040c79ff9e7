import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { load, newSecret } from '../test/helpers.js';
import type { RouteRef } from './entries.js';
import { embedderFromOrigin } from './origin.js';
import type { Resolution } from './policy.js';

// One secret for every generated jwt entry: building verifiers is what loading does, and a fresh secret per
// entry would only slow the run down.
const SECRET = newSecret();

const DATASETS = ['TermdbTest', 'Other', 'constructor', 'toString', '*', '#Disabled'];
const ROUTES = ['*', 'termdb', 'termdb/samples', 'termdb/barchart', 'termdb/config', '#note'];
const EMBEDDERS = [
  '*',
  'portal.example.org',
  'localhost:5173',
  'localhost',
  'lab.example.edu',
  '#portal.example.org',
];
const ORIGINS = [
  'https://portal.example.org',
  'http://PORTAL.example.org:80',
  'https://portal.example.org.evil.net',
  'http://localhost:5173',
  'http://localhost:5174',
  'http://localhost',
  'https://portal.example.org:8443',
  'https://lab.example.edu',
  'https://evil.example',
  'https://__proto__',
  'null',
  '',
  undefined,
];

type Entry = { type: 'jwt'; secret: string; scripts?: true } | { type: 'open' } | { type: 'forbidden' };
type Config = Record<string, Record<string, Record<string, Entry | string>>>;

const entry: fc.Arbitrary<Entry> = fc.constantFrom<Entry>(
  { type: 'jwt', secret: SECRET },
  { type: 'jwt', secret: SECRET, scripts: true },
  { type: 'open' },
  { type: 'forbidden' },
);
const takesScripts = (e: unknown): boolean => typeof e === 'object' && e !== null && 'scripts' in e;
// Keys starting with # are comments: their values may be anything, so they hold a string here.
const level = <T>(keys: readonly string[], value: fc.Arbitrary<T>) =>
  fc
    .uniqueArray(fc.constantFrom(...keys), { minLength: 1, maxLength: keys.length })
    .chain((chosen) =>
      fc
        .tuple(...chosen.map((k) => (k.startsWith('#') ? fc.constant('comment') : value)))
        .map((values) => Object.fromEntries(chosen.map((k, i) => [k, values[i]]))),
    );

// Every non-comment block has at least one non-comment member: an empty block is a load error by design.
const nonEmpty = (block: Record<string, unknown>): boolean =>
  Object.keys(block).some((k) => !k.startsWith('#'));
// At most one entry of a route block takes scripts: two are a load error by design.
const embedders = level(EMBEDDERS, entry)
  .filter(nonEmpty)
  .filter((block) => Object.values(block).filter(takesScripts).length <= 1);
const routes = level(ROUTES, embedders).filter(nonEmpty);
const config = fc.option(level(DATASETS, routes), { nil: undefined }) as fc.Arbitrary<Config | undefined>;

const dataset = fc.oneof(fc.constantFrom(...DATASETS, '__proto__', 'valueOf', 'termdbtest'), fc.string());
const route: fc.Arbitrary<RouteRef> = fc.record({
  name: fc.oneof(fc.constantFrom(...ROUTES, 'termdb/terms', '__proto__', 'hasOwnProperty'), fc.string()),
  class: fc.constantFrom('discovery', 'aggregated', 'sample-level'),
});
const origin = fc.oneof(
  fc.constantFrom(...ORIGINS),
  fc.string(),
  fc.webUrl(),
  fc.webUrl().map((u) => new URL(u).origin),
);

const own = (object: object, key: string): boolean => !key.startsWith('#') && Object.hasOwn(object, key);

/** The documented precedence, written out plainly over the raw config, as the reference for `resolve`. */
function reference(cfg: Config | undefined, ds: string, r: RouteRef, o: string | undefined): string {
  if (cfg === undefined) return 'open';
  const block = own(cfg, ds) ? cfg[ds] : own(cfg, '*') ? cfg['*'] : undefined;
  if (block === undefined) return 'open';
  const exact = r.name !== '*' && r.name !== 'termdb' && own(block, r.name);
  const key = exact
    ? r.name
    : r.class === 'sample-level' && own(block, 'termdb')
      ? 'termdb'
      : own(block, '*')
        ? '*'
        : undefined;
  if (key === undefined) return 'open';
  const byEmbedder = block[key] as Record<string, Entry>;
  const e = embedderFromOrigin(o);
  // No Origin: a script. The entry that takes scripts; else an open or forbidden "*"; else refused.
  if (e.kind === 'absent') {
    if (Object.keys(byEmbedder).some((k) => !k.startsWith('#') && takesScripts(byEmbedder[k])))
      return 'needs-token';
    const star = own(byEmbedder, '*') ? (byEmbedder['*'] as Entry) : undefined;
    if (star?.type === 'open') return 'open';
    if (star?.type === 'forbidden') return 'forbidden route_forbidden';
    return 'forbidden scripts_not_allowed';
  }
  // host:port, then the host alone (a key without a port covers every port), then "*".
  const host =
    e.kind === 'host' && own(byEmbedder, e.host)
      ? e.host
      : e.kind === 'host' && own(byEmbedder, e.hostname)
        ? e.hostname
        : own(byEmbedder, '*')
          ? '*'
          : undefined;
  if (host === undefined) return 'forbidden embedder_not_allowed';
  const type = (byEmbedder[host] as Entry).type;
  return type === 'jwt' ? 'needs-token' : type === 'open' ? 'open' : 'forbidden route_forbidden';
}

const summary = (r: Resolution): string => (r.kind === 'forbidden' ? `forbidden ${r.code}` : r.kind);

describe('resolve, for random configs and requests', () => {
  it('never throws and never returns an entry of another dataset', () => {
    fc.assert(
      fc.property(config, dataset, route, origin, (cfg, ds, r, o) => {
        const result = load(cfg).resolve(ds, r, o);
        const e = result.entry;
        if (e === undefined) return;
        if (e.dataset === ds) return;
        // Only the "*" block may serve another label, and only one without a block of its own.
        expect(e.dataset).toBe('*');
        expect(cfg !== undefined && own(cfg, ds)).toBe(false);
      }),
      { numRuns: 400 },
    );
  });

  it('is open only where an "open" entry says so, or where no credential covers the dataset and route', () => {
    fc.assert(
      fc.property(config, dataset, route, origin, (cfg, ds, r, o) => {
        const result = load(cfg).resolve(ds, r, o);
        if (result.kind !== 'open') return;
        if (result.entry !== undefined) {
          expect(result.entry.type).toBe('open');
          return;
        }
        const block =
          cfg === undefined ? undefined : own(cfg, ds) ? cfg[ds] : own(cfg, '*') ? cfg['*'] : undefined;
        if (block === undefined) return;
        const covering = Object.keys(block).filter(
          (k) =>
            !k.startsWith('#') &&
            (k === '*' || (k === 'termdb' && r.class === 'sample-level') || (k === r.name && k !== 'termdb')),
        );
        expect(covering).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it('agrees with the documented precedence written out plainly', () => {
    fc.assert(
      fc.property(config, dataset, route, origin, (cfg, ds, r, o) => {
        expect(summary(load(cfg).resolve(ds, r, o))).toBe(reference(cfg, ds, r, o));
      }),
      { numRuns: 400 },
    );
  });
});
