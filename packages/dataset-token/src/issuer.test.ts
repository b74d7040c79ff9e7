import type { KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { forgeAsymmetric, forgeHmac, NOW, NOW_MS, rsaKeys } from '../test/helpers.js';
import type { IssuerEvent } from './discovery.js';
import type { TokenError } from './errors.js';
import { createIssuerVerifier, type IssuerVerifierOptions } from './issuer.js';
import { publicJwk } from './keys.js';

// A real OpenID Provider's two documents on 127.0.0.1: the discovery document and the JWKS it points at. Each test
// sets what they answer; `hang` makes the provider accept the connection and never answer.
let server: Server;
let issuer: string;
const answers: Record<string, { status: number; body: string } | 'hang'> = {};
const hits: Record<string, number> = {};

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '';
    hits[path] = (hits[path] ?? 0) + 1;
    const answer = answers[path];
    if (answer === 'hang') return;
    if (answer === undefined) return void res.writeHead(404).end();
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/idp`;
});

afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

const keys = rsaKeys();
const jwksPath = '/idp/jwks';

beforeEach(() => {
  for (const path of Object.keys(hits)) delete hits[path];
  discovery({ issuer, jwks_uri: `${issuer.replace('/idp', '')}${jwksPath}` });
  publish(keys.publicKey, 'k1');
});

function discovery(document: unknown): void {
  answers['/idp/.well-known/openid-configuration'] = { status: 200, body: JSON.stringify(document) };
}

function publish(key: KeyObject, kid: string): void {
  answers[jwksPath] = { status: 200, body: JSON.stringify({ keys: [publicJwk(key, 'RS256', kid)] }) };
}

function accessToken(overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
  return forgeAsymmetric(
    { alg: 'RS256', kid: 'k1', typ: 'at+jwt', ...header } as { alg: string },
    {
      iss: issuer,
      sub: 'ana',
      aud: 'https://viz.test',
      scope: 'openid pp:dataset:TermdbTest',
      iat: NOW - 10,
      exp: NOW + 300,
      ...overrides,
    },
    keys.privateKey,
  );
}

function verifier(options: Partial<IssuerVerifierOptions> = {}) {
  const events: IssuerEvent[] = [];
  const clock = { now: NOW_MS };
  const v = createIssuerVerifier({
    issuer,
    audience: 'https://viz.test',
    now: () => clock.now,
    keys: { background: false, timeoutMs: 500, onEvent: (e) => events.push(e) },
    ...options,
  });
  return { v, events, clock };
}

const refusal = (promise: Promise<unknown>): Promise<TokenError> =>
  promise.then(
    () => {
      throw new Error('accepted');
    },
    (e: unknown) => e as TokenError,
  );

describe('an access token from a trusted issuer', () => {
  it('verifies with the key its discovery document points at', async () => {
    const { v } = verifier();
    const verified = await v.verify(accessToken());
    expect(verified.iss).toBe(issuer);
    expect(verified.sub).toBe('ana');
    expect(verified.payload.scope).toBe('openid pp:dataset:TermdbTest');
  });

  it('is refused when it names another audience (a token for another service)', async () => {
    const error = await refusal(verifier().v.verify(accessToken({ aud: 'https://other-service.test' })));
    expect(error).toMatchObject({ code: 'token_invalid', claim: 'aud' });
  });

  it('is refused when its iss is another issuer, even signed with this issuer key', async () => {
    const error = await refusal(verifier().v.verify(accessToken({ iss: `${issuer}/other` })));
    expect(error).toMatchObject({ code: 'token_invalid', claim: 'iss', reason: 'claims' });
  });

  it('is refused when it carries the issuer name but is signed with other keys', async () => {
    const other = rsaKeys();
    const forged = forgeAsymmetric(
      { alg: 'RS256', kid: 'k1' } as { alg: string },
      { iss: issuer, sub: 'eve', aud: 'https://viz.test', iat: NOW, exp: NOW + 60 },
      other.privateKey,
    );
    expect(await refusal(verifier().v.verify(forged))).toMatchObject({ code: 'token_invalid' });
  });

  it('is refused when the algorithm is switched to HS256 with the public key as secret', async () => {
    const pem = keys.publicKey.export({ type: 'spki', format: 'pem' });
    const forged = forgeHmac(
      { alg: 'HS256', kid: 'k1' },
      { iss: issuer, sub: 'eve', aud: 'https://viz.test', iat: NOW, exp: NOW + 60 },
      pem,
    );
    expect(await refusal(verifier().v.verify(forged))).toMatchObject({ code: 'token_invalid', claim: 'alg' });
  });

  it('is refused when RS256 is switched to PS256, which is not configured', async () => {
    const error = await refusal(verifier().v.verify(accessToken({}, { alg: 'PS256' })));
    expect(error).toMatchObject({ code: 'token_invalid', claim: 'alg' });
  });

  it('is refused without exp, and when expired', async () => {
    const noExp = await refusal(verifier().v.verify(accessToken({ exp: undefined })));
    expect(noExp).toMatchObject({ code: 'token_invalid', claim: 'exp' });
    const expired = await refusal(verifier().v.verify(accessToken({ exp: NOW - 60, iat: NOW - 120 })));
    expect(expired).toMatchObject({ code: 'token_expired' });
  });

  it('is refused without sub', async () => {
    const error = await refusal(verifier().v.verify(accessToken({ sub: undefined })));
    expect(error).toMatchObject({ code: 'token_invalid', claim: 'sub' });
  });

  it('is refused when its typ says it is another kind of JWT (an ID token, a logout token)', async () => {
    const error = await refusal(verifier().v.verify(accessToken({}, { typ: 'logout+jwt' })));
    expect(error).toMatchObject({ code: 'token_invalid', claim: 'typ' });
  });

  it('refuses HS algorithms in the configuration', () => {
    expect(() => verifier({ algorithms: ['HS256'] })).toThrow(/cannot be used with an issuer/);
  });
});

describe('discovery', () => {
  it('refuses a document that names another issuer, reporting it with the issuer name', async () => {
    discovery({ issuer: 'https://impostor.test', jwks_uri: `${issuer}/jwks` });
    const { v, events } = verifier();
    const error = await refusal(v.verify(accessToken()));
    expect(error).toMatchObject({ code: 'token_invalid', claim: 'iss', reason: 'key' });
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'discovery_failed', issuer, cause: expect.stringMatching(/impostor/) }),
    );
    expect(v.keySetHealth()).toMatchObject({ status: 'unavailable', keys: 0 });
  });

  it('keeps the last good keys when the document turns malformed', async () => {
    const { v, events } = verifier();
    await v.ready();
    answers['/idp/.well-known/openid-configuration'] = { status: 200, body: '{"issuer": ' };
    await expect(v.ready()).rejects.toThrow(/not JSON/);
    expect(events.at(-1)).toMatchObject({ type: 'discovery_failed', issuer });
    await expect(v.verify(accessToken({ jti: 'after' }))).resolves.toBeDefined();
    expect(v.keySetHealth()).toMatchObject({ status: 'stale', keys: 1 });
  });

  it('keeps the last good keys when the JWKS turns malformed, and says which issuer it belongs to', async () => {
    const { v, events } = verifier();
    await v.ready();
    answers[jwksPath] = { status: 200, body: '{"keys": "none"}' };
    await expect(v.ready()).rejects.toThrow();
    expect(events.at(-1)).toMatchObject({ type: 'fetch_failed', issuer });
    await expect(v.verify(accessToken({ jti: 'after' }))).resolves.toBeDefined();
  });

  it('uses a moved jwks_uri only once its keys could be fetched', async () => {
    const { v } = verifier();
    await v.ready();
    discovery({ issuer, jwks_uri: `${issuer}/moved-jwks` });
    await expect(v.ready()).rejects.toThrow(/404/);
    await expect(v.verify(accessToken({ jti: 'still' }))).resolves.toBeDefined();
  });

  it('never holds a request longer than its timeout when the issuer does not answer', async () => {
    answers['/idp/.well-known/openid-configuration'] = 'hang';
    const { v, events } = verifier();
    const started = performance.now();
    const error = await refusal(v.verify(accessToken()));
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(error).toMatchObject({ code: 'token_invalid', claim: 'iss', reason: 'key' });
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'discovery_failed', cause: 'the request timed out' }),
    );
  });

  it('keeps answering from cached keys while the issuer is away, and an unknown kid is refused', async () => {
    const { v } = verifier();
    await v.ready();
    answers['/idp/.well-known/openid-configuration'] = 'hang';
    answers[jwksPath] = 'hang';
    await expect(v.verify(accessToken({ jti: 'cached-keys' }))).resolves.toBeDefined();
    const started = performance.now();
    const error = await refusal(v.verify(accessToken({}, { kid: 'unknown' })));
    expect(error).toMatchObject({ code: 'token_invalid', claim: 'kid', reason: 'key' });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('asks the discovery document at most once per cooldown while it keeps failing', async () => {
    answers['/idp/.well-known/openid-configuration'] = { status: 500, body: '' };
    const { v, clock } = verifier();
    for (let i = 0; i < 5; i++) await refusal(v.verify(accessToken({ jti: String(i) })));
    expect(hits['/idp/.well-known/openid-configuration']).toBe(1);
    clock.now += 5_000;
    await refusal(v.verify(accessToken({ jti: 'later' })));
    expect(hits['/idp/.well-known/openid-configuration']).toBe(2);
  });
});
