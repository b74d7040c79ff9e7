import { createVerifier } from '@pp-embed/dataset-token';
import { describe, expect, it } from 'vitest';
import { Browser, csrfField, exchange, setup, type Setup, USERS } from './helpers.js';
import { STORE_KIND } from './store.js';

interface Exchanged {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
}

async function signedIn(s: Setup, email: string): Promise<Browser> {
  const browser = new Browser(s.app);
  await browser.signIn(email);
  return browser;
}

/** A token made on the page by `email`, with the page's defaults and any fields given. */
async function made(s: Setup, email: string, fields: Parameters<Browser['createApiToken']>[0] = {}) {
  const { token } = await (await signedIn(s, email)).createApiToken(fields);
  if (token === undefined) throw new Error('no token was made');
  return token;
}

const grant = (token: string, extra: Record<string, string> = {}) => ({
  grant_type: 'refresh_token',
  refresh_token: token,
  ...extra,
});

describe(`personal API tokens: the owner's page (${STORE_KIND})`, () => {
  it('sends a visitor to sign in first', async () => {
    const { app } = await setup();
    const response = await new Browser(app).get('/tokens');
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/login?next=%2Ftokens');
  });

  it('makes a token within the grants, shows it once, never cached, and lists it without it afterwards', async () => {
    const s = await setup();
    const browser = await signedIn(s, USERS.ana.email);
    const { response, html, token } = await browser.createApiToken({ name: 'cluster', access: 'aggregated' });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(token).toMatch(/^ppat_/);
    expect(html).toContain('It is shown this once');
    const list = await (await browser.get('/tokens')).text();
    expect(list).not.toContain(token);
    expect(list).toContain('cluster');
    expect(list).toContain('PPDemo · aggregated only');
    expect(list).toContain('<td>never</td>');
    expect(list).toContain('2027-02-21'); // 90 days after the frozen clock
    expect(s.logs.join('\n')).not.toContain(token);
    expect(s.logs.join('\n')).toContain('"event":"api_token_created"');
  });

  it('refuses a dataset outside the grants, a name, class or expiry that does not fit, and a form without CSRF', async () => {
    const s = await setup();
    const browser = await signedIn(s, USERS.ana.email);
    for (const [fields, sentence] of [
      [{ datasets: ['TermdbTest'] }, 'You have no grant for TermdbTest.'],
      [{ datasets: [] }, 'Choose at least one of your datasets.'],
      [{ name: '' }, 'Give the token a name'],
      [{ access: 'admin' }, 'Choose aggregated data'],
      [{ days: '400' }, 'A token lasts 1 to 365 days.'],
      [{ days: '-1' }, 'A token lasts 1 to 365 days.'],
    ] as const) {
      const { response, html, token } = await browser.createApiToken(fields as never);
      expect(response.status, JSON.stringify(fields)).toBe(400);
      expect(html).toContain(sentence);
      expect(token).toBeUndefined();
    }
    const forged = await browser.request('/tokens', {
      method: 'POST',
      body: new URLSearchParams({
        csrf: 'x'.repeat(43),
        name: 'n',
        datasets: 'PPDemo',
        access: 'aggregated',
        days: '1',
      }),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: browser.origin,
        'sec-fetch-site': 'same-origin',
      },
    });
    expect(forged.status).toBe(403);
    expect(await s.store.apiTokens.forUser((await s.store.users.find(USERS.ana.email))!.id)).toEqual([]);
  });

  it('revokes its own token, which then exchanges no more, and no one else’s', async () => {
    const s = await setup();
    const ana = await signedIn(s, USERS.ana.email);
    const { token } = await ana.createApiToken();
    const id = token!.slice(5, 17);
    const ben = await signedIn(s, USERS.ben.email);
    const bensPage = await (await ben.get('/tokens')).text();
    const stolen = await ben.postForm('/tokens/revoke', { csrf: csrfField(bensPage, '/tokens'), id });
    expect(stolen.status).toBe(404);
    expect((await exchange(s.app, grant(token!))).status).toBe(200);
    const page = await (await ana.get('/tokens')).text();
    const revoked = await ana.postForm('/tokens/revoke', { csrf: csrfField(page, '/tokens/revoke'), id });
    expect([revoked.status, revoked.headers.get('location')]).toEqual([303, '/tokens?revoked=1']);
    expect(await (await ana.get('/tokens')).text()).toContain('revoked 2026-11-23 12:00 by ana@example.org');
    expect(await (await exchange(s.app, grant(token!))).json()).toMatchObject({ error: 'invalid_grant' });
  });
});

describe(`the exchange, POST /oauth/token (${STORE_KIND})`, () => {
  it('answers a script’s dataset token: the owner’s grant, for scripts, with the API token’s id and classes', async () => {
    const s = await setup();
    const token = await made(s, USERS.ben.email, { access: 'aggregated' });
    const response = await exchange(s.app, grant(token, { client_id: 'pp-scripts' }));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('pragma')).toBe('no-cache');
    const body = (await response.json()) as Exchanged;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'dataset:PPDemo aggregated' });
    const claims = await createVerifier({ key: { secret: s.secret }, now: s.clock }).verify(
      body.access_token,
    );
    expect(claims).toMatchObject({
      datasets: ['PPDemo'],
      email: 'ben@example.org',
      client: 'script',
      apiTokenId: token.slice(5, 17),
      routeClasses: ['aggregated'],
      clientAuthResult: { role: 'analyst', cohorts: ['ABC'] },
    });
    expect(claims.ip).toBeUndefined();
    expect(s.logs.join('\n')).not.toContain(token);
    expect(s.logs.join('\n')).not.toContain(body.access_token);
  });

  it('carries the grants of this moment, not those of the day the token was made', async () => {
    const s = await setup();
    const token = await made(s, USERS.ana.email);
    const ana = (await s.store.users.find(USERS.ana.email))!;
    await s.store.grants.set(ana.id, 'PPDemo', { role: 'viewer', cohorts: ['XYZ'] }, s.clock());
    s.clock.advance(1000);
    const body = (await (await exchange(s.app, grant(token))).json()) as Exchanged;
    const claims = await createVerifier({ key: { secret: s.secret }, now: s.clock }).verify(
      body.access_token,
    );
    expect(claims.clientAuthResult).toEqual({ role: 'viewer', cohorts: ['XYZ'] });
    await s.store.grants.remove(ana.id, 'PPDemo', s.clock());
    expect(await (await exchange(s.app, grant(token))).json()).toEqual({
      error: 'invalid_scope',
      error_description: "The token's owner has no grant for the datasets asked for now.",
    });
  });

  it('narrows to the scope asked for, and refuses a scope beyond the API token’s', async () => {
    const s = await setup();
    const token = await made(s, USERS.finn.email, { datasets: ['PPDemo', 'TermdbTest'] });
    const narrow = (await (
      await exchange(s.app, grant(token, { scope: 'dataset:TermdbTest aggregated' }))
    ).json()) as Exchanged;
    expect(narrow.scope).toBe('dataset:TermdbTest aggregated');
    const claims = await createVerifier({ key: { secret: s.secret }, now: s.clock }).verify(
      narrow.access_token,
    );
    expect(claims).toMatchObject({ datasets: ['TermdbTest'], routeClasses: ['aggregated'] });
    // Finn's grants agree, so one token may list both.
    expect(((await (await exchange(s.app, grant(token))).json()) as Exchanged).scope).toBe(
      'dataset:PPDemo dataset:TermdbTest aggregated sample-level',
    );
    const aggregatedOnly = await made(s, USERS.ana.email, { access: 'aggregated', name: 'agg' });
    for (const [t, scope] of [
      [token, 'dataset:Other'],
      [aggregatedOnly, 'sample-level'],
      [token, 'admin'],
    ] as const) {
      const response = await exchange(s.app, grant(t, { scope }));
      expect(response.status, scope).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe('invalid_scope');
    }
  });

  it('asks for one dataset at a time when the grants differ, as the page’s endpoint does', async () => {
    const s = await setup();
    const token = await made(s, USERS.eve.email, { datasets: ['PPDemo', 'TermdbTest'] });
    expect(await (await exchange(s.app, grant(token))).json()).toEqual({
      error: 'invalid_scope',
      error_description: 'Your grants differ per dataset: ask for one, e.g. scope=dataset:PPDemo.',
    });
    expect((await exchange(s.app, grant(token, { scope: 'dataset:PPDemo' }))).status).toBe(200);
  });

  it('pins the dataset token to the address that asked, when the API token says so', async () => {
    const s = await setup();
    const token = await made(s, USERS.ana.email, { pinned: true });
    const body = (await (await exchange(s.app, grant(token), { address: '192.0.2.44' })).json()) as Exchanged;
    const claims = await createVerifier({ key: { secret: s.secret }, now: s.clock }).verify(
      body.access_token,
    );
    expect(claims.ip).toBe('192.0.2.44');
  });

  it('answers a malformed, unknown, mistyped, expired or revoked token alike: invalid_grant, nothing more', async () => {
    const s = await setup();
    const live = await made(s, USERS.ana.email, { name: 'live' });
    const expiring = await made(s, USERS.ana.email, { name: 'expiring', days: '1' });
    const revoked = await made(s, USERS.ana.email, { name: 'revoked' });
    await s.store.apiTokens.revoke(revoked.slice(5, 17), { now: s.clock(), actor: 'test' });
    s.clock.advance(86_400_000);
    const mistyped = `${live.slice(0, 30)}${live[30] === 'a' ? 'b' : 'a'}${live.slice(31)}`;
    const answers = [];
    for (const text of [
      'ppat_garbage',
      mistyped,
      `ppat_${'0'.repeat(61)}`,
      expiring,
      revoked,
      'x'.repeat(4000),
    ]) {
      const response = await exchange(s.app, grant(text));
      answers.push({
        status: response.status,
        body: await response.text(),
        headers: [...response.headers.entries()].filter(([name]) => name !== 'date'),
      });
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]).toMatchObject({
      status: 400,
      body: JSON.stringify({ error: 'invalid_grant', error_description: 'The API token is not valid.' }),
    });
    expect((await exchange(s.app, grant(live))).status).toBe(200);
  });

  it.each([
    [
      'a JSON body',
      { 'content-type': 'application/json' },
      '{"grant_type":"refresh_token"}',
      400,
      'invalid_request',
    ],
    ['no grant_type', {}, 'refresh_token=x', 400, 'invalid_request'],
    [
      'a parameter twice',
      {},
      'grant_type=refresh_token&grant_type=refresh_token&refresh_token=x',
      400,
      'invalid_request',
    ],
    ['no refresh_token', {}, 'grant_type=refresh_token', 400, 'invalid_request'],
    ['the password grant', {}, 'grant_type=password&username=a&password=b', 400, 'unsupported_grant_type'],
    ['client credentials', {}, 'grant_type=client_credentials', 400, 'unsupported_grant_type'],
    [
      'Basic client authentication',
      { authorization: 'Basic YTpi' },
      'grant_type=refresh_token&refresh_token=x',
      401,
      'invalid_client',
    ],
    [
      'a client secret',
      {},
      'grant_type=refresh_token&refresh_token=x&client_secret=s',
      401,
      'invalid_client',
    ],
    [
      'another client_id',
      {},
      'grant_type=refresh_token&refresh_token=x&client_id=web',
      401,
      'invalid_client',
    ],
  ])('refuses %s with RFC 6749 §5.2’s %s', async (_name, headers, body, status, error) => {
    const { app } = await setup();
    const response = await app.request('http://localhost/oauth/token', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ error, error_description: expect.any(String) });
    expect(response.headers.get('cache-control')).toBe('no-store');
    if (status === 401) expect(response.headers.get('www-authenticate')).toBe('Basic realm="pp-portal"');
  });

  it('refuses parameters in the URL before reading them: they would be logged and kept on the way', async () => {
    const s = await setup();
    const token = await made(s, USERS.ana.email);
    const response = await s.app.request(`http://localhost/oauth/token?refresh_token=${token}`, {
      method: 'POST',
      body: new URLSearchParams(grant(token)),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'invalid_request',
      error_description: 'Send the parameters in the body, never in the URL.',
    });
    expect(s.logs.join('\n')).not.toContain(token);
  });

  it('answers another method 405 with Allow, and a page on another site in the OAuth shape too', async () => {
    const s = await setup();
    const get = await s.app.request('http://localhost/oauth/token');
    expect([get.status, get.headers.get('allow')]).toEqual([405, 'POST']);
    const token = await made(s, USERS.ana.email);
    const crossSite = await exchange(s.app, grant(token), {
      headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.status).toBe(200);
    expect(crossSite.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('limits failed exchanges per address, across replicas on one store, before any token is looked at', async () => {
    const limits = {
      perAddress: { limit: 3, windowMs: 60_000 },
      perToken: { limit: 100, windowMs: 60_000 },
    };
    const s = await setup({ exchangeLimits: limits });
    const replica = await setup({ exchangeLimits: limits, store: s.store, clock: s.clock });
    const token = await made(s, USERS.ana.email);
    for (const app of [s.app, replica.app, s.app]) {
      expect((await exchange(app, grant('ppat_nothing'), { address: '203.0.113.66' })).status).toBe(400);
    }
    const throttled = await exchange(replica.app, grant(token), { address: '203.0.113.66' });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('60');
    expect(await throttled.json()).toMatchObject({ error: 'slow_down' });
    // Another address is not held back; a minute later neither is this one.
    expect((await exchange(s.app, grant(token), { address: '203.0.113.67' })).status).toBe(200);
    s.clock.advance(60_001);
    expect((await exchange(s.app, grant(token), { address: '203.0.113.66' })).status).toBe(200);
  });

  it('limits exchanges per API token, counting only those its secret proved', async () => {
    const s = await setup({
      exchangeLimits: {
        perAddress: { limit: 100, windowMs: 60_000 },
        perToken: { limit: 2, windowMs: 60_000 },
      },
    });
    const token = await made(s, USERS.ana.email);
    const other = await made(s, USERS.ana.email, { name: 'other' });
    // Someone who knows the id but not the secret cannot use up the token's allowance.
    const guessed = `${token.slice(0, 17)}${other.slice(17)}`;
    for (let i = 0; i < 5; i++) await exchange(s.app, grant(guessed), { address: `198.51.100.${i}` });
    expect((await exchange(s.app, grant(token))).status).toBe(200);
    expect((await exchange(s.app, grant(token))).status).toBe(200);
    const third = await exchange(s.app, grant(token));
    expect([third.status, ((await third.json()) as { error: string }).error]).toEqual([429, 'slow_down']);
    expect((await exchange(s.app, grant(other))).status).toBe(200);
  });

  it('withdraws the dataset tokens of a revoked API token in the feed, by their jti', async () => {
    const s = await setup();
    const token = await made(s, USERS.ana.email);
    const { access_token } = (await (await exchange(s.app, grant(token))).json()) as Exchanged;
    const { jti } = await createVerifier({ key: { secret: s.secret }, now: s.clock }).verify(access_token);
    await s.store.apiTokens.revoke(token.slice(5, 17), { now: s.clock(), actor: 'admin@example.org' });
    const feed = await s.store.revocations.snapshot(s.clock());
    expect(feed.revocations).toContainEqual(
      expect.objectContaining({ type: 'token', jti, reason: 'api-token-revoked' }),
    );
  });
});

describe(`what a token may access, GET /api/access (${STORE_KIND})`, () => {
  const access = (s: Setup, authorization?: string) =>
    s.app.request('http://localhost/api/access', {
      headers: authorization === undefined ? {} : { authorization },
    });

  it('tells the datasets, route classes and cohorts the token opens now, and until when', async () => {
    const s = await setup();
    const token = await made(s, USERS.finn.email, {
      datasets: ['PPDemo', 'TermdbTest'],
      access: 'aggregated',
    });
    const finn = (await s.store.users.find(USERS.finn.email))!;
    await s.store.grants.set(finn.id, 'PPDemo', { role: 'analyst', cohorts: ['ABC'] }, s.clock());
    await s.store.grants.remove(finn.id, 'TermdbTest', s.clock());
    const response = await access(s, `Bearer ${token}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({
      token: {
        id: token.slice(5, 17),
        name: 'script',
        createdAt: '2026-11-23T12:00:00.000Z',
        expiresAt: '2027-02-21T12:00:00.000Z',
        pinned: false,
      },
      user: 'finn@example.org',
      datasets: [{ dataset: 'PPDemo', routeClasses: ['aggregated'], cohorts: ['ABC'] }],
      notGranted: ['TermdbTest'],
    });
  });

  it('refuses a missing or bad token with 401 and a Bearer challenge, the same for every bad token', async () => {
    const s = await setup();
    const missing = await access(s);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="pp-portal"');
    const bodies = new Set<string>();
    for (const text of ['Bearer ppat_x', `Bearer ppat_${'0'.repeat(61)}`, 'Basic YTpi']) {
      const response = await access(s, text);
      expect(response.status).toBe(401);
      if (text.startsWith('Bearer')) {
        expect(response.headers.get('www-authenticate')).toBe(
          'Bearer realm="pp-portal", error="invalid_token"',
        );
        bodies.add(await response.text());
      }
    }
    expect([...bodies]).toEqual([
      JSON.stringify({ error: { code: 'invalid_token', message: 'The API token is not valid.' } }),
    ]);
  });
});

describe(`the administrator and personal API tokens (${STORE_KIND})`, () => {
  it('lists everyone’s tokens and revokes any, withdrawing what they were exchanged for; others may not', async () => {
    const s = await setup();
    const token = await made(s, USERS.ben.email);
    const { access_token } = (await (await exchange(s.app, grant(token))).json()) as Exchanged;
    await s.store.users.setAdmin(USERS.dan.email, true);
    const admin = await signedIn(s, USERS.dan.email);
    const page = await (await admin.get('/admin')).text();
    expect(page).toContain('ben@example.org');
    expect(page).toContain(token.slice(5, 17));
    expect(page).not.toContain(token);
    const cleo = await signedIn(s, USERS.cleo.email);
    const refused = await cleo.postForm('/admin/api-tokens/revoke', { csrf: 'x', id: token.slice(5, 17) });
    expect(refused.status).toBe(403);
    const done = await admin.postForm('/admin/api-tokens/revoke', {
      csrf: csrfField(page, '/admin/api-tokens/revoke'),
      id: token.slice(5, 17),
    });
    expect([done.status, done.headers.get('location')]).toEqual([303, '/admin?done=1']);
    expect(await (await exchange(s.app, grant(token))).json()).toMatchObject({ error: 'invalid_grant' });
    const { jti } = await createVerifier({ key: { secret: s.secret }, now: s.clock }).verify(access_token);
    const recorded = await s.store.revocations.recent(5);
    expect(recorded[0]).toMatchObject({ actor: 'dan@example.org', revocation: { type: 'token', jti } });
  });
});
