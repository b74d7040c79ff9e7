import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVerifier, generateKeyPair, type JsonWebKeySet } from '@pp-embed/dataset-token';
import { describe, expect, it } from 'vitest';
import { es256KeyDirectory, PUBLISH_AHEAD_SECONDS } from '../src/tokens/keys.js';
import { Browser, setup, USERS } from './helpers.js';
import { proxyTrust } from '@pp-embed/client-address';

interface TokenBody {
  token: string;
  expiresIn: number;
}

async function signedIn(setupResult: Awaited<ReturnType<typeof setup>>, email: string, address?: string) {
  const browser = new Browser(setupResult.app, 'http://localhost', address);
  await browser.signIn(email);
  return browser;
}

describe('POST /api/dataset-token', () => {
  it('answers 401 not_signed_in to a visitor without a session, and stores nothing', async () => {
    const { app } = await setup();
    const response = await new Browser(app).postApi('/api/dataset-token');
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: { code: 'not_signed_in', message: 'Sign in to get a dataset token.' },
    });
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('www-authenticate')).toBe('Session realm="pp-portal"');
  });

  it('mints an HS256 token the visualization server verifies, with the grant’s claims', async () => {
    const s = await setup();
    const browser = await signedIn(s, USERS.ben.email);
    const response = await browser.token('?dataset=PPDemo');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as TokenBody;
    expect(Object.keys(body).sort()).toEqual(['expiresIn', 'token']);
    expect(body.expiresIn).toBe(600);

    const verifier = createVerifier({ key: { secret: s.secret }, now: s.clock });
    const claims = await verifier.verify(body.token);
    expect(claims).toMatchObject({
      datasets: ['PPDemo'],
      email: 'ben@example.org',
      clientAuthResult: { role: 'analyst', cohorts: ['ABC'] },
      iat: s.clock() / 1000,
      exp: s.clock() / 1000 + 600,
    });
    expect(claims.ip).toBeUndefined();
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('says how long is left, not a second more, when minted mid-second', async () => {
    const s = await setup();
    const browser = await signedIn(s, USERS.ana.email);
    s.clock.advance(400);
    const body = (await (await browser.token()).json()) as TokenBody;
    expect(body.expiresIn).toBe(599);
    const claims = await createVerifier({ key: { secret: s.secret }, now: s.clock }).verify(body.token);
    expect(claims.exp * 1000 - s.clock()).toBeGreaterThanOrEqual(body.expiresIn * 1000);
  });

  it('mints an ES256 token that verifies through the published JWKS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portal-keys-'));
    writeFileSync(join(dir, '2026-01-01.pem'), generateKeyPair('ES256').privateKeyPem);
    const s = await setup({
      keys: (store, clock) => es256KeyDirectory({ dir, sql: store.sql, ttlSeconds: 600, clock }),
    });
    const jwksResponse = await new Browser(s.app).get('/.well-known/jwks.json');
    expect(jwksResponse.status).toBe(200);
    expect(jwksResponse.headers.get('content-type')).toBe('application/jwk-set+json');
    const jwks = (await jwksResponse.json()) as JsonWebKeySet;
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(JSON.stringify(jwks)).not.toContain('"d"');

    const browser = await signedIn(s, USERS.cleo.email);
    const body = (await (await browser.token('?dataset=TermdbTest')).json()) as TokenBody;
    const header = JSON.parse(Buffer.from(body.token.split('.')[0] as string, 'base64url').toString());
    expect(header).toMatchObject({ alg: 'ES256', kid: jwks.keys[0]?.kid });
    const claims = await createVerifier({ key: { jwks }, now: s.clock }).verify(body.token);
    expect(claims).toMatchObject({ datasets: ['TermdbTest'], email: 'cleo@example.org' });
  });

  it('pins the token to the client address with tokenIp "client"', async () => {
    const s = await setup({ config: { tokenIp: 'client' } });
    const verifier = createVerifier({ key: { secret: s.secret }, now: s.clock });
    const direct = await signedIn(s, USERS.ana.email, '::ffff:203.0.113.7');
    const claims = await verifier.verify(((await (await direct.token()).json()) as TokenBody).token);
    expect(claims.ip).toBe('203.0.113.7');
    // Without trustProxy a forwarded address is the client's own claim and is ignored.
    const spoof = await direct.postApi('/api/dataset-token?dataset=PPDemo', {
      'x-csrf-token': await direct.sessionCsrf(),
      'x-forwarded-for': '192.0.2.1',
    });
    expect((await verifier.verify(((await spoof.json()) as TokenBody).token)).ip).toBe('203.0.113.7');
  });

  it('takes the right-most untrusted X-Forwarded-For hop behind trusted proxies, as the server checks it', async () => {
    const s = await setup({ config: { tokenIp: 'client', proxies: proxyTrust(['10.0.0.0/8']) } });
    const browser = await signedIn(s, USERS.ana.email, '10.0.0.2');
    const verifier = createVerifier({ key: { secret: s.secret }, now: s.clock });
    const pinned = async (forwardedFor: string): Promise<string | undefined> => {
      const response = await browser.postApi('/api/dataset-token?dataset=PPDemo', {
        'x-csrf-token': await browser.sessionCsrf(),
        'x-forwarded-for': forwardedFor,
      });
      return (await verifier.verify(((await response.json()) as TokenBody).token)).ip;
    };
    // The client wrote 192.0.2.1 itself; a second proxy of ours (10.1.1.1) appended the real client.
    expect(await pinned('192.0.2.1, 198.51.100.23')).toBe('198.51.100.23');
    expect(await pinned('192.0.2.1, 198.51.100.23, 10.1.1.1')).toBe('198.51.100.23');
    // The server's rule, given the same hops, names the same client.
    expect(proxyTrust(['10.0.0.0/8']).clientAddress('10.0.0.2', '192.0.2.1, 198.51.100.23, 10.1.1.1')).toBe(
      '198.51.100.23',
    );
  });

  it('answers 403 no_grants to a user without grants', async () => {
    const s = await setup();
    const browser = await signedIn(s, USERS.dan.email);
    const response = await browser.token('');
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('no_grants');
  });

  it('answers 403 dataset_not_granted for a dataset outside the grants', async () => {
    const s = await setup();
    const browser = await signedIn(s, USERS.cleo.email);
    const response = await browser.token('?dataset=PPDemo');
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('dataset_not_granted');
  });

  it('never merges different role data: per-dataset tokens, or 400 dataset_required', async () => {
    const s = await setup();
    const verifier = createVerifier({ key: { secret: s.secret }, now: s.clock });
    const eve = await signedIn(s, USERS.eve.email);
    const merged = await eve.token('');
    expect(merged.status).toBe(400);
    expect(((await merged.json()) as { error: { code: string } }).error.code).toBe('dataset_required');
    const ppdemo = await verifier.verify(
      ((await (await eve.token('?dataset=PPDemo')).json()) as TokenBody).token,
    );
    expect(ppdemo).toMatchObject({ datasets: ['PPDemo'], clientAuthResult: { cohorts: ['XYZ'] } });
    const termdb = await verifier.verify(
      ((await (await eve.token('?dataset=TermdbTest')).json()) as TokenBody).token,
    );
    expect(termdb).toMatchObject({ datasets: ['TermdbTest'], clientAuthResult: { role: 'viewer' } });

    // Equal role data on every grant: one token may list every dataset.
    const finn = await signedIn(s, USERS.finn.email);
    const all = await verifier.verify(((await (await finn.token('')).json()) as TokenBody).token);
    expect(all).toMatchObject({ datasets: ['PPDemo', 'TermdbTest'], clientAuthResult: { role: 'analyst' } });
  });

  it('answers 400 to a dataset parameter that is no label, and 405 to other methods', async () => {
    const s = await setup();
    const browser = await signedIn(s, USERS.ana.email);
    expect((await browser.token('?dataset=..%2Fetc')).status).toBe(400);
    const get = await browser.get('/api/dataset-token');
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('never logs the token: at most the email and the datasets', async () => {
    const s = await setup();
    const browser = await signedIn(s, USERS.ana.email);
    const { token } = (await (await browser.token()).json()) as TokenBody;
    const logged = s.logs.join('\n');
    expect(logged).toContain('"token_minted"');
    for (const part of token.split('.')) expect(logged).not.toContain(part);
    expect(logged).not.toContain(browser.cookies.get('pp_session') as string);
  });

  it('keeps the session alive: the endpoint counts as activity', async () => {
    const s = await setup();
    const browser = await signedIn(s, USERS.ana.email);
    const csrf = await browser.sessionCsrf();
    for (let i = 0; i < 6; i++) {
      s.clock.advance(9 * 60_000);
      const response = await browser.postApi('/api/dataset-token?dataset=PPDemo', { 'x-csrf-token': csrf });
      expect(response.status).toBe(200);
    }
  });
});

describe('GET /.well-known/jwks.json', () => {
  it('publishes a rotated-out key until the last token it signed has expired, then drops it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portal-keys-'));
    const oldKid = (() => {
      const pair = generateKeyPair('ES256');
      writeFileSync(join(dir, '2026-01-01.pem'), pair.privateKeyPem);
      return pair.kid;
    })();
    const s = await setup({
      keys: (store, clock) => es256KeyDirectory({ dir, sql: store.sql, ttlSeconds: 600, clock }),
    });
    const kids = async () =>
      ((await (await new Browser(s.app).get('/.well-known/jwks.json')).json()) as JsonWebKeySet).keys.map(
        (k) => k.kid,
      );
    const browser = await signedIn(s, USERS.ana.email);
    const oldToken = ((await (await browser.token()).json()) as TokenBody).token;

    const next = generateKeyPair('ES256');
    writeFileSync(join(dir, '2026-06-01.pem'), next.privateKeyPem);
    // Published at the next rescan, a minute later; signing two minutes after that (the rotation rule).
    s.clock.advance(60_000);
    expect(await kids()).toEqual([oldKid, next.kid]);
    s.clock.advance(PUBLISH_AHEAD_SECONDS * 1000);
    const newToken = ((await (await browser.token()).json()) as TokenBody).token;
    const header = JSON.parse(Buffer.from(newToken.split('.')[0] ?? '', 'base64url').toString()) as {
      kid?: string;
    };
    expect(header.kid).toBe(next.kid);
    const jwks = (await (await new Browser(s.app).get('/.well-known/jwks.json')).json()) as JsonWebKeySet;
    const verifier = createVerifier({ key: { jwks }, now: s.clock });
    await expect(verifier.verify(oldToken)).resolves.toMatchObject({ email: USERS.ana.email });
    await expect(verifier.verify(newToken)).resolves.toMatchObject({ email: USERS.ana.email });

    s.clock.advance(660_000 - 1);
    expect(await kids()).toEqual([oldKid, next.kid]);
    s.clock.advance(1);
    expect(await kids()).toEqual([next.kid]);
  });

  it('is 404 under HS256: a shared secret is never published', async () => {
    const { app } = await setup();
    const response = await new Browser(app).get('/.well-known/jwks.json');
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });
});
