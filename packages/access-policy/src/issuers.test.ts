import {
  exchangeForPassport,
  type IdpClient,
  type RunningIdp,
  signInHeadless,
  startIdp,
} from '@pp-embed/test-idp';
import type { RevocationLookup } from '@pp-embed/revocation';
import { ConfigError } from '@pp-embed/server-runtime';
import { LIMITS } from '@pp-embed/viz-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BARCHART, MIN5, newSecret, SAMPLES, thresholdRule } from '../test/helpers.js';
import { decide, type RequestFacts } from './decide.js';
import { explain } from './explain.js';
import { loadTrustedIssuers } from './issuers.js';
import { loadPolicy } from './load.js';

// A real OpenID Provider on 127.0.0.1 (oidc-provider, in its own process) playing a university's IdP and a passport
// broker that signs visas for a data access committee.
const VIZ = 'https://viz.test';
const DAC = 'https://dac.test/committee';
const client: IdpClient = {
  client_id: 'portal',
  client_secret: newSecret(),
  redirect_uris: ['http://127.0.0.1:3000/login/oidc/callback'],
};
let idp: RunningIdp;

beforeAll(async () => {
  idp = await startIdp({
    audience: VIZ,
    clients: [client],
    users: {
      ana: { email: 'ana@uni.test', scopes: ['pp:dataset:TermdbTest'], groups: ['abc-team'] },
      carl: { email: 'carl@uni.test', groups: ['abc-team'] },
      dora: { email: 'dora@uni.test' },
      vic: {
        email: 'vic@uni.test',
        visas: [
          { value: 'phs000001.v1.p1', source: DAC, by: 'dac' },
          {
            value: 'phs000003.v1.p1',
            source: DAC,
            by: 'dac',
            conditions: [[{ type: 'AffiliationAndRole' }]],
          },
        ],
      },
      eve: {
        email: 'eve@uni.test',
        visas: [{ value: 'phs000001.v1.p1', source: DAC, by: 'dac', expiresIn: 120 }],
      },
      olga: { email: 'olga@uni.test', visas: [{ value: 'phs000002.v1.p1', source: DAC, by: 'dac' }] },
      // Twenty visas: a passport longer than the longest accepted.
      hoarder: {
        email: 'hoarder@uni.test',
        visas: Array.from({ length: 20 }, (_, i) => ({ value: `phs9${i}.v1.p1`, source: DAC, by: 'dac' })),
      },
    },
  });
}, 60_000);

afterAll(() => idp.stop());

/** The IdP as serverconfig.json's trustedIssuers names it: "university". */
function trustedIssuers(audience = VIZ) {
  return loadTrustedIssuers(
    {
      university: {
        issuer: idp.url,
        audience,
        grants: [
          { scope: 'pp:dataset:TermdbTest', dataset: 'TermdbTest' },
          {
            claim: 'groups',
            value: 'abc-team',
            dataset: 'TermdbTest',
            cohorts: ['ABC'],
            routes: ['aggregated'],
          },
        ],
        // The same provider is the passport broker: its passports' visas go through the visa table.
        passports: true,
      },
    },
    {
      visaIssuers: [{ issuer: idp.url, jku: [idp.visaJku] }],
      visas: [
        { value: 'phs000001.v1.p1', source: [DAC], by: ['dac'], dataset: 'TermdbTest' },
        { value: 'phs000002.v1.p1', source: [DAC], dataset: 'Other' },
        { value: 'phs000003.v1.p1', source: [DAC], dataset: 'TermdbTest' },
      ],
    },
    { keys: { background: false } },
  );
}

/** The server's config: one entry that trusts only the IdP, one that takes the portal's key and the IdP. */
function policy(audience = VIZ) {
  const issuers = trustedIssuers(audience);
  return loadPolicy(
    {
      TermdbTest: { '*': { 'portal.example.org': { type: 'jwt', issuers: ['university'] } } },
      Other: { '*': { 'portal.example.org': { type: 'jwt', secret: newSecret(), issuers: ['university'] } } },
    },
    { baseDir: process.cwd(), issuers },
  );
}

const facts = (token: string | undefined, overrides: Partial<RequestFacts> = {}): RequestFacts => ({
  dataset: 'TermdbTest',
  route: SAMPLES,
  origin: 'https://portal.example.org',
  clientIp: '203.0.113.7',
  disclosure: MIN5,
  header: (name) => (name === 'x-ds-access-token' ? token : undefined),
  ...overrides,
});

const tokenFor = async (user: string, scope = 'openid groups pp:dataset:TermdbTest') =>
  (await signInHeadless(idp, client, user, { scope, resource: VIZ })).access_token;

describe('a token from a trusted issuer', () => {
  it('is granted the dataset its scope names, with no address check and no cohort restriction', async () => {
    const d = await decide(policy(), facts(await tokenFor('ana')));
    // Its scope also grants the rows, so it sees exact counts.
    expect(d).toMatchObject({
      allowed: true,
      granted: true,
      scope: { cohorts: null, tier: 'granted', rule: null },
    });
    expect(d.allowed && d.claims).toMatchObject({
      datasets: ['TermdbTest'],
      email: 'ana@university',
      iss: idp.url,
    });
  });

  it('is granted the cohorts of its group, on the routes the rule covers only (insufficient_scope)', async () => {
    const token = await tokenFor('carl');
    const chart = await decide(policy(), facts(token, { route: BARCHART }));
    // A grant of aggregated routes only does not reach the rows: its counts stay under the dataset's rule.
    expect(chart).toMatchObject({
      allowed: true,
      scope: { cohorts: ['ABC'], tier: 'granted', rule: thresholdRule(5) },
    });
    expect(await decide(policy(), facts(token))).toMatchObject({
      allowed: false,
      status: 403,
      code: 'insufficient_scope',
    });
  });

  it('without a claim any rule maps is refused with dataset_not_granted', async () => {
    expect(await decide(policy(), facts(await tokenFor('dora')))).toMatchObject({
      status: 403,
      code: 'dataset_not_granted',
    });
  });

  it('for another audience is refused, 401 token_invalid', async () => {
    expect(await decide(policy('https://other-service.test'), facts(await tokenFor('ana')))).toMatchObject({
      status: 401,
      code: 'token_invalid',
    });
  });

  it('from an issuer the entry does not list is refused with issuer_not_trusted', async () => {
    const p = loadPolicy(
      { TermdbTest: { '*': { '*': { type: 'jwt', issuers: ['lab'] } } } },
      {
        baseDir: process.cwd(),
        issuers: loadTrustedIssuers({
          lab: { issuer: 'https://lab.test', audience: VIZ, grants: [{ scope: 'x', dataset: 'TermdbTest' }] },
        }),
      },
    );
    expect(await decide(p, facts(await tokenFor('ana')))).toMatchObject({
      status: 401,
      code: 'issuer_not_trusted',
    });
  });

  it("is not in a portal's revocation feed, which does not speak for it, and explain says so", async () => {
    // A feed that withdraws every token it is asked about.
    const revocations: RevocationLookup = {
      check: () => ({
        state: 'revoked',
        feed: 'portal',
        revocation: { type: 'embedder', before: Number.MAX_SAFE_INTEGER, at: 0, reason: 'admin' },
      }),
    };
    const token = await tokenFor('ana');
    expect(await decide(policy(), facts(token, { revocations }))).toMatchObject({ allowed: true });
    const { steps } = await explain(
      policy(),
      { dataset: 'TermdbTest', route: 'termdb/samples', origin: 'https://portal.example.org', revocations },
      token,
    );
    expect(steps.join('\n')).toContain("A portal's revocation feed does not speak for it");
  });

  it('is told by explain: the issuer, the claim and the rule that decided', async () => {
    const { steps } = await explain(
      policy(),
      { dataset: 'TermdbTest', route: 'termdb/samples', origin: 'https://portal.example.org' },
      await tokenFor('carl'),
    );
    const text = steps.join('\n');
    expect(text).toContain(`trusted issuer "university" (${idp.url}, trustedIssuers.university)`);
    expect(text).toContain('by claim "groups" = "abc-team" under rule trustedIssuers.university.grants[1]');
    expect(text).toContain('do not cover sample-level routes');
    expect(text).toContain('Decision: refused with insufficient_scope (403).');
  });
});

describe('a token from a trusted issuer, sent by a script', () => {
  // The entry that takes scripts (no Origin) trusts the IdP too.
  const withScripts = () =>
    loadPolicy(
      {
        TermdbTest: {
          '*': { 'portal.example.org': { type: 'jwt', issuers: ['university'], scripts: true } },
        },
      },
      { baseDir: process.cwd(), issuers: trustedIssuers() },
    );
  const script = (token: string) =>
    facts(undefined, {
      origin: undefined,
      header: (name) => (name === 'authorization' ? `Bearer ${token}` : undefined),
    });

  it('is granted where the entry takes scripts, as a Bearer token, by the same rules as from a page', async () => {
    expect(await decide(withScripts(), script(await tokenFor('ana')))).toMatchObject({
      allowed: true,
      granted: true,
    });
    expect(await decide(withScripts(), script(await tokenFor('carl')))).toMatchObject({
      status: 403,
      code: 'insufficient_scope',
    });
  });

  it('is told by explain: the entry takes scripts with tokens of its trusted issuers', async () => {
    const { decision, steps } = await explain(
      withScripts(),
      { dataset: 'TermdbTest', route: 'termdb/samples', tokenHeader: 'authorization' },
      await tokenFor('ana'),
    );
    expect(decision).toMatchObject({ outcome: 'allowed', status: 200 });
    expect(steps.join('\n')).toContain(
      `accepts scripts ("scripts": true): a token from one of its trusted issuers "university" (${idp.url}) is needed`,
    );
  });

  it('is refused where no entry takes scripts (scripts_not_allowed)', async () => {
    expect(await decide(policy(), script(await tokenFor('ana')))).toMatchObject({
      status: 403,
      code: 'scripts_not_allowed',
    });
  });

  it('cannot meet "scripts": "pinned", which is a load error beside issuers', () => {
    expect(() =>
      loadPolicy(
        {
          TermdbTest: {
            '*': {
              'portal.example.org': {
                type: 'jwt',
                secret: newSecret(),
                issuers: ['university'],
                scripts: 'pinned',
              },
            },
          },
        },
        { baseDir: process.cwd(), issuers: trustedIssuers() },
      ),
    ).toThrow(
      expect.objectContaining({
        problems: [
          expect.objectContaining({ path: 'dsCredentials.TermdbTest.*.portal.example.org.scripts' }),
        ],
      }),
    );
  });
});

describe('a GA4GH passport from a trusted broker', () => {
  const passportFor = async (user: string) =>
    exchangeForPassport(idp, client, await tokenFor(user, 'openid'), VIZ);

  it('is granted the dataset of its ControlledAccessGrants visa', async () => {
    const d = await decide(policy(), facts(await passportFor('vic')));
    expect(d).toMatchObject({ allowed: true, granted: true, scope: { cohorts: null } });
    expect(d.allowed && d.claims).toMatchObject({ datasets: ['TermdbTest'], email: 'vic@university' });
  });

  it('says in explain which visa granted and why the one with conditions did not', async () => {
    const { steps, decision } = await explain(
      policy(),
      { dataset: 'TermdbTest', route: 'termdb/samples', origin: 'https://portal.example.org' },
      await passportFor('vic'),
    );
    const text = steps.join('\n');
    // Rows: exact counts, as for any caller who may read them.
    expect(decision).toEqual({ outcome: 'allowed', status: 200, tier: 'granted', rule: null });
    expect(text).toMatch(/Visa 0 \(ControlledAccessGrants "phs000001.v1.p1"\) from .*: accepted/);
    expect(text).toMatch(/Visa 1 .*refused \(conditions\)/);
  });

  it('grants until its visa expires, and nothing from then on', async () => {
    const passport = await passportFor('eve');
    const d = await decide(policy(), facts(passport));
    expect(d.allowed && d.claims?.exp).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 120);
    const later = Date.now() + 130_000;
    expect(await decide(policy(), facts(passport, { now: later }))).toMatchObject({
      status: 403,
      code: 'dataset_not_granted',
    });
  });

  it('over the longest passport accepted is refused as such (401 token_invalid), whatever it holds', async () => {
    const passport = await passportFor('hoarder');
    expect(passport.length).toBeGreaterThan(LIMITS.maxPassportLength);
    expect(await decide(policy(), facts(passport))).toMatchObject({
      status: 401,
      code: 'token_invalid',
      detail: `token is longer than ${LIMITS.maxPassportLength} characters, the longest passport accepted`,
    });
  });

  it('with only a visa for another dataset grants nothing here', async () => {
    const passport = await passportFor('olga');
    expect(await decide(policy(), facts(passport))).toMatchObject({
      status: 403,
      code: 'dataset_not_granted',
    });
    expect(await decide(policy(), facts(passport, { dataset: 'Other' }))).toMatchObject({ allowed: true });
  });
});

describe('the configuration', () => {
  it('names the entry path of an issuer no trustedIssuers key defines', () => {
    const error = (() => {
      try {
        loadPolicy({ A: { '*': { '*': { type: 'jwt', issuers: ['nobody'] } } } }, { baseDir: '.' });
      } catch (e) {
        return e as ConfigError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.problems).toEqual([
      { path: 'dsCredentials.A.*.*.issuers[0]', message: 'no trustedIssuers are configured' },
    ]);
  });

  it('reports each mistake of the sections with its path', () => {
    expect(() =>
      loadTrustedIssuers(
        { a: { issuer: 'http://idp.example', audience: VIZ, grants: [] }, b: { issuer: 'https://b.test' } },
        undefined,
      ),
    ).toThrow(
      expect.objectContaining({
        problems: expect.arrayContaining([
          expect.objectContaining({ path: 'trustedIssuers.a.issuer' }),
          expect.objectContaining({ path: 'trustedIssuers.b.audience' }),
        ]),
      }),
    );
  });
});
