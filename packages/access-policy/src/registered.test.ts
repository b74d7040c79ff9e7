import { createSigner } from '@pp-embed/dataset-token';
import { ConfigError } from '@pp-embed/server-runtime';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BARCHART,
  CATALOG,
  clock,
  CONFIG,
  forbidden,
  jwt,
  load,
  newSecret,
  SAMPLES,
} from '../test/helpers.js';
import { decide } from './decide.js';
import type { RouteRef } from './entries.js';
import { explain } from './explain.js';
import type { RegisteredCredential } from './load.js';
import type { Resolution } from './policy.js';

const LABEL = 'embedderRegistry(embedders.json)';
const SECRET = newSecret();
const OLD_SECRET = newSecret();

function credential(overrides: Partial<RegisteredCredential> = {}): RegisteredCredential {
  return {
    path: `${LABEL}.embedders.new.test`,
    embedder: 'new.test',
    datasets: ['TermdbTest'],
    routes: ['termdb'],
    key: { keys: [{ kid: 'k2', secret: SECRET }] },
    keySource: 'secret',
    algorithms: ['HS256'],
    rules: {},
    retired: false,
    ...overrides,
  };
}

const registered = (...credentials: RegisteredCredential[]) => ({
  registered: { label: LABEL, credentials },
});

function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

const token = (secret: string, kid: string, extra: Record<string, unknown> = {}) =>
  createSigner({ algorithm: 'HS256', key: { secret }, kid, now: clock }).sign({
    datasets: ['TermdbTest'],
    email: 'ana@example.org',
    ip: '203.0.113.7',
    ...extra,
  });

const facts = (route: RouteRef, origin: string | undefined, sent?: string) => ({
  dataset: 'TermdbTest',
  route,
  origin,
  clientIp: '203.0.113.7',
  header: (name: string) => (name === 'x-ds-access-token' ? sent : undefined),
});

describe('a registered credential', () => {
  it('decides like a jwt entry of dsCredentials, and says which key checked the token', async () => {
    const policy = load(undefined, registered(credential()));
    const allowed = await decide(policy, facts(SAMPLES, 'http://new.test', token(SECRET, 'k2')));
    expect(allowed).toMatchObject({
      allowed: true,
      kid: 'k2',
      entry: { path: `${LABEL}.embedders.new.test` },
    });
    const missing = await decide(policy, facts(SAMPLES, 'http://new.test'));
    expect(missing).toMatchObject({ allowed: false, code: 'token_missing' });
    // Another site: the dataset is protected now, and it has no credential.
    const other = await decide(policy, facts(SAMPLES, 'https://other.test', token(SECRET, 'k2')));
    expect(other).toMatchObject({ allowed: false, code: 'embedder_not_allowed' });
    expect(policy.allowsOrigin('http://new.test')).toBe(true);
  });

  it('names its registry entry in explain, and the key during a rotation', async () => {
    const policy = load(
      undefined,
      registered(
        credential({
          key: {
            keys: [
              { kid: 'k1', secret: OLD_SECRET, notAfter: clock() + 60_000 },
              { kid: 'k2', secret: SECRET },
            ],
          },
        }),
      ),
    );
    const { steps } = await explain(
      policy,
      { dataset: 'TermdbTest', route: 'termdb/samples', origin: 'http://new.test', clientIp: '203.0.113.7' },
      token(OLD_SECRET, 'k1'),
    );
    expect(steps).toContain(`Embedder key "new.test" matched (${LABEL}.embedders.new.test).`);
    expect(steps.join('\n')).toContain('The token verified with key "k1"');
  });

  it('applies its rules (a header of its own, a loose address check) with the checks of the block', async () => {
    const policy = load(
      undefined,
      registered(credential({ rules: { headerKey: 'X-Portal', ipCheck: 'loose' } })),
    );
    const result = policy.resolve('TermdbTest', SAMPLES, 'http://new.test');
    expect(result).toMatchObject({ kind: 'needs-token', entry: { headerKey: 'x-portal', ipCheck: 'loose' } });
    expect(
      problems(() =>
        load(undefined, registered(credential({ rules: { headerKey: 'cookie', secret: 'x' } }))),
      ),
    ).toEqual([
      `${LABEL}.embedders.new.test.rules.secret: is not a rule of a registered embedder (it takes "headerKey", "ipCheck", "looseIpCheck", "maxTokenAge", "dsnames", "issuer", "audience")`,
    ]);
    expect(
      problems(() => load(undefined, registered(credential({ rules: { headerKey: 'cookie' } })))),
    ).toEqual([
      `${LABEL}.embedders.new.test.rules.headerKey: a header that browsers do not let a page set; use a custom name such as x-ds-access-token`,
    ]);
  });

  it('is checked like a block: its host, dataset labels and route keys, and a weak key', () => {
    expect(
      problems(() =>
        load(undefined, {
          datasets: ['TermdbTest'],
          ...registered(
            credential({
              embedder: 'https://new.test',
              datasets: ['TermdbTst'],
              routes: ['termdb/sample'],
              key: { keys: [{ kid: 'k', secret: 'short' }] },
            }),
          ),
        }),
      ),
    ).toEqual([
      `${LABEL}.embedders.new.test.embedder: a host such as portal.example.org, not a URL: write "new.test"`,
      `${LABEL}.embedders.new.test.datasets[0]: names no dataset this server serves; did you mean "TermdbTest"? (labels are compared exactly)`,
      `${LABEL}.embedders.new.test.routes[0]: not a route of this server; did you mean "termdb/samples"?`,
    ]);
    expect(
      problems(() =>
        load(undefined, registered(credential({ key: { keys: [{ kid: 'k', secret: 'short' }] } }))),
      ),
    ).toEqual([`${LABEL}.embedders.new.test.keys: 5 bytes, HS256 needs at least 32`]);
  });

  it('is a start-up error where dsCredentials names the same dataset, route and host, named at both', () => {
    const block = { TermdbTest: { termdb: { 'new.test': jwt() } } };
    expect(problems(() => load(block, registered(credential())))).toEqual([
      `${LABEL}.embedders.new.test: conflicts with dsCredentials.TermdbTest.termdb.new.test: both name TermdbTest.termdb.new.test; keep one of them`,
      `dsCredentials.TermdbTest.termdb.new.test: conflicts with ${LABEL}.embedders.new.test: both name TermdbTest.termdb.new.test; keep one of them`,
    ]);
  });

  it('gives way, retired, to a live entry in the same place; a retired one alone still holds its place', async () => {
    const old = credential({
      path: `${LABEL}.embedders.old`,
      retired: true,
      key: { keys: [{ kid: 'k1', secret: OLD_SECRET }] },
    });
    const replaced = load(undefined, registered(old, credential()));
    expect(replaced.resolve('TermdbTest', SAMPLES, 'http://new.test')).toMatchObject({
      entry: { path: `${LABEL}.embedders.new.test` },
    });
    const alone = load(undefined, registered(old));
    expect(alone.resolve('TermdbTest', SAMPLES, 'http://new.test')).toMatchObject({
      kind: 'needs-token',
      entry: { path: `${LABEL}.embedders.old` },
    });
    expect(alone.resolve('TermdbTest', SAMPLES, 'https://other.test')).toMatchObject({
      code: 'embedder_not_allowed',
    });
  });

  it('keeps a default-closed server closed: only its portal gains, and only its routes', () => {
    const block = { '*': { '*': { '*': forbidden() } } };
    const policy = load(block, registered(credential()));
    expect(policy.resolve('TermdbTest', SAMPLES, 'http://new.test').kind).toBe('needs-token');
    expect(policy.resolve('TermdbTest', SAMPLES, 'https://other.test')).toMatchObject({
      code: 'route_forbidden',
    });
    expect(policy.resolve('TermdbTest', BARCHART, 'http://new.test')).toMatchObject({
      code: 'route_forbidden',
    });
    expect(policy.warnings).toEqual([]);
  });

  it('reaches the narrower blocks that would hide it: its "*" route covers a termdb block of dsCredentials', () => {
    const block = { TermdbTest: { termdb: { 'lab.test': jwt() }, '*': { 'lab.test': jwt() } } };
    const policy = load(block, registered(credential({ routes: ['*'] })));
    expect(policy.resolve('TermdbTest', SAMPLES, 'http://new.test').kind).toBe('needs-token');
    expect(policy.resolve('TermdbTest', BARCHART, 'http://new.test').kind).toBe('needs-token');
    expect(policy.resolve('TermdbTest', SAMPLES, 'http://lab.test')).toMatchObject({
      entry: { path: 'dsCredentials.TermdbTest.termdb.lab.test' },
    });
  });
});

// ---- the rule, for random blocks: a registered credential changes the decision for no other request, except
// that a route no credential covered (open to all) may close to every other portal, as a dsCredentials entry
// written there would.

const HOST = 'new.test';
const EMBEDDERS = ['*', 'portal.test:8080', 'lab.test'];
const ORIGINS = [
  'http://new.test',
  'http://portal.test:8080',
  'http://lab.test',
  'https://evil.test',
  'null',
  undefined,
];
const DATASET_KEYS = ['TermdbTest', 'Other', '*'];
const ROUTE_KEYS = ['*', 'termdb', 'termdb/samples', 'termdb/barchart', 'termdb/config'];

const blockEntry = fc.constantFrom<Record<string, unknown>>(
  { type: 'jwt', secret: SECRET },
  { type: 'open' },
  { type: 'forbidden' },
);
const level = <T>(keys: readonly string[], value: fc.Arbitrary<T>) =>
  fc
    .uniqueArray(fc.constantFrom(...keys), { minLength: 1, maxLength: 3 })
    .chain((chosen) =>
      fc.tuple(...chosen.map(() => value)).map((vs) => Object.fromEntries(chosen.map((k, i) => [k, vs[i]]))),
    );
const block = fc.option(level(DATASET_KEYS, level(ROUTE_KEYS, level(EMBEDDERS, blockEntry))), {
  nil: undefined,
});
const registeredCredential = fc.record({
  datasets: fc.uniqueArray(fc.constantFrom(...DATASET_KEYS), { minLength: 1, maxLength: 2 }),
  routes: fc.uniqueArray(fc.constantFrom(...ROUTE_KEYS), { minLength: 1, maxLength: 2 }),
});

const covers = (routeKey: string, route: RouteRef): boolean =>
  routeKey === '*' || routeKey === route.name || (routeKey === 'termdb' && route.class === 'sample-level');

const summary = (r: Resolution): string =>
  r.kind === 'forbidden'
    ? `forbidden ${r.code} ${r.entry?.path ?? ''}`
    : `${r.kind} ${r.entry?.path ?? '(uncovered)'}`;

describe('a registered credential, for random dsCredentials blocks', () => {
  it('changes nothing for other requests, but may close to others a route that no credential covered', () => {
    fc.assert(
      fc.property(block, registeredCredential, (raw, reg) => {
        const before = load(raw);
        const after = load(raw, registered(credential({ datasets: reg.datasets, routes: reg.routes })));
        for (const dataset of ['TermdbTest', 'Other']) {
          for (const route of CATALOG) {
            const mine =
              reg.datasets.some((d) => d === '*' || d === dataset) &&
              reg.routes.some((k) => covers(k, route));
            for (const origin of ORIGINS) {
              const was = before.resolve(dataset, route, origin);
              const now = after.resolve(dataset, route, origin);
              if (origin === `http://${HOST}` && mine) {
                expect(now).toMatchObject({ kind: 'needs-token', entry: { embedder: HOST } });
              } else if (summary(now) !== summary(was)) {
                // A request without an Origin is a script's, which no registered portal's entry takes.
                const code = origin === undefined ? 'scripts_not_allowed' : 'embedder_not_allowed';
                expect([summary(was), summary(now)]).toEqual([
                  'open (uncovered)',
                  expect.stringMatching(new RegExp(`^forbidden ${code} `)),
                ]);
              }
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

// The discovery route keeps its exception for a registered credential, as for any jwt entry.
it('answers the discovery route without a token from its portal', async () => {
  const policy = load(undefined, registered(credential({ routes: ['*'] })));
  expect(await decide(policy, facts(CONFIG, 'http://new.test'))).toMatchObject({
    allowed: true,
    granted: false,
  });
});

it('refuses every token of a retired entry with embedder_retired, and explain says who retired it', async () => {
  const policy = load(undefined, registered(credential({ retired: true })));
  const retired = {
    check: ({ entry }: { entry: string }) =>
      entry === `${LABEL}.embedders.new.test`
        ? { state: 'retired' as const, entry: 'new.test', at: '2026-11-23T11:00:00.000Z', by: 'ops@viz-1' }
        : undefined,
  };
  const sent = token(SECRET, 'k2');
  expect(
    await decide(policy, { ...facts(SAMPLES, 'http://new.test', sent), revocations: retired }),
  ).toMatchObject({
    allowed: false,
    status: 403,
    code: 'embedder_retired',
  });
  const { steps } = await explain(
    policy,
    {
      dataset: 'TermdbTest',
      route: 'termdb/samples',
      origin: 'http://new.test',
      clientIp: '203.0.113.7',
      revocations: retired,
    },
    sent,
  );
  expect(steps).toContain(
    'The registry entry "new.test" that checked the token was retired at 2026-11-23T11:00:00.000Z by ops@viz-1 (`pp-token embedder retire`): every token of its keys is refused, whenever it was signed.',
  );
  expect(steps.at(-1)).toBe('Decision: refused with embedder_retired (403).');
});

describe('a policy that replaces another (the registry changed)', () => {
  it('takes over the verifiers of unchanged entries, makes new ones for changed keys, and resolves afresh', () => {
    const block = { TermdbTest: { '*': { 'lab.test': { type: 'jwt', secret: SECRET } } } };
    const first = load(block, registered(credential()));
    const entryAt = (policy: ReturnType<typeof load>, origin: string) => {
      const r = policy.resolve('TermdbTest', SAMPLES, origin);
      if (r.kind !== 'needs-token') throw new Error(`expected a token entry for ${origin}`);
      return r.entry;
    };
    const same = load(block, { ...registered(credential()), reuse: first });
    expect(entryAt(same, 'http://lab.test').verifier).toBe(entryAt(first, 'http://lab.test').verifier);
    expect(entryAt(same, 'http://new.test').verifier).toBe(entryAt(first, 'http://new.test').verifier);

    const rotated = load(block, {
      ...registered(credential({ key: { keys: [{ kid: 'k3', secret: newSecret() }] } })),
      reuse: same,
    });
    expect(entryAt(rotated, 'http://lab.test').verifier).toBe(entryAt(first, 'http://lab.test').verifier);
    expect(entryAt(rotated, 'http://new.test').verifier).not.toBe(entryAt(first, 'http://new.test').verifier);

    const without = load(block, { ...registered(), reuse: rotated });
    expect(without.resolve('TermdbTest', SAMPLES, 'http://new.test')).toMatchObject({
      kind: 'forbidden',
      code: 'embedder_not_allowed',
    });
  });
});
