import { describe, expect, it } from 'vitest';
import { subjectHash } from '@pp-embed/revocation';
import { presetRule } from '@pp-embed/viz-api';
import { clock, jwt, load, MIN5, newSecret, revocationsOf, signerFor } from '../test/helpers.js';
import { datasetDisclosure } from './disclosure.js';
import { explain, type ExplainRequest } from './explain.js';

const secret = newSecret();
const sign = signerFor(secret);
const policy = load({
  TermdbTest: {
    termdb: {
      'portal.example.org': { type: 'jwt', secret, dsnames: [{ id: 'TermdbTest', label: 'Termdb test' }] },
      'lab.example.edu': { type: 'jwt', secret, looseIpCheck: true, headerKey: 'X-Lab-Token' },
    },
    'termdb/config': { '*': { type: 'open' } },
  },
  '*': { '*': { '*': { type: 'forbidden' } } },
});

const IP = '203.0.113.7';
const fromPortal: ExplainRequest = {
  dataset: 'TermdbTest',
  route: 'termdb/samples',
  origin: 'https://portal.example.org',
  clientIp: '203.0.113.7',
};

describe('explain', () => {
  it('refuses an embedder without a credential, naming the route block and its keys', async () => {
    const { decision, steps } = await explain(policy, { ...fromPortal, origin: 'https://evil.example.net' });
    expect(decision).toEqual({ outcome: 'refused', status: 403, code: 'embedder_not_allowed' });
    expect(steps).toEqual([
      'Dataset "TermdbTest" has its own key (dsCredentials.TermdbTest), so only that block is used; the "*" dataset block is not consulted.',
      'Route "termdb/samples" (sample-level) has no route key of its own, so the "termdb" key matched: it covers sample-level routes (dsCredentials.TermdbTest.termdb).',
      'The Origin "https://evil.example.net" is embedder "evil.example.net".',
      'No embedder key in dsCredentials.TermdbTest.termdb matches and there is no "*" embedder (its keys: "portal.example.org" and "lab.example.edu"). A protected route with no credential for the embedder is refused (fail closed).',
      'Decision: refused with embedder_not_allowed (403).',
    ]);
  });

  it('says that a key without a port matched the origin on another port', async () => {
    const { steps } = await explain(policy, { ...fromPortal, origin: 'https://portal.example.org:8443' });
    expect(steps).toContain(
      'No embedder key is "portal.example.org:8443", so the key "portal.example.org" matched: a key without a port matches every port of its host (dsCredentials.TermdbTest.termdb.portal.example.org).',
    );
  });

  it('says which keys would match an origin with a port that no key covers', async () => {
    const { steps } = await explain(policy, { ...fromPortal, origin: 'http://localhost:8080' });
    expect(steps).toContain(
      'No embedder key in dsCredentials.TermdbTest.termdb matches and there is no "*" embedder (its keys: "portal.example.org" and "lab.example.edu"). A key "localhost" (every port) or "localhost:8080" (this port) would match. A protected route with no credential for the embedder is refused (fail closed).',
    );
  });

  it('tells an origin no entry names, on the discovery route, in the answer its page may read', async () => {
    const closedOff = load({ TermdbTest: { termdb: { 'portal.example.org': jwt() } } });
    const { decision, steps } = await explain(closedOff, {
      dataset: 'TermdbTest',
      route: 'termdb/config',
      origin: 'https://staging.example.org',
    });
    expect(decision).toEqual({ outcome: 'refused', status: 403, code: 'embedder_not_allowed' });
    expect(steps).toContain(
      'No entry of any dataset names embedder "staging.example.org" and there is no "*" embedder (nor is the origin in corsOrigins), so a page there may read no answer of this server; its discovery request is answered with embedder_not_allowed, the one answer that page may read, so that the widget can say why.',
    );
    const listed = load(
      { TermdbTest: { termdb: { 'portal.example.org': jwt() } } },
      { corsOrigins: ['https://staging.example.org'] },
    );
    expect(
      (
        await explain(listed, {
          dataset: 'TermdbTest',
          route: 'termdb/config',
          origin: 'https://staging.example.org',
        })
      ).decision,
    ).toMatchObject({ outcome: 'allowed', status: 200 });
  });

  it('names the reason of a token_invalid, which no sign-in fixes', async () => {
    const other = signerFor(newSecret())({ datasets: ['TermdbTest'], email: 'a@b.org', ip: '203.0.113.7' });
    const { steps } = await explain(policy, fromPortal, other);
    expect(steps).toContain(
      'The token was refused: token signature does not match (reason "signature": the signature does not match the key the server holds for this portal; the portal\'s token is wrong, so signing in again does not help).',
    );
  });

  it('says what the token needs when none is given', async () => {
    const { decision, steps } = await explain(policy, fromPortal);
    expect(decision).toEqual({ outcome: 'refused', status: 401, code: 'token_missing' });
    expect(steps).toContain(
      'The entry\'s type is "jwt": a token is needed in the "x-ds-access-token" header, signed with the shared secret (HS256), with "exp" at most 86400 seconds after "iat", whose "datasets" claim lists "TermdbTest" (the entry\'s dsnames), and whose "ip" claim is the client address (strict address check).',
    );
    expect(steps).toContain('No token was given (it would come in the "x-ds-access-token" header).');
  });

  it("verifies the token with the entry's verifier and reports its refusal code", async () => {
    const expired = signerFor(secret)({ datasets: ['TermdbTest'], email: 'a@b.org', ttlSeconds: 60 });
    const later = load({ T: { '*': { '*': { type: 'jwt', secret } } } }, { now: () => clock() + 120_000 });
    const { decision, steps } = await explain(
      later,
      { dataset: 'T', route: { name: 'x', class: 'aggregated' }, origin: 'https://portal.example.org' },
      expired,
    );
    expect(decision).toEqual({ outcome: 'refused', status: 401, code: 'token_expired' });
    expect(steps).toContain('The token was refused: token has expired.');
  });

  it('refuses a token signed with another secret', async () => {
    const other = signerFor(newSecret())({ datasets: ['TermdbTest'], email: 'a@b.org', ip: '203.0.113.7' });
    expect((await explain(policy, fromPortal, other)).decision).toEqual({
      outcome: 'refused',
      status: 401,
      code: 'token_invalid',
    });
  });

  it('names the dataset the token lacks', async () => {
    const token = sign({ datasets: ['Other'], email: 'a@b.org', ip: '203.0.113.7' });
    const { decision, steps } = await explain(policy, fromPortal, token);
    expect(decision).toEqual({ outcome: 'refused', status: 403, code: 'dataset_not_granted' });
    expect(steps.at(-2)).toBe('The "datasets" claim is ["Other"]: it lacks "TermdbTest".');
  });

  it('names both addresses when the client is not the one the token was minted for', async () => {
    const token = sign({ datasets: ['TermdbTest'], email: 'a@b.org', ip: '203.0.113.7' });
    const { decision, steps } = await explain(
      policy,
      { ...fromPortal, clientIp: '::ffff:203.0.113.9' },
      token,
    );
    expect(decision).toEqual({ outcome: 'refused', status: 403, code: 'ip_mismatch' });
    expect(steps.at(-2)).toBe(
      'Strict address check: the client address 203.0.113.9 is not the "ip" claim 203.0.113.7.',
    );
  });

  it('allows a good token and says why each check passed', async () => {
    const token = sign({ datasets: ['TermdbTest'], email: 'a@b.org', ip: '203.0.113.7' });
    const { decision, steps } = await explain(policy, fromPortal, token);
    expect(decision).toMatchObject({ outcome: 'allowed', status: 200 });
    expect(steps.slice(-5)).toEqual([
      'The token verified: signature, algorithm and lifetime are valid (it expires 2026-11-23T12:10:00.000Z).',
      'The "datasets" claim includes "TermdbTest".',
      'Strict address check: the "ip" claim 203.0.113.7 is the client address.',
      'The token grants the dataset, so the caller is a granted user; the dataset sets no disclosure rule for granted users: every count is exact.',
      'Decision: allowed.',
    ]);
  });

  it('explains the loose address check with a missing ip claim and a neighbour address', async () => {
    const lab = { ...fromPortal, origin: 'https://lab.example.edu' };
    const noIp = await explain(policy, lab, sign({ datasets: ['TermdbTest'], email: 'a@b.org' }));
    expect(noIp.decision.outcome).toBe('allowed');
    expect(noIp.steps).toContain('The token has no "ip" claim, which the loose address check accepts.');
    const near = await explain(
      policy,
      { ...lab, clientIp: '203.0.113.250' },
      sign({ datasets: ['TermdbTest'], email: 'a@b.org', ip: '203.0.113.7' }),
    );
    expect(near.steps).toContain(
      'Loose address check: the client address 203.0.113.250 is in the network of the "ip" claim 203.0.113.7.',
    );
  });

  it('explains an aggregated route left open by a "termdb" credential, where an offered token is still checked', async () => {
    const token = sign({ datasets: ['TermdbTest'], email: 'a@b.org', ip: '203.0.113.7' });
    const { decision, steps } = await explain(policy, { ...fromPortal, route: 'termdb/barchart' }, token);
    expect(decision).toMatchObject({ outcome: 'allowed', status: 200 });
    expect(steps.slice(1)).toEqual([
      'Route "termdb/barchart" (aggregated): no route key in dsCredentials.TermdbTest covers it (its keys: "termdb" and "termdb/config"; "termdb" covers only sample-level routes), so it needs no token.',
      'This route needs no token, but a token in the "x-ds-access-token" header is checked with the entry that guards the dataset\'s sample-level data (dsCredentials.TermdbTest.termdb.portal.example.org): verified and granted, it sets the caller\'s tier (and so the disclosure rule) and applies its cohorts; refused, it is ignored and the answer is the one without a token.',
      'The token verified: signature, algorithm and lifetime are valid (it expires 2026-11-23T12:10:00.000Z).',
      'The "datasets" claim includes "TermdbTest".',
      'Strict address check: the "ip" claim 203.0.113.7 is the client address.',
      'The token grants the dataset, so the caller is a granted user; the dataset sets no disclosure rule for granted users: every count is exact.',
      'Decision: allowed.',
    ]);
  });

  it('says what an anonymous caller of an open route sees', async () => {
    const { decision, steps } = await explain(policy, {
      ...fromPortal,
      route: 'termdb/barchart',
      disclosure: MIN5,
    });
    expect(decision).toMatchObject({ outcome: 'allowed', status: 200 });
    expect(steps.at(-2)).toBe(
      'The caller is anonymous (no verified token); the rule for callers without a verified token applies (datasets[0].minSampleSize). The rule: counts from 1 to 4 are hidden and shown as "<5"; more counts are withheld so that no hidden one can be worked out from totals, margins, other splits or filters (complementary suppression).',
    );
  });

  it('says which rule a signed-in user without a grant gets, and why a granted one sees exact counts', async () => {
    const rules = datasetDisclosure(
      {
        anonymous: { rule: presetRule('all-of-us'), path: 'datasets[0].disclosure.anonymous' },
        signedIn: { rule: presetRule('opensafely'), path: 'datasets[0].disclosure.signedIn' },
      },
      'datasets[0].disclosure',
    );
    const signedIn = await explain(
      policy,
      { ...fromPortal, route: 'termdb/barchart', disclosure: rules },
      sign({ datasets: ['TermdbTest'], email: 'a', ip: IP, access: 'signedIn' }),
    );
    expect(signedIn.steps.at(-3)).toBe(
      'The token\'s "access" claim is "signedIn", so the caller is a signed-in user without a grant; the rule for signed-in users without a grant applies (datasets[0].disclosure.signedIn). Preset "opensafely" (OpenSAFELY): counts from 1 to 7 are hidden and shown as "≤7"; more counts are withheld so that no hidden one can be worked out from totals, margins, other splits or filters (complementary suppression); shown counts are rounded to the nearest 5.',
    );
    expect(signedIn.steps.at(-2)).toMatch(/lower tiers/);
    const rows = await explain(
      policy,
      { ...fromPortal, route: 'termdb/samples', disclosure: rules },
      sign({ datasets: ['TermdbTest'], email: 'a', ip: IP, access: 'signedIn' }),
    );
    expect(rows.decision).toEqual({ outcome: 'refused', status: 403, code: 'grant_required' });
    const granted = await explain(
      policy,
      { ...fromPortal, route: 'termdb/barchart', disclosure: rules },
      sign({ datasets: ['TermdbTest'], email: 'a', ip: IP }),
    );
    expect(granted.steps.at(-2)).toBe(
      "The token grants the dataset, so the caller is a granted user who may also read this dataset's sample-level rows from this origin: every count is exact (a rule would protect nothing from a caller who can count rows).",
    );
  });

  it('allows the discovery route without a token under a "*" credential, as the server answers it', async () => {
    const star = load({ T: { '*': { '*': { type: 'jwt', secret } } } });
    const page = { dataset: 'T', origin: 'https://portal.example.org' };
    const { decision, steps } = await explain(star, { ...page, route: 'termdb/config' });
    expect(decision).toMatchObject({ outcome: 'allowed', status: 200 });
    expect(steps).toContain(
      'Route "termdb/config" is a discovery route: without a usable token it still answers, and leaves out the parts that need one (the root terms and cohorts).',
    );
    const terms = await explain(star, { ...page, route: 'termdb/terms' });
    expect(terms.decision).toEqual({ outcome: 'refused', status: 401, code: 'token_missing' });
  });

  it('names the cohorts a token restricts the answers to', async () => {
    const token = sign({
      datasets: ['TermdbTest'],
      email: 'a@b.org',
      ip: '203.0.113.7',
      clientAuthResult: { cohorts: ['ABC'] },
    });
    const { steps } = await explain(policy, fromPortal, token);
    expect(steps.at(-3)).toBe(
      'The token\'s clientAuthResult.cohorts restricts every answer to the samples of "ABC".',
    );
  });

  it('applies the leeway the policy was loaded with', async () => {
    const expiring = signerFor(secret)({ datasets: ['T'], email: 'a@b.org', ttlSeconds: 60 });
    const config = { T: { '*': { '*': { type: 'jwt', secret, looseIpCheck: true } } } };
    const at = clock() + 63_000; // 3 s past exp
    const tight = load(config, { leewaySeconds: 0 });
    const loose = load(config, { leewaySeconds: 5 });
    const request = { dataset: 'T', route: 'termdb/samples', now: at, origin: 'https://portal.example.org' };
    expect((await explain(tight, request, expiring)).decision).toMatchObject({ code: 'token_expired' });
    expect((await explain(loose, request, expiring)).decision.outcome).toBe('allowed');
  });

  it('explains a forbidden route reached through the "*" dataset and "*" embedder', async () => {
    const { decision, steps } = await explain(policy, { dataset: 'Other', route: 'termdb/terms' });
    expect(decision).toEqual({ outcome: 'refused', status: 403, code: 'route_forbidden' });
    expect(steps).toEqual([
      'Dataset "Other" has no key of its own, so the "*" dataset block applies (dsCredentials.*).',
      'Route "termdb/terms" (aggregated) has no route key of its own; the "*" route key matched (dsCredentials.*.*).',
      'The request has no Origin header: it is a script’s (or curl’s), not a web page’s.',
      'No entry of dsCredentials.*.* accepts scripts, so the "*" embedder decides, as for everyone (dsCredentials.*.*.*).',
      'The entry\'s type is "forbidden": this route is closed to this embedder, with or without a token.',
      'Decision: refused with route_forbidden (403).',
    ]);
  });

  it('takes a route name the catalog does not know as sample-level', async () => {
    const { steps } = await explain(policy, { ...fromPortal, route: 'termdb/unknown' });
    expect(steps[0]).toBe(
      'Route "termdb/unknown" is not in the server\'s route catalog, so it is taken as sample-level (the stricter case).',
    );
  });

  it('explains a dataset no credential covers', async () => {
    const { decision, steps } = await explain(load({ A: { '*': { '*': { type: 'open' } } } }), {
      dataset: 'B',
      route: 'x',
    });
    expect(decision.outcome).toBe('allowed');
    expect(steps).toContain(
      'No dataset key covers "B" (there is neither a key for it nor a "*" key), so it needs no token.',
    );
  });

  it('never writes the token or the secret into a step', async () => {
    const token = sign({ datasets: ['Other'], email: 'a@b.org', ip: '203.0.113.7' });
    for (const route of ['termdb/samples', 'termdb/barchart']) {
      const { steps } = await explain(policy, { ...fromPortal, route }, token);
      for (const step of steps) {
        expect(step).not.toContain(token);
        expect(step).not.toContain(token.split('.')[2] as string);
        expect(step).not.toContain(secret);
      }
    }
  });
});

describe('explain with revocation lists', () => {
  const now = clock();
  const seconds = Math.floor(now / 1000);
  const token = () => sign({ datasets: ['TermdbTest'], email: 'ana@example.org', ip: '203.0.113.7' });

  it('says by what and when a token was revoked', async () => {
    const revocations = revocationsOf([
      {
        type: 'user',
        sub: subjectHash('ana@example.org'),
        before: seconds + 1,
        at: seconds,
        reason: 'password-change',
      },
    ]);
    const { decision, steps } = await explain(policy, { ...fromPortal, revocations }, token());
    expect(decision).toEqual({ outcome: 'refused', status: 401, code: 'token_revoked' });
    expect(steps).toContain(
      `The token was revoked by the revocation feed "portal": every token of this user issued before ${new Date((seconds + 1) * 1000).toISOString()} was withdrawn at ${new Date(seconds * 1000).toISOString()} (the user's password was changed).`,
    );
  });

  it('says when a feed is out of date and the server fails closed', async () => {
    const revocations = revocationsOf([], { unavailable: true, lastSyncAt: now - 120_000 });
    const { decision, steps } = await explain(policy, { ...fromPortal, revocations }, token());
    expect(decision).toEqual({ outcome: 'refused', status: 503, code: 'revocation_unavailable' });
    expect(steps).toContain(
      `The revocation feed "portal" has not answered since ${new Date(now - 120_000).toISOString()}, longer than its limit of 60 seconds, so the tokens it covers are refused until it answers (fail closed).`,
    );
  });

  it('says that a token is not revoked', async () => {
    const { decision, steps } = await explain(
      policy,
      { ...fromPortal, revocations: revocationsOf([]) },
      token(),
    );
    expect(decision.outcome).toBe('allowed');
    expect(steps).toContain(
      'The token is not revoked: the revocation feed "portal" (list 0) withdraws none of it.',
    );
  });
});
