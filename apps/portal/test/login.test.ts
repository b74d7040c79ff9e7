import { describe, expect, it } from 'vitest';
import { WRONG_CREDENTIALS } from '../src/routes/auth.js';
import { Browser, csrfField, parseSetCookie, PASSWORD, setup, USERS } from './helpers.js';
import { proxyTrust } from '@pp-embed/client-address';

const errorOf = (html: string) => /<p class="error" role="alert">([^<]*)<\/p>/.exec(html)?.[1];

describe('sign-in', () => {
  it('signs in with the right password and sets a session cookie', async () => {
    const { app, logs } = await setup();
    const browser = new Browser(app);
    const response = await browser.signIn(USERS.ana.email);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/');
    expect(browser.cookies.has('pp_session')).toBe(true);
    const home = await (await browser.get('/')).text();
    expect(home).toContain('ana@example.org');
    expect(home).toContain('Sign out');
    expect(logs.some((l) => l.includes('"login_succeeded"'))).toBe(true);
  });

  it('accepts the email in any case and with spaces around it', async () => {
    const { app } = await setup();
    const response = await new Browser(app).signIn('  Ana@Example.ORG ');
    expect(response.status).toBe(303);
  });

  it('answers a wrong password and an unknown email with the same sentence', async () => {
    const { app } = await setup();
    const wrong = await new Browser(app).signIn(USERS.ana.email, 'not the password at all');
    const unknown = await new Browser(app).signIn('nobody@example.org', PASSWORD);
    const empty = await new Browser(app).signIn(USERS.ana.email, '');
    for (const response of [wrong, unknown, empty]) expect(response.status).toBe(401);
    const messages = await Promise.all([wrong, unknown, empty].map(async (r) => errorOf(await r.text())));
    expect(messages).toEqual([WRONG_CREDENTIALS, WRONG_CREDENTIALS, WRONG_CREDENTIALS]);
    expect(WRONG_CREDENTIALS).toBe('Wrong email or password.');
  });

  it('sets no session after a failed sign-in', async () => {
    const { app } = await setup();
    const browser = new Browser(app);
    await browser.signIn(USERS.ana.email, 'not the password at all');
    expect(browser.cookies.has('pp_session')).toBe(false);
    expect((await browser.get('/')).status).toBe(200);
    expect(await (await browser.get('/')).text()).not.toContain('Sign out');
  });

  it('goes back to the page that asked for sign-in, and never to another site', async () => {
    const { app } = await setup();
    const go = async (next: string) => {
      const browser = new Browser(app);
      const form = await (await browser.get(`/login?next=${encodeURIComponent(next)}`)).text();
      const response = await browser.postForm('/login', {
        csrf: csrfField(form),
        email: USERS.ana.email,
        password: PASSWORD,
        next,
      });
      return response.headers.get('location');
    };
    expect(await go('/datasets/PPDemo')).toBe('/datasets/PPDemo');
    for (const evil of [
      '//evil.example/',
      'https://evil.example/',
      '/\\evil.example',
      'javascript:alert(1)',
    ]) {
      expect(await go(evil)).toBe('/');
    }
  });

  it('rotates the session id at sign-in: a planted or earlier id is not the new session', async () => {
    const { app, store, clock } = await setup();
    // The attacker's own valid session id, planted in the victim's browser before sign-in.
    const attacker = new Browser(app);
    await attacker.signIn(USERS.dan.email);
    const planted = attacker.cookies.get('pp_session') as string;

    const victim = new Browser(app);
    victim.cookies.set('pp_session', planted);
    await victim.signIn(USERS.ana.email);
    const fresh = victim.cookies.get('pp_session') as string;
    expect(fresh).not.toBe(planted);
    expect(await store.sessions.find(planted, clock())).toBeUndefined();
    expect((await store.sessions.find(fresh, clock()))?.email).toBe(USERS.ana.email);

    // Signing in again from a signed-in browser also gives a new id.
    await victim.signIn(USERS.ana.email);
    expect(victim.cookies.get('pp_session')).not.toBe(fresh);
    expect(await store.sessions.find(fresh, clock())).toBeUndefined();
  });

  it('sets httpOnly, SameSite=Lax, Path=/ cookies without Secure over http', async () => {
    const { app } = await setup();
    const browser = new Browser(app);
    await browser.get('/login');
    const signIn = parseSetCookie(browser.lastSetCookies[0] as string);
    expect(signIn.name).toBe('pp_signin');
    await browser.signIn(USERS.ana.email);
    const session = browser.lastSetCookies.map(parseSetCookie).find((c) => c.name === 'pp_session');
    expect(session).toBeDefined();
    const a = session!.attributes;
    expect(a.has('httponly')).toBe(true);
    expect(a.get('samesite')).toBe('Lax');
    expect(a.get('path')).toBe('/');
    expect(a.has('secure')).toBe(false);
    expect(a.has('domain')).toBe(false);
    expect(Number(a.get('max-age'))).toBe(12 * 3600);
  });

  it('uses __Host- cookies with Secure under https', async () => {
    const { app } = await setup({ config: { publicUrl: 'https://portal.example.org' } });
    const browser = new Browser(app, 'https://portal.example.org');
    await browser.signIn(USERS.ana.email);
    const session = browser.lastSetCookies.map(parseSetCookie).find((c) => c.name === '__Host-pp_session');
    expect(session).toBeDefined();
    expect(session!.attributes.has('secure')).toBe(true);
    expect(session!.attributes.get('path')).toBe('/');
    expect(session!.attributes.has('httponly')).toBe(true);
    expect(await (await browser.get('/')).text()).toContain('ana@example.org');
    // The unprefixed name is not read under https: a subdomain could have set it.
    const planted = new Browser(app, 'https://portal.example.org');
    planted.cookies.set('pp_session', browser.cookies.get('__Host-pp_session') as string);
    expect(await (await planted.get('/')).text()).not.toContain('ana@example.org');
  });

  it('trusts X-Forwarded-Proto for Secure cookies only behind a trusted proxy', async () => {
    const proxied = await setup({ config: { proxies: proxyTrust(['203.0.113.0/24']) } });
    const browser = new Browser(proxied.app);
    await browser.get('/login', { 'x-forwarded-proto': 'https' });
    expect(browser.lastSetCookies[0]).toMatch(/^__Host-pp_signin=.*; Secure/);
    const direct = await setup();
    const other = new Browser(direct.app);
    await other.get('/login', { 'x-forwarded-proto': 'https' });
    expect(other.lastSetCookies[0]).toMatch(/^pp_signin=/);
  });

  it('ends the session after the idle timeout and after its absolute lifetime', async () => {
    const { app, clock } = await setup();
    const browser = new Browser(app);
    await browser.signIn(USERS.ana.email);
    clock.advance(29 * 60_000);
    expect(await (await browser.get('/')).text()).toContain('Sign out');
    clock.advance(29 * 60_000);
    expect(await (await browser.get('/')).text()).toContain('Sign out');
    clock.advance(30 * 60_000);
    expect(await (await browser.get('/')).text()).not.toContain('Sign out');
    expect(browser.cookies.has('pp_session')).toBe(false);

    await browser.signIn(USERS.ana.email);
    for (let i = 0; i < 25; i++) {
      clock.advance(29 * 60_000);
      await browser.get('/');
    }
    expect(await (await browser.get('/')).text()).not.toContain('Sign out');
  });

  it('signs out with the CSRF token, and the old session id is dead', async () => {
    const { app, store, clock } = await setup();
    const browser = new Browser(app);
    await browser.signIn(USERS.ana.email);
    const id = browser.cookies.get('pp_session') as string;
    const home = await (await browser.get('/')).text();
    const response = await browser.postForm('/logout', { csrf: csrfField(home, '/logout') });
    expect(response.status).toBe(303);
    expect(browser.cookies.has('pp_session')).toBe(false);
    expect(await store.sessions.find(id, clock())).toBeUndefined();
  });
});

describe('sign-in rate limits', () => {
  it('stops guessing on one account after 5 failures, even with the right password, for 15 minutes', async () => {
    const { app, clock } = await setup();
    const attacker = new Browser(app, 'http://localhost', '198.51.100.1');
    for (let i = 0; i < 5; i++) {
      expect((await attacker.signIn(USERS.ana.email, `guess number ${i}`)).status).toBe(401);
    }
    const blocked = await attacker.signIn(USERS.ana.email, PASSWORD);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBe(15 * 60);
    expect(errorOf(await blocked.text())).toBe('Too many sign-in attempts. Please try again in 15 minutes.');
    // The limit is the account's, wherever the attempt comes from ...
    const elsewhere = new Browser(app, 'http://localhost', '192.0.2.50');
    expect((await elsewhere.signIn(USERS.ana.email, PASSWORD)).status).toBe(429);
    // ... and does not touch other accounts.
    expect((await elsewhere.signIn(USERS.ben.email, PASSWORD)).status).toBe(303);
    // The window slides: once the first failure is 15 minutes old, one more attempt is allowed.
    clock.advance(15 * 60_000);
    expect((await elsewhere.signIn(USERS.ana.email, PASSWORD)).status).toBe(303);
  });

  it('limits an unknown email exactly like a real one, so the limit does not reveal accounts', async () => {
    const { app } = await setup();
    const attacker = new Browser(app, 'http://localhost', '198.51.100.1');
    for (let i = 0; i < 5; i++) await attacker.signIn('nobody@example.org', `guess ${i}`);
    expect((await attacker.signIn('nobody@example.org', 'guess 6')).status).toBe(429);
  });

  it('stops one client address after 20 failures across accounts', async () => {
    const { app } = await setup();
    const stuffer = new Browser(app, 'http://localhost', '198.51.100.9');
    for (let i = 0; i < 20; i++) {
      expect((await stuffer.signIn(`user${i}@example.org`, 'leaked password 1')).status).toBe(401);
    }
    expect((await stuffer.signIn(USERS.ben.email, PASSWORD)).status).toBe(429);
    expect((await new Browser(app, 'http://localhost', '198.51.100.10').signIn(USERS.ben.email)).status).toBe(
      303,
    );
  });

  it('forgets an account’s failures after a successful sign-in', async () => {
    const { app } = await setup();
    const user = new Browser(app);
    for (let i = 0; i < 4; i++) await user.signIn(USERS.ana.email, `typo ${i} in password`);
    expect((await user.signIn(USERS.ana.email)).status).toBe(303);
    const next = new Browser(app);
    for (let i = 0; i < 4; i++) expect((await next.signIn(USERS.ana.email, `typo ${i}`)).status).toBe(401);
    expect((await next.signIn(USERS.ana.email)).status).toBe(303);
  });
});
