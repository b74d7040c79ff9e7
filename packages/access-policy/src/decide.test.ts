import { describe, expect, it } from 'vitest';
import { subjectHash } from '@pp-embed/revocation';
import {
  BARCHART,
  CONFIG,
  clock,
  load,
  MIN5,
  newSecret,
  revocationsOf,
  SAMPLES,
  signerFor,
  TERMS,
  thresholdRule,
} from '../test/helpers.js';
import { cohortsOf, decide, type DecisionStep, type RequestFacts } from './decide.js';
import { datasetDisclosure } from './disclosure.js';

const secret = newSecret();
const sign = signerFor(secret);
const PORTAL = 'https://portal.example.org';
const IP = '203.0.113.7';

const termdb = load({
  TermdbTest: { termdb: { 'portal.example.org': { type: 'jwt', secret } } },
});
const star = load({
  TermdbTest: { '*': { 'portal.example.org': { type: 'jwt', secret, headerKey: 'X-Portal-Token' } } },
});

/** Facts with the token (if any) in the headers given, and the rest defaulted. */
function facts(overrides: Partial<RequestFacts> & { headers?: Record<string, string> } = {}): RequestFacts {
  const headers = overrides.headers ?? {};
  return {
    dataset: 'TermdbTest',
    route: SAMPLES,
    origin: PORTAL,
    clientIp: IP,
    disclosure: MIN5,
    header: (name) => headers[name],
    ...overrides,
  };
}

const good = (extra: Record<string, unknown> = {}) =>
  sign({ datasets: ['TermdbTest'], email: 'ana@example.org', ip: IP, ...extra });

describe('decide', () => {
  it('allows a granted token and gives its claims and exact counts', async () => {
    const d = await decide(termdb, facts({ headers: { 'x-ds-access-token': good() } }));
    expect(d).toMatchObject({
      allowed: true,
      granted: true,
      scope: { cohorts: null, tier: 'granted', rule: null },
    });
    expect(d.allowed && d.claims?.email).toBe('ana@example.org');
  });

  it.each<[string, Partial<RequestFacts> & { headers?: Record<string, string> }, number, string]>([
    ['no token', {}, 401, 'token_missing'],
    [
      'a token signed with another secret',
      {
        headers: {
          'x-ds-access-token': signerFor(newSecret())({ datasets: ['TermdbTest'], email: 'a', ip: IP }),
        },
      },
      401,
      'token_invalid',
    ],
    [
      'a token for another dataset',
      { headers: { 'x-ds-access-token': sign({ datasets: ['Other'], email: 'a', ip: IP }) } },
      403,
      'dataset_not_granted',
    ],
    [
      'a token from another address',
      { clientIp: '198.51.100.1', headers: { 'x-ds-access-token': good() } },
      403,
      'ip_mismatch',
    ],
    ['an origin without a credential', { origin: 'https://evil.example' }, 403, 'embedder_not_allowed'],
    [
      'two token headers joined by the HTTP layer',
      { headers: { 'x-ds-access-token': `${good()}, ${good()}` } },
      400,
      'bad_request',
    ],
  ])('refuses %s', async (_name, overrides, status, code) => {
    const d = await decide(termdb, facts(overrides));
    expect(d).toMatchObject({ allowed: false, status, code });
    // What failed and where is for logs; it never carries the token.
    expect(d.allowed || d.detail.includes('eyJ')).toBe(false);
  });

  it('names the config entry that decided, for logs', async () => {
    const d = await decide(termdb, facts());
    expect(d.allowed || d.path).toBe('dsCredentials.TermdbTest.termdb.portal.example.org');
  });

  it("reads the token from the deciding entry's header only", async () => {
    const token = sign({ datasets: ['TermdbTest'], email: 'a', ip: IP });
    const wrongHeader = await decide(
      star,
      facts({ route: BARCHART, headers: { 'x-ds-access-token': token } }),
    );
    expect(wrongHeader).toMatchObject({ allowed: false, code: 'token_missing' });
    const right = await decide(star, facts({ route: BARCHART, headers: { 'x-portal-token': token } }));
    expect(right.allowed).toBe(true);
  });

  describe('the discovery route', () => {
    it('answers without a token under a "*" credential, leaving the guarded parts out', async () => {
      const d = await decide(star, facts({ route: CONFIG }));
      expect(d).toMatchObject({ allowed: true, granted: false, claims: undefined });
      expect(d.allowed && d.scope).toEqual({
        cohorts: null,
        tier: 'anonymous',
        rule: thresholdRule(5),
        beneath: [],
      });
    });

    it('answers with a refused token the same way, and with a good one in full', async () => {
      const refused = await decide(
        star,
        facts({ route: CONFIG, headers: { 'x-portal-token': 'not.a.token' } }),
      );
      expect(refused).toMatchObject({ allowed: true, granted: false });
      const full = await decide(star, facts({ route: CONFIG, headers: { 'x-portal-token': good() } }));
      expect(full).toMatchObject({ allowed: true, granted: true });
    });

    it('still refuses an embedder without a credential', async () => {
      expect(await decide(star, facts({ route: CONFIG, origin: 'https://evil.example' }))).toMatchObject({
        allowed: false,
        code: 'embedder_not_allowed',
      });
    });

    it('an aggregated route under "*" is not discovery: it needs the token', async () => {
      expect(await decide(star, facts({ route: TERMS }))).toMatchObject({
        allowed: false,
        code: 'token_missing',
      });
    });
  });

  describe('an open route', () => {
    it('applies the anonymous rule for a caller without a token', async () => {
      const d = await decide(termdb, facts({ route: BARCHART }));
      expect(d).toMatchObject({
        allowed: true,
        claims: undefined,
        scope: { cohorts: null, tier: 'anonymous', rule: thresholdRule(5) },
      });
    });

    it('honours a token offered in the header of the entry that guards sample-level data, with its cohorts', async () => {
      const token = good({ clientAuthResult: { cohorts: ['ABC'] } });
      const d = await decide(termdb, facts({ route: BARCHART, headers: { 'x-ds-access-token': token } }));
      expect(d).toMatchObject({ allowed: true, scope: { cohorts: ['ABC'], tier: 'granted', rule: null } });
    });

    it('answers as without a token when the offered one is refused: never a refusal, never wider', async () => {
      const other = sign({ datasets: ['Other'], email: 'a', ip: IP });
      const d = await decide(termdb, facts({ route: BARCHART, headers: { 'x-ds-access-token': other } }));
      expect(d).toMatchObject({
        allowed: true,
        claims: undefined,
        scope: { cohorts: null, tier: 'anonymous', rule: thresholdRule(5) },
      });
    });
  });

  describe('tiers and their disclosure rules', () => {
    const rules = datasetDisclosure(
      {
        anonymous: { rule: thresholdRule(10), path: 'datasets[0].disclosure.anonymous' },
        signedIn: { rule: thresholdRule(5), path: 'datasets[0].disclosure.signedIn' },
        granted: { rule: thresholdRule(3), path: 'datasets[0].disclosure.granted' },
      },
      'datasets[0].disclosure',
    );
    const signedIn = () => good({ access: 'signedIn' });
    // Every route needs the token, and rows are closed to this embedder.
    const noRows = load({
      TermdbTest: {
        '*': { 'portal.example.org': { type: 'jwt', secret } },
        'termdb/samples': { 'portal.example.org': { type: 'forbidden' } },
      },
    });

    it('gives a signed-in user without a grant the signed-in rule, above the anonymous one it can also see', async () => {
      const d = await decide(
        termdb,
        facts({ route: BARCHART, disclosure: rules, headers: { 'x-ds-access-token': signedIn() } }),
      );
      expect(d.allowed && d.scope).toEqual({
        cohorts: null,
        tier: 'signedIn',
        rule: thresholdRule(5),
        beneath: [thresholdRule(10)],
      });
    });

    it('refuses sample-level rows to a signed-in user without a grant (grant_required)', async () => {
      const d = await decide(
        termdb,
        facts({ disclosure: rules, headers: { 'x-ds-access-token': signedIn() } }),
      );
      expect(d).toMatchObject({ allowed: false, status: 403, code: 'grant_required' });
    });

    it('gives exact counts to a granted caller who may read the rows, whatever the granted rule', async () => {
      const d = await decide(
        termdb,
        facts({
          route: BARCHART,
          disclosure: rules,
          headers: { 'x-ds-access-token': good({ access: 'granted' }) },
        }),
      );
      expect(d.allowed && d.scope).toMatchObject({ tier: 'granted', rule: null, beneath: [] });
    });

    it('gives the granted rule to a granted caller who may not read the rows', async () => {
      const d = await decide(
        noRows,
        facts({ route: BARCHART, disclosure: rules, headers: { 'x-ds-access-token': good() } }),
      );
      expect(d.allowed && d.scope).toEqual({
        cohorts: null,
        tier: 'granted',
        rule: thresholdRule(3),
        beneath: [thresholdRule(10), thresholdRule(5)],
      });
    });

    it('asks the entry that guards the rows about the token when another entry decided the route', async () => {
      const otherSecret = newSecret();
      const split = load({
        TermdbTest: {
          'termdb/barchart': { 'portal.example.org': { type: 'jwt', secret } },
          'termdb/samples': { 'portal.example.org': { type: 'jwt', secret: otherSecret } },
        },
      });
      const withBarchartKey = await decide(
        split,
        facts({ route: BARCHART, disclosure: rules, headers: { 'x-ds-access-token': good() } }),
      );
      expect(withBarchartKey.allowed && withBarchartKey.scope.rule).toEqual(thresholdRule(3));
    });

    it('serves the rows of a dataset no credential protects only to callers who see exact counts', async () => {
      const none = load(undefined);
      expect(await decide(none, facts({ disclosure: rules }))).toMatchObject({
        allowed: false,
        status: 403,
        code: 'route_forbidden',
        path: 'datasets[0].disclosure.sampleRows',
      });
      const published = datasetDisclosure({ ...rules, sampleRows: 'public' }, 'datasets[0].disclosure');
      expect(await decide(none, facts({ disclosure: published }))).toMatchObject({
        allowed: true,
        scope: { rule: null },
      });
      expect(await decide(none, facts({ disclosure: datasetDisclosure({}) }))).toMatchObject({
        allowed: true,
      });
    });

    it('keeps a cohort-restricted caller off the lower tiers, whose tables count other samples', async () => {
      const d = await decide(
        noRows,
        facts({
          route: BARCHART,
          disclosure: rules,
          headers: { 'x-ds-access-token': good({ clientAuthResult: { cohorts: ['ABC'] } }) },
        }),
      );
      expect(d.allowed && d.scope).toMatchObject({ cohorts: ['ABC'], rule: thresholdRule(3), beneath: [] });
    });
  });

  it('decides at the time given in the facts', async () => {
    const token = sign({ datasets: ['TermdbTest'], email: 'a', ip: IP, ttlSeconds: 60 });
    const headers = { 'x-ds-access-token': token };
    expect((await decide(termdb, facts({ headers, now: clock() + 30_000 }))).allowed).toBe(true);
    expect(await decide(termdb, facts({ headers, now: clock() + 120_000 }))).toMatchObject({
      code: 'token_expired',
    });
  });

  it('records its steps only when asked, and the same decision either way', async () => {
    const steps: DecisionStep[] = [];
    const traced = await decide(termdb, facts({ headers: { 'x-ds-access-token': good() } }), steps);
    const plain = await decide(termdb, facts({ headers: { 'x-ds-access-token': good() } }));
    expect(steps.map((s) => s.step)).toEqual(['resolved', 'token', 'client', 'grant', 'scope']);
    expect({ ...traced, claims: undefined }).toEqual({ ...plain, claims: undefined });
  });

  it('answers the same resolution object for the same dataset, route and origin (memoized per config)', async () => {
    expect(termdb.resolve('TermdbTest', SAMPLES, PORTAL)).toBe(termdb.resolve('TermdbTest', SAMPLES, PORTAL));
    // Junk origins never grow the memo without bound, and never change an answer.
    for (let i = 0; i < 10_000; i++) termdb.resolve('TermdbTest', SAMPLES, `https://junk-${i}.example`);
    expect(termdb.resolve('TermdbTest', SAMPLES, PORTAL)).toMatchObject({ kind: 'needs-token' });
  });
});

describe('decide with revocation lists', () => {
  const NOW_S = Math.floor(clock() / 1000);
  const ana = subjectHash('ana@example.org');
  const headers = (token: string) => ({ 'x-ds-access-token': token });

  it('refuses a revoked token with token_revoked, after it verifies and before the grant', async () => {
    const token = good();
    const revocations = revocationsOf([
      { type: 'user', sub: ana, before: NOW_S + 1, at: NOW_S, reason: 'password-change' },
    ]);
    const steps: DecisionStep[] = [];
    const d = await decide(termdb, facts({ headers: headers(token), revocations }), steps);
    expect(d).toMatchObject({ allowed: false, status: 401, code: 'token_revoked' });
    expect(d.allowed || d.path).toBe('dsCredentials.TermdbTest.termdb.portal.example.org');
    expect(steps.map((s) => s.step)).toEqual(['resolved', 'token', 'client', 'revocation']);
    // Without the list the same token is allowed: the list is what refused it.
    expect((await decide(termdb, facts({ headers: headers(token) }))).allowed).toBe(true);
  });

  it('lets through a token issued after the cutoff, and tokens of an embedder the feed does not cover', async () => {
    const revocations = revocationsOf([
      { type: 'user', sub: ana, before: NOW_S - 60, at: NOW_S - 61, reason: 'password-change' },
    ]);
    expect((await decide(termdb, facts({ headers: headers(good()), revocations }))).allowed).toBe(true);
    const other = revocationsOf([{ type: 'embedder', before: NOW_S + 1, at: NOW_S, reason: 'admin' }], {
      embedder: 'other.example.org',
    });
    expect((await decide(termdb, facts({ headers: headers(good()), revocations: other }))).allowed).toBe(
      true,
    );
  });

  it('withdraws a grant for its dataset only', async () => {
    const revocations = revocationsOf([
      {
        type: 'grant',
        sub: ana,
        dataset: 'TermdbTest',
        before: NOW_S + 1,
        at: NOW_S,
        reason: 'grant-change',
      },
    ]);
    expect(await decide(termdb, facts({ headers: headers(good()), revocations }))).toMatchObject({
      code: 'token_revoked',
    });
    const elsewhere = revocationsOf([
      { type: 'grant', sub: ana, dataset: 'Other', before: NOW_S + 1, at: NOW_S, reason: 'grant-change' },
    ]);
    expect((await decide(termdb, facts({ headers: headers(good()), revocations: elsewhere }))).allowed).toBe(
      true,
    );
  });

  it('fails closed with revocation_unavailable (503) when the list is out of date', async () => {
    const revocations = revocationsOf([], { unavailable: true });
    expect(await decide(termdb, facts({ headers: headers(good()), revocations }))).toMatchObject({
      allowed: false,
      status: 503,
      code: 'revocation_unavailable',
    });
  });

  it('on an open route a revoked or unchecked token counts as no token; discovery answers without its guarded parts', async () => {
    const revoked = revocationsOf([{ type: 'embedder', before: NOW_S + 1, at: NOW_S, reason: 'admin' }]);
    const open = await decide(
      termdb,
      facts({ route: BARCHART, headers: headers(good()), revocations: revoked }),
    );
    expect(open).toMatchObject({ allowed: true, claims: undefined, scope: { rule: thresholdRule(5) } });
    const unavailable = revocationsOf([], { unavailable: true });
    const discovery = await decide(
      star,
      facts({ route: CONFIG, headers: { 'x-portal-token': good() }, revocations: unavailable }),
    );
    // The star config uses another embedder key set: its entry is portal.example.org too.
    expect(discovery).toMatchObject({ allowed: true, granted: false });
  });
});

describe('cohortsOf', () => {
  const claims = { datasets: ['T'], email: 'a', iat: 1, exp: 2 };
  it.each<[string, unknown, readonly string[] | null]>([
    ['no cohorts claim: every sample', undefined, null],
    ['a list of cohorts: those', ['ABC', 'XYZ'], ['ABC', 'XYZ']],
    ['an empty list: none', [], []],
    ['not a list: none (a malformed grant never widens access)', 'ABC', []],
    ['a list with a non-string: none', ['ABC', 7], []],
  ])('%s', (_name, cohorts, expected) => {
    const scope = cohortsOf({ ...claims, ...(cohorts !== undefined && { clientAuthResult: { cohorts } }) });
    expect(scope).toEqual({ cohorts: expected });
  });

  it('restricts nothing without claims', () => {
    expect(cohortsOf(undefined)).toEqual({ cohorts: null });
  });
});
