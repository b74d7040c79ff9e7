import { createHmac } from 'node:crypto';
import { authorizeHeadless, type IdpClient, type RunningIdp, startIdp } from '@pp-embed/test-idp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Institution, type InstitutionConfig } from '../src/auth/institution.js';
import { storeSecret } from '../src/db/store.js';
import { Browser, csrfField, frozenClock, setup } from './helpers.js';

// The university's IdP: a real OpenID Provider (oidc-provider) in its own process on 127.0.0.1. The portal under
// test is `app.request()` on http://localhost; its callback is registered at the IdP.
const DAC = 'https://dac.test/committee';
const CALLBACK = 'http://localhost/login/institution/callback';
const client: IdpClient = {
  client_id: 'portal',
  client_secret: 'an institution client secret of a decent length',
  redirect_uris: [CALLBACK],
};
let idp: RunningIdp;

beforeAll(async () => {
  idp = await startIdp({
    audience: 'http://127.0.0.1:3001',
    clients: [client],
    users: {
      ana: { email: 'ana@uni.test', groups: ['ppdemo-readers'] },
      vic: {
        email: 'vic@uni.test',
        visas: [{ value: 'phs000001.v1.p1', source: DAC, by: 'dac', expiresIn: 120 }],
      },
      olga: { email: 'olga@uni.test', visas: [{ value: 'phs000002.v1.p1', source: DAC, by: 'dac' }] },
      // An IdP that asserts the address of a portal account must not sign in as that account.
      mallory: { email: 'ana@example.org' },
    },
  });
}, 60_000);

afterAll(() => idp.stop());

function institutionConfig(issuer = idp.url): InstitutionConfig {
  return {
    issuer,
    name: 'University',
    clientId: client.client_id,
    clientSecret: client.client_secret,
    scope: 'openid email groups ga4gh_passport_v1',
    grants: [
      { claim: 'groups', value: 'ppdemo-readers', dataset: 'PPDemo', clientAuthResult: { role: 'reader' } },
    ],
    passports: {
      visaIssuers: [{ issuer: idp.url, jku: [idp.visaJku] }],
      visas: [
        { value: 'phs000001.v1.p1', source: [DAC], by: ['dac'], dataset: 'TermdbTest', cohorts: ['ABC'] },
        { value: 'phs000002.v1.p1', source: [DAC], dataset: 'Other' },
      ],
    },
  };
}

/** A portal whose clock is real time (the IdP's is), frozen at the start of the test. */
async function portal(issuer?: string) {
  const clock = frozenClock(Date.now());
  return setup({
    clock,
    institution: async (store, c) =>
      new Institution(institutionConfig(issuer), {
        stateKey: await storeSecret(store.sql, 'institution-state'),
        now: c,
      }),
  });
}

/** Signs `user` in at the IdP the way a browser would, and comes back to the portal. */
async function signInWithInstitution(browser: Browser, user: string, next = '/datasets/PPDemo') {
  const start = await browser.get(`/login/institution?next=${encodeURIComponent(next)}`);
  expect(start.status).toBe(303);
  const back = new URL(await authorizeHeadless(start.headers.get('location') ?? '', user, CALLBACK));
  return browser.get(`${back.pathname}${back.search}`);
}

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;

describe('sign in with your institution', () => {
  it('is offered on the sign-in page beside the password form', async () => {
    const { app } = await portal();
    const html = await (await new Browser(app).get('/login')).text();
    expect(html).toContain('Sign in with University');
    expect(html).toContain('name="password"');
  });

  it('sends the browser to the IdP with PKCE (S256), a state and a nonce', async () => {
    const { app } = await portal();
    const start = await new Browser(app).get('/login/institution');
    const url = new URL(start.headers.get('location') ?? '');
    expect(url.origin).toBe(idp.url);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(url.searchParams.get('state')).toBeTruthy();
    expect(url.searchParams.get('nonce')).toBeTruthy();
    expect(url.searchParams.get('redirect_uri')).toBe(CALLBACK);
  });

  it('lands on the portal signed in, with the dataset the IdP group grants, and mints the portal token', async () => {
    const { app, secret, logs } = await portal();
    const browser = new Browser(app);
    const back = await signInWithInstitution(browser, 'ana');
    expect(back.status, logs.join('\n')).toBe(303);
    expect(back.headers.get('location')).toBe('/datasets/PPDemo');
    const response = await browser.token('?dataset=PPDemo');
    expect(response.status).toBe(200);
    const { token } = (await response.json()) as { token: string };
    // The portal's own short token, signed with its key: the IdP's tokens never reach the widget.
    const [header, payload, signature] = token.split('.') as [string, string, string];
    expect(signature).toBe(createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url'));
    expect(claimsOf(token)).toMatchObject({
      datasets: ['PPDemo'],
      email: 'ana@uni.test',
      clientAuthResult: { role: 'reader' },
    });
  });

  it('keys the user by issuer and subject: a second sign-in is the same user', async () => {
    const { app, store } = await portal();
    await signInWithInstitution(new Browser(app), 'ana');
    await signInWithInstitution(new Browser(app), 'ana');
    expect((await store.users.list()).filter((u) => u.email === 'ana@uni.test')).toHaveLength(1);
  });

  it('never signs in as the portal account whose email the IdP asserts', async () => {
    const { app, store } = await portal();
    const browser = new Browser(app);
    await signInWithInstitution(browser, 'mallory', '/');
    const home = await (await browser.get('/')).text();
    expect(home).not.toContain('ana@example.org');
    expect(home).toContain(`mallory@${new URL(idp.url).host}`);
    expect(await store.users.find('ana@example.org')).toBeDefined();
  });

  it('grants what a visa maps to, cohorts included, and no token outlives the visa', async () => {
    const { app, clock } = await portal();
    const browser = new Browser(app);
    await signInWithInstitution(browser, 'vic', '/datasets/TermdbTest');
    const response = await browser.token('?dataset=TermdbTest');
    const { token } = (await response.json()) as { token: string };
    expect(claimsOf(token)).toMatchObject({
      datasets: ['TermdbTest'],
      clientAuthResult: { cohorts: ['ABC'] },
    });
    // The IdP signed the visa for 120 s before now; the portal's tokens live 600 s, but this one ends with it.
    const exp = claimsOf(token).exp as number;
    expect(exp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 120);
    clock.set(exp * 1000 + 1000);
    const after = await browser.token('?dataset=TermdbTest');
    expect(after.status).toBe(403);
  });

  it('grants nothing here from a visa for another dataset', async () => {
    const { app } = await portal();
    const browser = new Browser(app);
    await signInWithInstitution(browser, 'olga');
    const response = await browser.token('?dataset=PPDemo');
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: 'dataset_not_granted' } });
  });

  it("makes API tokens from the account's own grants: what the institution granted lasts only the session", async () => {
    const { app, store, clock } = await portal();
    const browser = new Browser(app);
    await signInWithInstitution(browser, 'ana');
    const page = await (await browser.get('/tokens')).text();
    expect(page).toMatch(/What your institution granted at sign-in \(PPDemo\) lasts only as\s+long/);
    expect(page).toContain('Your account has no dataset grants');
    const form = new URLSearchParams({
      csrf: csrfField(page, '/logout'),
      name: 'pipeline',
      access: 'aggregated',
      days: '90',
    });
    form.append('datasets', 'PPDemo');
    const made = await browser.request('/tokens', {
      method: 'POST',
      body: form,
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: browser.origin },
    });
    expect(made.status).toBe(400);
    expect(await made.text()).toContain('You have no grant for PPDemo.');
    // A grant of the account's own is what a token carries.
    const user = (await store.users.list()).find((u) => u.email === 'ana@uni.test');
    await store.grants.set(user?.id ?? 0, 'PPDemo', {}, clock(), 'admin@example.org');
    const { token } = await browser.createApiToken({ access: 'aggregated' });
    expect(token).toMatch(/^ppat_/);
  });

  it('refuses a return that was not started in this browser, and starts no session', async () => {
    const { app } = await portal();
    const start = await new Browser(app).get('/login/institution');
    const back = new URL(await authorizeHeadless(start.headers.get('location') ?? '', 'ana', CALLBACK));
    const other = new Browser(app);
    const response = await other.get(`${back.pathname}${back.search}`);
    expect(response.status).toBe(400);
    expect(other.cookies.has('pp_session')).toBe(false);
  });

  it('refuses a return whose state was changed', async () => {
    const { app } = await portal();
    const browser = new Browser(app);
    const start = await browser.get('/login/institution');
    const back = new URL(await authorizeHeadless(start.headers.get('location') ?? '', 'ana', CALLBACK));
    back.searchParams.set('state', 'forged');
    expect((await browser.get(`${back.pathname}${back.search}`)).status).toBe(400);
    expect(browser.cookies.has('pp_session')).toBe(false);
  });

  it('says so when the IdP cannot be reached, and password sign-in still works', async () => {
    const { app } = await portal('http://127.0.0.1:9');
    const browser = new Browser(app);
    const response = await browser.get('/login/institution');
    expect(response.status).toBe(502);
    expect(await response.text()).toContain('University cannot be reached');
    expect((await browser.signIn('ana@example.org')).status).toBe(303);
  });
});
