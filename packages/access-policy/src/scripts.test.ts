// Scripts: requests without an Origin, with a token the portal minted for a script. Loading, deciding and telling.
import { describe, expect, it } from 'vitest';
import {
  BARCHART,
  CONFIG,
  load,
  MIN5,
  newSecret,
  problemsOf,
  revocationsOf,
  SAMPLES,
  signerFor,
  TERMS,
  thresholdRule,
} from '../test/helpers.js';
import { decide, type RequestFacts } from './decide.js';
import { datasetDisclosure } from './disclosure.js';
import { explain } from './explain.js';

const secret = newSecret();
const sign = signerFor(secret);
const PORTAL = 'https://portal.example.org';
const IP = '203.0.113.7';
const ENTRY = 'dsCredentials.TermdbTest.termdb.portal.example.org';

const withScripts = (scripts: boolean | 'pinned', extra: Record<string, unknown> = {}) =>
  load({ TermdbTest: { termdb: { 'portal.example.org': { type: 'jwt', secret, scripts, ...extra } } } });
const scripts = withScripts(true);

const script = (extra: Record<string, unknown> = {}) =>
  sign({
    datasets: ['TermdbTest'],
    email: 'ana@example.org',
    client: 'script',
    apiTokenId: 'Zk3pQ9aZ0pLm',
    ...extra,
  });
const browser = () => sign({ datasets: ['TermdbTest'], email: 'ana@example.org', ip: IP });

/** A script's request: no Origin, the given headers. */
function facts(headers: Record<string, string>, overrides: Partial<RequestFacts> = {}): RequestFacts {
  return {
    dataset: 'TermdbTest',
    route: SAMPLES,
    origin: undefined,
    clientIp: IP,
    disclosure: MIN5,
    header: (name) => headers[name],
    ...overrides,
  };
}

describe('decide, for a request without an Origin', () => {
  it('allows a script’s token as a Bearer token or in the entry’s header, from any address', async () => {
    for (const headers of [
      { authorization: `Bearer ${script()}` } as Record<string, string>,
      { authorization: `bearer   ${script()}` },
      { 'x-ds-access-token': script() },
    ]) {
      const d = await decide(scripts, facts(headers, { clientIp: '198.51.100.99' }));
      expect(d, JSON.stringify(Object.keys(headers))).toMatchObject({
        allowed: true,
        granted: true,
        scope: { cohorts: null, tier: 'granted', rule: null },
      });
      expect(d.allowed && d.claims?.apiTokenId).toBe('Zk3pQ9aZ0pLm');
    }
  });

  it('refuses two tokens, one in each header or two Authorization headers, as it refuses two headers', async () => {
    const d = await decide(
      scripts,
      facts({ authorization: `Bearer ${script()}`, 'x-ds-access-token': script() }),
    );
    expect(d).toMatchObject({ allowed: false, status: 400, code: 'bad_request' });
    const twice = await decide(scripts, facts({ authorization: `Bearer ${script()}, Bearer ${script()}` }));
    expect(twice).toMatchObject({ allowed: false, status: 400, code: 'bad_request' });
  });

  it('reads no token from another Authorization scheme', async () => {
    const d = await decide(
      scripts,
      facts({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }),
    );
    expect(d).toMatchObject({ allowed: false, status: 401, code: 'token_missing' });
  });

  it('refuses a browser’s token used outside its page, whatever its address, with token_not_for_scripts', async () => {
    const d = await decide(scripts, facts({ 'x-ds-access-token': browser() }));
    expect(d).toMatchObject({ allowed: false, status: 403, code: 'token_not_for_scripts', path: ENTRY });
  });

  it('refuses a script’s token in a web page’s request with token_not_for_browsers', async () => {
    const d = await decide(scripts, facts({ 'x-ds-access-token': script({ ip: IP }) }, { origin: PORTAL }));
    expect(d).toMatchObject({ allowed: false, status: 403, code: 'token_not_for_browsers' });
    // The page's own token passes the same entry.
    expect(
      (await decide(scripts, facts({ 'x-ds-access-token': browser() }, { origin: PORTAL }))).allowed,
    ).toBe(true);
  });

  it('refuses scripts with scripts_not_allowed where no entry accepts them (fail closed)', async () => {
    for (const policy of [
      withScripts(false),
      load({ TermdbTest: { termdb: { '*': { type: 'jwt', secret } } } }),
    ]) {
      const d = await decide(policy, facts({ authorization: `Bearer ${script()}` }));
      expect(d).toMatchObject({ allowed: false, status: 403, code: 'scripts_not_allowed' });
    }
  });

  it('checks a pinned script token’s address by the entry’s rule, and "pinned" requires one', async () => {
    const pinned = script({ ip: IP });
    expect((await decide(scripts, facts({ 'x-ds-access-token': pinned }))).allowed).toBe(true);
    expect(
      await decide(scripts, facts({ 'x-ds-access-token': pinned }, { clientIp: '198.51.100.1' })),
    ).toMatchObject({ code: 'ip_mismatch' });
    const strict = withScripts('pinned');
    expect(await decide(strict, facts({ 'x-ds-access-token': script() }))).toMatchObject({
      allowed: false,
      status: 403,
      code: 'ip_mismatch',
    });
    expect((await decide(strict, facts({ 'x-ds-access-token': pinned }))).allowed).toBe(true);
    const loose = withScripts('pinned', { ipCheck: 'loose' });
    expect(
      (await decide(loose, facts({ 'x-ds-access-token': pinned }, { clientIp: '203.0.113.200' }))).allowed,
    ).toBe(true);
    expect((await decide(loose, facts({ 'x-ds-access-token': script() }))).allowed).toBe(false);
  });

  it('refuses a route class the token does not open, and opens the classes it does', async () => {
    const aggregated = script({ routeClasses: ['aggregated'] });
    expect(await decide(scripts, facts({ 'x-ds-access-token': aggregated }))).toMatchObject({
      allowed: false,
      status: 403,
      code: 'insufficient_scope',
    });
    const star = load({ TermdbTest: { '*': { '*': { type: 'jwt', secret, scripts: true } } } });
    for (const route of [BARCHART, TERMS, CONFIG]) {
      const d = await decide(star, facts({ 'x-ds-access-token': aggregated }, { route }));
      expect(d, route.name).toMatchObject({ allowed: true, granted: true });
    }
    const both = script({ routeClasses: ['aggregated', 'sample-level'] });
    expect((await decide(scripts, facts({ 'x-ds-access-token': both }))).allowed).toBe(true);
  });

  it('holds a browser’s token to the same route classes', async () => {
    const token = sign({ datasets: ['TermdbTest'], email: 'a', ip: IP, routeClasses: ['aggregated'] });
    expect(await decide(scripts, facts({ 'x-ds-access-token': token }, { origin: PORTAL }))).toMatchObject({
      code: 'insufficient_scope',
    });
  });

  it('lifts suppression on an open route for a script’s token, and ignores a browser’s', async () => {
    const open = await decide(scripts, facts({ authorization: `Bearer ${script()}` }, { route: BARCHART }));
    expect(open).toMatchObject({ allowed: true, scope: { tier: 'granted', rule: null } });
    const ignored = await decide(scripts, facts({ 'x-ds-access-token': browser() }, { route: BARCHART }));
    expect(ignored).toMatchObject({
      allowed: true,
      claims: undefined,
      scope: { tier: 'anonymous', rule: thresholdRule(5) },
    });
  });

  it('keeps the granted rule for a script’s token that opens aggregated data only: it cannot count rows', async () => {
    // Every route of the dataset needs the token, so the entry that verifies it also guards the rows.
    const star = load({ TermdbTest: { '*': { '*': { type: 'jwt', secret, scripts: true } } } });
    const rules = datasetDisclosure(
      {
        anonymous: { rule: thresholdRule(10), path: 'datasets[0].disclosure.anonymous' },
        granted: { rule: thresholdRule(5), path: 'datasets[0].disclosure.granted' },
      },
      'datasets[0].disclosure',
    );
    const ask = (token: string) =>
      decide(star, facts({ authorization: `Bearer ${token}` }, { route: BARCHART, disclosure: rules }));
    expect(await ask(script({ routeClasses: ['aggregated'] }))).toMatchObject({
      allowed: true,
      scope: { tier: 'granted', rule: thresholdRule(5) },
    });
    for (const token of [script(), script({ routeClasses: ['aggregated', 'sample-level'] })]) {
      expect(await ask(token)).toMatchObject({ allowed: true, scope: { tier: 'granted', rule: null } });
    }
    // And the explanation tells the same.
    const told = await explain(
      star,
      { dataset: 'TermdbTest', route: 'termdb/barchart', clientIp: IP, disclosure: rules },
      script({ routeClasses: ['aggregated'] }),
    );
    expect(told.decision).toMatchObject({ outcome: 'allowed', tier: 'granted', rule: thresholdRule(5) });
  });

  it('asks the revocation list of the script entry’s embedder about a script’s token', async () => {
    const token = script({ jti: undefined });
    const jti = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).jti as string;
    const revocations = revocationsOf([
      { type: 'token', jti, exp: 4_000_000_000, at: 1, reason: 'api-token-revoked' },
    ]);
    expect(await decide(scripts, facts({ authorization: `Bearer ${token}` }, { revocations }))).toMatchObject(
      {
        allowed: false,
        status: 401,
        code: 'token_revoked',
      },
    );
  });
});

describe('loading "scripts"', () => {
  it('reads true, false and "pinned" on jwt entries, false by default', () => {
    const entry = (value?: unknown) =>
      load({
        TermdbTest: {
          termdb: {
            'portal.example.org': { type: 'jwt', secret, ...(value !== undefined && { scripts: value }) },
          },
        },
      }).entries[0];
    expect(entry()).toMatchObject({ scripts: false });
    expect(entry(true)).toMatchObject({ scripts: true });
    expect(entry('pinned')).toMatchObject({ scripts: 'pinned' });
  });

  it('refuses another value, a second entry that accepts scripts, "pinned" without an address check, and scripts on other entry types', () => {
    expect(
      problemsOf({ T: { termdb: { 'a.org': { type: 'jwt', secret, scripts: 'yes' } } } }).map((p) => p.path),
    ).toEqual(['dsCredentials.T.termdb.a.org.scripts']);
    expect(
      problemsOf({
        T: {
          termdb: {
            'a.org': { type: 'jwt', secret, scripts: true },
            'b.org': { type: 'jwt', secret, scripts: 'pinned' },
          },
        },
      }),
    ).toEqual([
      {
        path: 'dsCredentials.T.termdb',
        message:
          'more than one entry accepts scripts ("a.org", "b.org"); a script sends no Origin, so only one entry of a route block may take its requests',
      },
    ]);
    expect(
      problemsOf({ T: { termdb: { 'a.org': { type: 'jwt', secret, scripts: 'pinned', ipCheck: 'none' } } } }),
    ).toMatchObject([{ path: 'dsCredentials.T.termdb.a.org.scripts' }]);
    expect(problemsOf({ T: { termdb: { 'a.org': { type: 'open', scripts: true } } } })).toMatchObject([
      { path: 'dsCredentials.T.termdb.a.org.scripts' },
    ]);
  });
});

describe('explain, for scripts', () => {
  const base = { dataset: 'TermdbTest', route: 'termdb/samples', clientIp: IP };

  it('tells which entry takes scripts and that the token is a script’s', async () => {
    const { decision, steps } = await explain(scripts, base, script());
    expect(decision).toMatchObject({ outcome: 'allowed', status: 200 });
    expect(steps).toContain(
      'The request has no Origin header: it is a script’s (or curl’s), not a web page’s.',
    );
    expect(steps.join('\n')).toContain(`The entry ${ENTRY} accepts scripts ("scripts": true)`);
    expect(steps).toContain(
      'The token was minted for a script ("client": "script": the portal gave it in exchange for a personal API token), as a request without an Origin needs.',
    );
  });

  it('tells why a browser’s token, a missing permission and a route class are refused', async () => {
    const refusedBrowser = await explain(scripts, base, browser());
    expect(refusedBrowser.decision).toMatchObject({ code: 'token_not_for_scripts' });
    expect(refusedBrowser.steps.join('\n')).toMatch(/a browser's token used outside its page is refused/);
    const closed = await explain(withScripts(false), base, script());
    expect(closed.decision).toMatchObject({ code: 'scripts_not_allowed' });
    expect(closed.steps.join('\n')).toMatch(
      /accepts scripts \("scripts": true\), so a request without an Origin is refused/,
    );
    const aggregated = await explain(scripts, base, script({ routeClasses: ['aggregated'] }));
    expect(aggregated.decision).toMatchObject({ code: 'insufficient_scope' });
    expect(aggregated.steps).toContain(
      'The token opens "aggregated" data only ("routeClasses"), not this sample-level route.',
    );
  });

  it('reads a token named in the Authorization header as a Bearer token, as the server does', async () => {
    const { decision } = await explain(scripts, { ...base, tokenHeader: 'Authorization' }, script());
    expect(decision).toMatchObject({ outcome: 'allowed', status: 200 });
  });
});
