import { describe, expect, it } from 'vitest';
import { Browser, csrfField, PASSWORD, setup, USERS } from './helpers.js';

const code = async (response: Response) =>
  ((await response.json()) as { error: { code: string } }).error.code;

describe('CSRF protection', () => {
  it('refuses the token endpoint without the CSRF header, or with a wrong one', async () => {
    const { app } = await setup();
    const browser = new Browser(app);
    await browser.signIn(USERS.ana.email);
    const missing = await browser.postApi('/api/dataset-token?dataset=PPDemo');
    expect(missing.status).toBe(403);
    expect(await code(missing)).toBe('csrf_failed');
    const wrong = await browser.postApi('/api/dataset-token?dataset=PPDemo', {
      'x-csrf-token': 'A'.repeat(43),
    });
    expect(wrong.status).toBe(403);
    expect(await code(wrong)).toBe('csrf_failed');
  });

  it('refuses another session’s CSRF token, and a token from before sign-in', async () => {
    const { app } = await setup();
    const other = new Browser(app);
    await other.signIn(USERS.ben.email);
    const stolen = await other.sessionCsrf();

    const browser = new Browser(app);
    const form = await (await browser.get('/login')).text();
    const beforeSignIn = csrfField(form);
    await browser.signIn(USERS.ana.email);
    for (const token of [stolen, beforeSignIn]) {
      const response = await browser.postApi('/api/dataset-token?dataset=PPDemo', { 'x-csrf-token': token });
      expect(response.status).toBe(403);
    }
    expect((await browser.token()).status).toBe(200);
  });

  it('refuses a cross-site request to the JSON endpoint even with a valid token', async () => {
    const { app } = await setup();
    const browser = new Browser(app);
    await browser.signIn(USERS.ana.email);
    const csrf = await browser.sessionCsrf();
    const attempts: Record<string, string>[] = [
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'null' },
    ];
    for (const headers of attempts) {
      const response = await browser.request('/api/dataset-token?dataset=PPDemo', {
        method: 'POST',
        headers: { 'x-csrf-token': csrf, ...headers },
      });
      expect(response.status).toBe(403);
      expect(await code(response)).toBe('csrf_failed');
    }
    // Neither header at all: not something our page's fetch() does, so refused too.
    const bare = await browser.request('/api/dataset-token?dataset=PPDemo', {
      method: 'POST',
      headers: { 'x-csrf-token': csrf },
    });
    expect(bare.status).toBe(403);
  });

  it('refuses a sign-in form without its token, or posted from another site', async () => {
    const { app } = await setup();
    const browser = new Browser(app);
    const form = await (await browser.get('/login')).text();
    const fields = { email: USERS.ana.email, password: PASSWORD, next: '/' };
    const missing = await browser.postForm('/login', fields);
    expect(missing.status).toBe(403);
    expect(await missing.text()).toContain('This sign-in form has expired.');
    const crossSite = await browser.postForm(
      '/login',
      { ...fields, csrf: csrfField(form) },
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    );
    expect(crossSite.status).toBe(403);
    expect(browser.cookies.has('pp_session')).toBe(false);
  });

  it('refuses a sign-in token whose nonce cookie is gone (login CSRF)', async () => {
    const { app } = await setup();
    // The attacker's own form token, posted from the victim's browser, which lacks the attacker's nonce.
    const attacker = new Browser(app);
    const token = csrfField(await (await attacker.get('/login')).text());
    const victim = new Browser(app);
    await victim.get('/login');
    const response = await victim.postForm('/login', {
      csrf: token,
      email: USERS.dan.email,
      password: PASSWORD,
      next: '/',
    });
    expect(response.status).toBe(403);
    expect(victim.cookies.has('pp_session')).toBe(false);
  });

  it('refuses sign-out without the session’s token', async () => {
    const { app } = await setup();
    const browser = new Browser(app);
    await browser.signIn(USERS.ana.email);
    const response = await browser.postForm('/logout', { csrf: 'forged' });
    expect(response.status).toBe(403);
    expect(browser.cookies.has('pp_session')).toBe(true);
    expect(await (await browser.get('/')).text()).toContain('Sign out');
  });

  it('refuses a body larger than a form needs', async () => {
    const { app } = await setup();
    const browser = new Browser(app);
    const response = await browser.postForm('/login', { email: 'x'.repeat(20_000) });
    expect(response.status).toBe(413);
  });
});
