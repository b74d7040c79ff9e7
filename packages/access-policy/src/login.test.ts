import { describe, expect, it } from 'vitest';
import {
  BARCHART,
  CONFIG,
  clock,
  load,
  newSecret,
  NOW_MS,
  problemsOf,
  revocationsOf,
  SAMPLES,
  signerFor,
} from '../test/helpers.js';
import { decide, type RequestFacts } from './decide.js';
import { explain } from './explain.js';
import { hashPassword } from './password.js';

const PASSWORD = 'a dataset password for the test';
const passwordHash = await hashPassword(PASSWORD, { ln: 14, r: 8, p: 1 });
const tokenSecret = newSecret();
const PORTAL = 'https://portal.example.org';
const IP = '203.0.113.7';

function policy(extra: Record<string, unknown> = {}) {
  return load(
    {
      TermdbTest: {
        '*': { 'portal.example.org': { type: 'basic', passwordHash, tokenSecret, ...extra } },
      },
      Other: { '*': { 'portal.example.org': { type: 'basic', passwordHash, tokenSecret } } },
      Portal: { termdb: { 'portal.example.org': { type: 'jwt', secret: newSecret() } } },
    },
    { loginThrottle: { maxFailures: 3, windowSeconds: 60 } },
  );
}

function facts(overrides: Partial<RequestFacts> & { token?: string } = {}): RequestFacts {
  const { token, ...rest } = overrides;
  return {
    dataset: 'TermdbTest',
    route: SAMPLES,
    origin: PORTAL,
    clientIp: IP,
    now: NOW_MS,
    header: (name) => (name === 'x-ds-access-token' ? token : undefined),
    ...rest,
  };
}

async function issued(p: ReturnType<typeof policy>, overrides: Partial<RequestFacts> = {}): Promise<string> {
  const d = await decide(p, facts({ password: PASSWORD, ...overrides }));
  if (!d.allowed || d.issued === undefined) throw new Error(`expected a token, got ${JSON.stringify(d)}`);
  return d.issued.token;
}

describe('a "basic" entry (a dataset password)', () => {
  it('asks for a token like any other entry, and a discovery route answers without one', async () => {
    const p = policy();
    expect(await decide(p, facts())).toMatchObject({ allowed: false, status: 401, code: 'token_missing' });
    expect(await decide(p, facts({ route: CONFIG }))).toMatchObject({ allowed: true, granted: false });
  });

  it('issues a token for the right password, which then opens every route the entry guards', async () => {
    const p = policy();
    const d = await decide(p, facts({ password: PASSWORD }));
    expect(d).toMatchObject({ allowed: true, issued: { headerKey: 'x-ds-access-token', expiresIn: 3600 } });
    const token = await issued(p);
    for (const route of [SAMPLES, BARCHART]) {
      const used = await decide(p, facts({ route, token }));
      expect(used).toMatchObject({
        allowed: true,
        granted: true,
        claims: { datasets: ['TermdbTest'], ip: IP },
      });
    }
  });

  it('refuses a wrong password with password_invalid, and a password where no basic entry guards the route', async () => {
    const p = policy();
    expect(await decide(p, facts({ password: 'wrong' }))).toMatchObject({
      allowed: false,
      status: 401,
      code: 'password_invalid',
    });
    expect(await decide(p, facts({ dataset: 'Portal', password: PASSWORD }))).toMatchObject({
      allowed: false,
      status: 400,
      code: 'login_not_available',
    });
    expect(await decide(p, facts({ dataset: 'Uncovered', password: PASSWORD }))).toMatchObject({
      code: 'login_not_available',
    });
    expect(await decide(p, facts({ origin: 'https://evil.example', password: PASSWORD }))).toMatchObject({
      status: 403,
      code: 'embedder_not_allowed',
    });
  });

  it('limits wrong tries per address and dataset, and says when to try again', async () => {
    const p = policy();
    for (let i = 0; i < 3; i++) await decide(p, facts({ password: `wrong ${i}`, now: NOW_MS + i * 1000 }));
    const throttled = await decide(p, facts({ password: PASSWORD, now: NOW_MS + 3000 }));
    expect(throttled).toMatchObject({
      allowed: false,
      status: 429,
      code: 'too_many_attempts',
      retryAfter: 57,
    });
    // Another address, and another dataset from the same address, still get their tries.
    expect(await decide(p, facts({ password: PASSWORD, clientIp: '198.51.100.1' }))).toMatchObject({
      allowed: true,
    });
    expect(await decide(p, facts({ dataset: 'Other', password: PASSWORD }))).toMatchObject({ allowed: true });
    expect(await decide(p, facts({ password: PASSWORD, now: NOW_MS + 61_000 }))).toMatchObject({
      allowed: true,
    });
  });

  it('binds the token to the entry, the dataset and the address it was issued for', async () => {
    const p = policy();
    const token = await issued(p);
    expect(await decide(p, facts({ dataset: 'Other', token }))).toMatchObject({
      status: 401,
      code: 'token_invalid',
      reason: 'claims',
    });
    expect(await decide(p, facts({ token, clientIp: '198.51.100.1' }))).toMatchObject({
      code: 'ip_mismatch',
    });
    const loose = policy({ ipCheck: 'none' });
    const anywhere = await issued(loose);
    expect(await decide(loose, facts({ token: anywhere, clientIp: '198.51.100.1' }))).toMatchObject({
      allowed: true,
    });
  });

  it('accepts no token signed by the portal with the same secret, since its tokens name the entry in aud', async () => {
    const p = policy();
    const forged = signerFor(tokenSecret)({ datasets: ['TermdbTest'], email: 'mallory@example.org', ip: IP });
    expect(await decide(p, facts({ token: forged }))).toMatchObject({ status: 401, code: 'token_invalid' });
  });

  it("is held back by no portal's revocation feed, which lists only the tokens its portal minted", async () => {
    const portalSecret = newSecret();
    const p = load({
      TermdbTest: { '*': { 'portal.example.org': { type: 'basic', passwordHash, tokenSecret } } },
      Portal: { termdb: { 'portal.example.org': { type: 'jwt', secret: portalSecret } } },
    });
    const token = await issued(p);
    const portalToken = signerFor(portalSecret)({ datasets: ['Portal'], email: 'ana@example.org', ip: IP });
    const cutoff = {
      type: 'embedder',
      before: NOW_MS / 1000 + 1,
      at: NOW_MS / 1000,
      reason: 'admin',
    } as const;
    const feeds = [
      [revocationsOf([cutoff]), 'token_revoked'],
      [revocationsOf([], { unavailable: true }), 'revocation_unavailable'],
    ] as const;
    for (const [revocations, code] of feeds) {
      expect(await decide(p, facts({ token, revocations }))).toMatchObject({ allowed: true, granted: true });
      // The same feed does withdraw the portal's tokens for the same embedder.
      expect(await decide(p, facts({ dataset: 'Portal', token: portalToken, revocations }))).toMatchObject({
        allowed: false,
        code,
      });
    }
  });

  it('expires its tokens after maxTokenAge', async () => {
    const p = load(
      { TermdbTest: { '*': { '*': { type: 'basic', passwordHash, tokenSecret, maxTokenAge: 60 } } } },
      { now: clock, leewaySeconds: 0 },
    );
    const token = await issued(p);
    expect(await decide(p, facts({ token, now: NOW_MS + 59_000 }))).toMatchObject({ allowed: true });
    expect(await decide(p, facts({ token, now: NOW_MS + 61_000 }))).toMatchObject({ code: 'token_expired' });
  });

  it('is explained: what it needs, and a login step by step', async () => {
    const p = policy();
    const request = {
      dataset: 'TermdbTest',
      route: 'termdb/samples',
      origin: PORTAL,
      clientIp: IP,
      now: NOW_MS,
    };
    const needs = await explain(p, request);
    expect(needs.steps).toContain(
      'The entry\'s type is "basic": a dataset password. The widget asks for it and sends it to the login route (POST /termdb/login), which answers with a token this server signs for this entry (HS256 with the entry\'s tokenSecret, valid 3600 seconds); requests carry that token in the "x-ds-access-token" header, and it must name "TermdbTest" and have been issued to the client address (strict address check).',
    );
    const wrong = await explain(p, { ...request, password: 'wrong' });
    expect(wrong.steps.slice(-2)).toEqual([
      "The password does not match the entry's passwordHash.",
      'Decision: refused with password_invalid (401).',
    ]);
    const right = await explain(p, { ...request, password: PASSWORD });
    expect(right.steps.slice(-2)).toEqual([
      'The password matches the entry\'s passwordHash: the login route answers with a token for this entry, valid for 3600 seconds, to send in the "x-ds-access-token" header.',
      'Decision: allowed.',
    ]);
  });
});

describe('loading a "basic" entry', () => {
  it("refuses ProteinPaint's plaintext password with what to write instead", () => {
    for (const field of ['password', 'secret']) {
      expect(problemsOf({ T: { '*': { '*': { type: 'basic', [field]: 'plaintext' } } } })).toEqual([
        {
          path: `dsCredentials.T.*.*.${field}`,
          message:
            'ProteinPaint\'s plaintext dataset password: pp-embed keeps only its hash. Write "passwordHash" (`pp-token hash-password`) and "tokenSecret" (`pp-token secret`); `pp-token migrate-config` writes both',
        },
      ]);
    }
  });

  it('refuses a missing hash or token secret, a hash that is no hash and a weak token secret', () => {
    expect(problemsOf({ T: { '*': { '*': { type: 'basic', passwordHash } } } })).toEqual([
      {
        path: 'dsCredentials.T.*.*',
        message:
          'a "basic" entry needs "tokenSecret": the hash of the dataset password (`pp-token hash-password`) and the secret this server signs its tokens with (`pp-token secret`)',
      },
    ]);
    expect(
      problemsOf({
        T: { '*': { '*': { type: 'basic', passwordHash: 'hunter2', tokenSecret: 'short' } } },
      }).map((p) => p.path),
    ).toEqual(['dsCredentials.T.*.*.passwordHash']);
    expect(
      problemsOf({ T: { '*': { '*': { type: 'basic', passwordHash, tokenSecret: 'short' } } } }),
    ).toEqual([{ path: 'dsCredentials.T.*.*.tokenSecret', message: '5 bytes, HS256 needs at least 32' }]);
  });
});
