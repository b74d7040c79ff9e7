import { describe, expect, it } from 'vitest';
import { BARCHART, CATALOG, CONFIG, forbidden, jwt, load, open, SAMPLES, TERMS } from '../test/helpers.js';
import type { RouteRef } from './entries.js';
import type { Resolution } from './policy.js';

const PORTAL = 'https://portal.example.org';

/** What a resolution says, in one comparable line: `needs-token <path>`, `open <path|->`, `forbidden <code> <path>`. */
function summary(r: Resolution): string {
  if (r.kind === 'needs-token') return `needs-token ${r.entry.path}`;
  if (r.kind === 'open') return `open ${r.entry?.path ?? '-'}`;
  return `forbidden ${r.code} ${r.path}`;
}

interface Row {
  rule: string;
  config: Record<string, unknown>;
  dataset?: string;
  route: RouteRef;
  origin?: string | null | undefined;
  expected: string;
}

const D = 'dsCredentials';

const precedence: Row[] = [
  // dataset level
  {
    rule: 'an exact dataset label comes before "*"',
    config: { TermdbTest: { '*': { '*': jwt() } }, '*': { '*': { '*': forbidden() } } },
    route: SAMPLES,
    expected: `needs-token ${D}.TermdbTest.*.*`,
  },
  {
    rule: 'the "*" dataset applies to a label without a key of its own',
    config: { Other: { '*': { '*': open() } }, '*': { '*': { '*': jwt() } } },
    route: BARCHART,
    expected: `needs-token ${D}.*.*.*`,
  },
  {
    rule: 'an exact dataset label replaces "*" entirely (ProteinPaint): an uncovered route stays open',
    config: { TermdbTest: { termdb: { '*': jwt() } }, '*': { '*': { '*': jwt() } } },
    route: BARCHART,
    expected: 'open -',
  },
  {
    rule: 'an exact dataset label replaces "*" entirely: an unmatched embedder is refused by its own block',
    config: { TermdbTest: { '*': { 'other.example.org': jwt() } }, '*': { '*': { '*': open() } } },
    route: BARCHART,
    expected: `forbidden embedder_not_allowed ${D}.TermdbTest.*`,
  },
  {
    rule: 'labels compare exactly: case matters',
    config: { termdbtest: { '*': { '*': forbidden() } } },
    route: SAMPLES,
    expected: 'open -',
  },
  {
    rule: 'labels compare exactly: no trimming',
    config: { 'TermdbTest ': { '*': { '*': forbidden() } } },
    route: SAMPLES,
    expected: 'open -',
  },
  // route level
  {
    rule: 'an exact route comes before "termdb"',
    config: {
      TermdbTest: { 'termdb/samples': { '*': open() }, termdb: { '*': jwt() }, '*': { '*': forbidden() } },
    },
    route: SAMPLES,
    expected: `open ${D}.TermdbTest.termdb/samples.*`,
  },
  {
    rule: '"termdb" comes before "*" for a sample-level route',
    config: { TermdbTest: { termdb: { '*': jwt() }, '*': { '*': forbidden() } } },
    route: SAMPLES,
    expected: `needs-token ${D}.TermdbTest.termdb.*`,
  },
  {
    rule: '"termdb" does not cover an aggregated route; "*" does',
    config: { TermdbTest: { termdb: { '*': forbidden() }, '*': { '*': jwt() } } },
    route: BARCHART,
    expected: `needs-token ${D}.TermdbTest.*.*`,
  },
  {
    rule: '"termdb" alone leaves aggregated routes open',
    config: { TermdbTest: { termdb: { '*': jwt() } } },
    route: TERMS,
    expected: 'open -',
  },
  {
    rule: 'an exact route key covers an aggregated route too',
    config: { TermdbTest: { 'termdb/barchart': { '*': jwt() } } },
    route: BARCHART,
    expected: `needs-token ${D}.TermdbTest.termdb/barchart.*`,
  },
  {
    rule: 'an exact route key covers only its route',
    config: { TermdbTest: { 'termdb/barchart': { '*': jwt() } } },
    route: TERMS,
    expected: 'open -',
  },
  {
    rule: '"*" covers every route',
    config: { TermdbTest: { '*': { '*': jwt() } } },
    route: CONFIG,
    expected: `needs-token ${D}.TermdbTest.*.*`,
  },
  {
    rule: 'a route named "termdb" is not an exact key: the "termdb" key is a class of routes',
    config: { TermdbTest: { termdb: { '*': jwt() } } },
    route: { name: 'termdb', class: 'aggregated' },
    expected: 'open -',
  },
  {
    rule: 'the exact route block decides; "termdb" and "*" are not consulted when its embedder does not match',
    config: { TermdbTest: { 'termdb/samples': { 'other.example.org': jwt() }, '*': { '*': open() } } },
    route: SAMPLES,
    expected: `forbidden embedder_not_allowed ${D}.TermdbTest.termdb/samples`,
  },
  // embedder level
  {
    rule: 'an exact embedder comes before "*"',
    config: { TermdbTest: { '*': { 'portal.example.org': jwt(), '*': forbidden() } } },
    route: SAMPLES,
    expected: `needs-token ${D}.TermdbTest.*.portal.example.org`,
  },
  {
    rule: '"*" serves an embedder without a key of its own',
    config: { TermdbTest: { '*': { 'other.example.org': open(), '*': jwt() } } },
    route: SAMPLES,
    expected: `needs-token ${D}.TermdbTest.*.*`,
  },
  {
    rule: 'the origin host compares case-insensitively, without scheme or default port',
    config: { TermdbTest: { '*': { 'portal.example.org': jwt() } } },
    route: SAMPLES,
    origin: 'HTTP://Portal.Example.ORG:80',
    expected: `needs-token ${D}.TermdbTest.*.portal.example.org`,
  },
  {
    rule: 'a non-default port is part of the embedder when the key names a port',
    config: { TermdbTest: { '*': { 'portal.example.org:9443': jwt() } } },
    route: SAMPLES,
    origin: 'https://portal.example.org:8443',
    expected: `forbidden embedder_not_allowed ${D}.TermdbTest.*`,
  },
  {
    rule: 'an embedder with a port matches only that port',
    config: { TermdbTest: { '*': { 'localhost:5173': open() } } },
    route: SAMPLES,
    origin: 'http://localhost:5173',
    expected: `open ${D}.TermdbTest.*.localhost:5173`,
  },
];

const failClosed: Row[] = [
  {
    rule: 'a covered route with no entry for the embedder is refused (ProteinPaint would answer open)',
    config: { TermdbTest: { termdb: { 'portal.example.org': jwt() } } },
    route: SAMPLES,
    origin: 'https://evil.example.net',
    expected: `forbidden embedder_not_allowed ${D}.TermdbTest.termdb`,
  },
  ...[
    'https://portal.example.org.evil.net',
    'https://evilportal.example.org',
    'https://portal.example.org@evil.net',
    'https://evil.net/portal.example.org',
    'https://evil.net?portal.example.org',
    'https://evil.net#portal.example.org',
    'portal.example.org',
    'https://portal.example.org/',
  ].map((origin): Row => ({
    rule: `the host is never a substring match: ${origin}`,
    config: { TermdbTest: { '*': { 'portal.example.org': open() } } },
    route: SAMPLES,
    origin,
    expected: `forbidden embedder_not_allowed ${D}.TermdbTest.*`,
  })),
  ...['null', 'not an origin', 'chrome-extension://portal.example.org'].map((origin): Row => ({
    rule: `${JSON.stringify(origin)} as Origin matches no host key`,
    config: { TermdbTest: { '*': { 'portal.example.org': open() } } },
    route: SAMPLES,
    origin,
    expected: `forbidden embedder_not_allowed ${D}.TermdbTest.*`,
  })),
  ...[undefined, null, ''].map((origin): Row => ({
    rule: `${JSON.stringify(origin)} as Origin is a script, refused where no entry accepts scripts`,
    config: { TermdbTest: { '*': { 'portal.example.org': open() } } },
    route: SAMPLES,
    origin,
    expected: `forbidden scripts_not_allowed ${D}.TermdbTest.*`,
  })),
  {
    rule: 'a script is refused where the "*" embedder needs a token but does not accept scripts',
    config: { TermdbTest: { '*': { 'portal.example.org': open(), '*': jwt() } } },
    route: SAMPLES,
    origin: undefined,
    expected: `forbidden scripts_not_allowed ${D}.TermdbTest.*`,
  },
  {
    rule: 'a script is decided by the entry that accepts scripts, whatever its embedder key',
    config: { TermdbTest: { '*': { 'portal.example.org': jwt({ scripts: true }), '*': forbidden() } } },
    route: SAMPLES,
    origin: undefined,
    expected: `needs-token ${D}.TermdbTest.*.portal.example.org`,
  },
  {
    rule: 'a "*" entry that accepts scripts takes them too',
    config: { TermdbTest: { termdb: { '*': jwt({ scripts: 'pinned' }) } } },
    route: SAMPLES,
    origin: undefined,
    expected: `needs-token ${D}.TermdbTest.termdb.*`,
  },
  {
    rule: 'an "open" "*" entry is open to scripts as to everyone',
    config: { TermdbTest: { '*': { 'portal.example.org': jwt(), '*': open() } } },
    route: SAMPLES,
    origin: undefined,
    expected: `open ${D}.TermdbTest.*.*`,
  },
  {
    rule: 'a "forbidden" "*" entry refuses scripts with route_forbidden',
    config: { TermdbTest: { '*': { 'portal.example.org': jwt(), '*': forbidden() } } },
    route: SAMPLES,
    origin: undefined,
    expected: `forbidden route_forbidden ${D}.TermdbTest.*.*`,
  },
  {
    rule: 'an entry that accepts scripts is still the entry of its own embedder',
    config: { TermdbTest: { '*': { 'portal.example.org': jwt({ scripts: true }) } } },
    route: SAMPLES,
    origin: 'https://lab.example.org',
    expected: `forbidden embedder_not_allowed ${D}.TermdbTest.*`,
  },
  {
    rule: 'a key without a port matches its host on any port (ProteinPaint keys embedders by hostname)',
    config: { TermdbTest: { termdb: { localhost: jwt() } } },
    route: SAMPLES,
    origin: 'http://localhost:8080',
    expected: `needs-token ${D}.TermdbTest.termdb.localhost`,
  },
  {
    rule: 'a key with a port matches that port only',
    config: { TermdbTest: { termdb: { 'localhost:5173': jwt() } } },
    route: SAMPLES,
    origin: 'http://localhost:8080',
    expected: `forbidden embedder_not_allowed ${D}.TermdbTest.termdb`,
  },
  {
    rule: 'a key with a port comes before the same host without one',
    config: { TermdbTest: { termdb: { localhost: open(), 'localhost:5173': jwt() } } },
    route: SAMPLES,
    origin: 'http://localhost:5173',
    expected: `needs-token ${D}.TermdbTest.termdb.localhost:5173`,
  },
  {
    rule: 'a key without a port comes before "*"',
    config: { TermdbTest: { termdb: { '*': forbidden(), 'portal.example.org': jwt() } } },
    route: SAMPLES,
    origin: 'https://portal.example.org:8443',
    expected: `needs-token ${D}.TermdbTest.termdb.portal.example.org`,
  },
  {
    rule: 'a key without a port does not match another host that shares its prefix',
    config: { TermdbTest: { termdb: { localhost: jwt() } } },
    route: SAMPLES,
    origin: 'http://localhost.evil.net:8080',
    expected: `forbidden embedder_not_allowed ${D}.TermdbTest.termdb`,
  },
  ...['null', 'not an origin'].map((origin): Row => ({
    rule: `${JSON.stringify(origin)} as Origin matches a "*" embedder`,
    config: { TermdbTest: { '*': { 'portal.example.org': open(), '*': jwt() } } },
    route: SAMPLES,
    origin,
    expected: `needs-token ${D}.TermdbTest.*.*`,
  })),
  {
    rule: 'a "forbidden" entry refuses with route_forbidden',
    config: { TermdbTest: { 'termdb/samples': { '*': forbidden() } } },
    route: SAMPLES,
    expected: `forbidden route_forbidden ${D}.TermdbTest.termdb/samples.*`,
  },
  {
    rule: 'an "open" entry opens the route for its embedder only',
    config: { TermdbTest: { '*': { 'portal.example.org': open() } } },
    route: SAMPLES,
    origin: 'https://other.example.org',
    expected: `forbidden embedder_not_allowed ${D}.TermdbTest.*`,
  },
  {
    rule: 'a dataset without any credential is open',
    config: { Other: { '*': { '*': jwt() } } },
    route: SAMPLES,
    expected: 'open -',
  },
];

const prototypeNames: Row[] = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
].flatMap((name): Row[] => [
  {
    rule: `dataset ${name} does not reach Object.prototype`,
    config: { TermdbTest: { '*': { '*': jwt() } } },
    dataset: name,
    route: SAMPLES,
    expected: 'open -',
  },
  {
    rule: `dataset ${name} falls to the "*" dataset`,
    config: { '*': { '*': { '*': jwt() } } },
    dataset: name,
    route: SAMPLES,
    expected: `needs-token ${D}.*.*.*`,
  },
  {
    rule: `route ${name} falls to "*"`,
    config: { TermdbTest: { '*': { '*': jwt() } } },
    route: { name, class: 'aggregated' },
    expected: `needs-token ${D}.TermdbTest.*.*`,
  },
  {
    rule: `origin host ${name.toLowerCase()} is not an embedder key`,
    config: { TermdbTest: { '*': { 'portal.example.org': open() } } },
    route: SAMPLES,
    origin: `https://${name.toLowerCase()}`,
    expected: `forbidden embedder_not_allowed ${D}.TermdbTest.*`,
  },
]);

describe('resolve', () => {
  describe.each([
    ['precedence', precedence],
    ['fail closed', failClosed],
    ['Object.prototype names', prototypeNames],
  ])('%s', (_group, rows) => {
    it.each(rows)('$rule', (row) => {
      // A row without an origin comes from the portal; one with `origin: undefined` has no Origin header.
      const origin = 'origin' in row ? row.origin : PORTAL;
      expect(summary(load(row.config).resolve(row.dataset ?? 'TermdbTest', row.route, origin))).toBe(
        row.expected,
      );
    });
  });

  it('gives the matching entry with everything the server needs', () => {
    const policy = load({
      TermdbTest: {
        termdb: {
          'portal.example.org': jwt({
            headerKey: 'X-Portal-Token',
            dsnames: [{ id: 'TermdbTest', label: 'Test' }],
            looseIpCheck: true,
          }),
        },
      },
    });
    const r = policy.resolve('TermdbTest', SAMPLES, PORTAL);
    expect(r.kind).toBe('needs-token');
    if (r.kind !== 'needs-token') return;
    expect(r.entry).toMatchObject({
      type: 'jwt',
      path: 'dsCredentials.TermdbTest.termdb.portal.example.org',
      dataset: 'TermdbTest',
      route: 'termdb',
      embedder: 'portal.example.org',
      headerKey: 'x-portal-token',
      dsnames: [{ id: 'TermdbTest', label: 'Test' }],
      ipCheck: 'loose',
    });
    expect(typeof r.entry.verifier?.verify).toBe('function');
  });

  it('never throws on malformed input from JavaScript callers', () => {
    const policy = load({ '*': { termdb: { '*': jwt() } } });
    const bad = [undefined, null, 42, {}, { name: 7 }] as unknown as RouteRef[];
    for (const route of bad) {
      expect(policy.resolve(undefined as unknown as string, route, 42 as unknown as string).kind).toBe(
        'needs-token',
      );
    }
  });
});

describe('allowsOrigin', () => {
  const policy = load({
    A: { '*': { 'portal.example.org': jwt() } },
    B: { termdb: { 'localhost:5173': open(), 'lab.example.edu': forbidden() } },
  });

  it.each([
    ['https://portal.example.org', true],
    ['http://portal.example.org', true],
    ['https://PORTAL.example.org:443', true],
    ['http://localhost:5173', true],
    ['https://lab.example.edu', true],
    ['http://localhost:5174', false],
    ['https://portal.example.org:8443', true],
    ['https://lab.example.edu:8080', true],
    ['https://portal.example.org.evil.net', false],
    ['null', false],
    [undefined, false],
    ['garbage', false],
  ])('%s: %s (an embedder key anywhere; a key without a port covers every port)', (origin, allowed) => {
    expect(policy.allowsOrigin(origin)).toBe(allowed);
  });

  it('allows every origin once any route has a "*" embedder', () => {
    const wide = load({ A: { '*': { 'portal.example.org': jwt() } }, B: { termdb: { '*': jwt() } } });
    for (const origin of ['https://anything.example', 'null', undefined])
      expect(wide.allowsOrigin(origin)).toBe(true);
  });

  it('allows no origin when there are no credentials', () => {
    expect(load({}).allowsOrigin('https://portal.example.org')).toBe(false);
  });
});

describe('headerKeys', () => {
  it('lists every token header once, lowercase and sorted', () => {
    const policy = load({
      A: { '*': { '*': jwt(), 'x.org': jwt({ headerKey: 'X-DS-Access-Token' }) } },
      B: { termdb: { '*': jwt({ headerKey: 'X-Portal-Token' }), 'y.org': open() } },
    });
    expect(policy.headerKeys()).toEqual(['x-ds-access-token', 'x-portal-token']);
  });
});

describe('tokenRequirements', () => {
  it('tells an origin which routes need a token and in which header', () => {
    const policy = load({
      TermdbTest: {
        termdb: { 'portal.example.org': jwt({ headerKey: 'X-Portal-Token' }) },
        'termdb/config': { '*': open() },
        'termdb/terms': { 'other.example.org': jwt() },
      },
    });
    const answer = policy.tokenRequirements('TermdbTest', CATALOG, PORTAL);
    expect(answer.headerKey).toBe('x-portal-token');
    expect({ ...answer.tokenRequired }).toEqual({
      'termdb/config': false,
      'termdb/terms': false,
      'termdb/barchart': false,
      'termdb/samples': true,
    });
    expect(answer.routes).toEqual([
      { route: 'termdb/config', kind: 'open' },
      { route: 'termdb/terms', kind: 'forbidden', code: 'embedder_not_allowed' },
      { route: 'termdb/barchart', kind: 'open' },
      { route: 'termdb/samples', kind: 'needs-token', headerKey: 'x-portal-token', credential: 'jwt' },
    ]);
    expect({ ...answer.passwordRequired }).toEqual({
      'termdb/config': false,
      'termdb/terms': false,
      'termdb/barchart': false,
      'termdb/samples': false,
    });
    expect(JSON.parse(JSON.stringify(answer.tokenRequired))).toEqual({ ...answer.tokenRequired });
  });

  it('has no header when no route needs a token', () => {
    expect(load({}).tokenRequirements('TermdbTest', CATALOG, PORTAL).headerKey).toBeUndefined();
  });

  it('keeps route names that are Object.prototype names as plain keys', () => {
    const answer = load({ A: { '*': { '*': jwt() } } }).tokenRequirements(
      'A',
      [{ name: '__proto__', class: 'sample-level' }],
      undefined,
    );
    expect(Object.keys(answer.tokenRequired)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(answer.tokenRequired)).toBeNull();
  });
});
