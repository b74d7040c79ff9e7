/**
 * The portal's sign-in: password guessing is throttled per account and per client address, a session id the
 * browser brings is never adopted, sign-in redirects stay on the portal, and what a visitor types never forges a
 * log line.
 */
import { describe, expect, it } from 'vitest';
import { Browser, itLeavesCleanPortalLogs, usePortalLab } from './lab.js';

const portal = usePortalLab();
// Behind one reverse proxy: the client address is the last X-Forwarded-For hop, so a test can be many clients.
const proxied = usePortalLab({ trustProxy: ['127.0.0.1'] });

const from = (address: string): [string, string][] => [['x-forwarded-for', address]];
const hasSession = (browser: Browser) => browser.cookies.has('pp_session');

describe('password guessing is throttled per account (OWASP Authentication cheat sheet "account lockout"; OWASP ASVS V2.2.1)', () => {
  it('after 5 wrong passwords from 5 addresses, the 6th attempt is refused with 429 even with the right password', async () => {
    const { carol } = proxied().users;
    for (let i = 1; i <= 5; i++) {
      const browser = new Browser(from(`198.51.100.${i}`));
      const reply = await proxied().login(browser, carol.email, `wrong password ${i}`);
      expect(reply.status).toBe(401);
      expect(reply.text).toContain('Wrong email or password.');
    }
    const browser = new Browser(from('198.51.100.6'));
    const reply = await proxied().login(browser, carol.email, carol.password);
    expect(reply.status).toBe(429);
    expect(Number(reply.headers['retry-after'])).toBeGreaterThan(0);
    expect(hasSession(browser)).toBe(false);
  });

  it('the account limit is not evaded by another spelling of the same email', async () => {
    const { carol } = proxied().users;
    for (const email of ['CAROL@EXAMPLE.ORG', ' carol@example.org ', 'Carol@Example.Org']) {
      const browser = new Browser(from('198.51.100.7'));
      const reply = await proxied().login(browser, email, carol.password);
      expect(reply.status, email).toBe(429);
    }
  });

  it('another account is not locked by it', async () => {
    const { ben } = proxied().users;
    const browser = new Browser(from('198.51.100.8'));
    expect((await proxied().login(browser, ben.email, ben.password)).status).toBe(303);
  });
});

describe('password guessing is throttled per client address (OWASP Credential Stuffing Prevention cheat sheet)', () => {
  it('20 failures against 20 accounts from one address lock that address for every account', async () => {
    const address = from('203.0.113.50');
    for (let i = 0; i < 20; i++) {
      const reply = await proxied().login(new Browser(address), `user${i}@example.org`, '');
      expect(reply.status).toBe(401);
    }
    const { ana } = proxied().users;
    const blocked = new Browser(address);
    const reply = await proxied().login(blocked, ana.email, ana.password);
    expect(reply.status).toBe(429);
    expect(hasSession(blocked)).toBe(false);
    // The account itself is fine: from another address it signs in.
    expect((await proxied().login(new Browser(from('203.0.113.51')), ana.email, ana.password)).status).toBe(
      303,
    );
  });
});

describe('session fixation (OWASP Session Management cheat sheet "renew the session ID after login"; CWE-384)', () => {
  it('a session id planted before sign-in is not adopted', async () => {
    const planted = 'A'.repeat(43);
    const browser = new Browser();
    browser.cookies.set('pp_session', planted);
    const { ana } = portal().users;
    expect((await portal().login(browser, ana.email, ana.password)).status).toBe(303);
    expect(browser.cookies.get('pp_session')).toBeDefined();
    expect(browser.cookies.get('pp_session')).not.toBe(planted);
    const attacker = new Browser();
    attacker.cookies.set('pp_session', planted);
    const home = await portal().request(attacker, { path: '/' });
    expect(home.text).not.toContain(ana.email);
  });

  it("the attacker's own live session, planted in the victim's browser, is ended at the victim's sign-in", async () => {
    const { ana, ben } = portal().users;
    const attacker = await portal().signedIn(ben);
    const attackerSession = attacker.cookies.get('pp_session') as string;
    const attackerCsrf = await portal().sessionCsrf(attacker);
    const victim = new Browser();
    victim.cookies.set('pp_session', attackerSession);
    expect((await portal().login(victim, ana.email, ana.password)).status).toBe(303);
    expect(victim.cookies.get('pp_session')).not.toBe(attackerSession);
    // The attacker's copy now opens nothing, neither the victim's session nor their own.
    const reply = await portal().tokenRequest(attacker, [
      ...portal().sameOrigin(),
      ['x-csrf-token', attackerCsrf],
    ]);
    expect(reply.status).toBe(401);
  });

  it('every sign-in gets a new session id, and a signed-out session is dead on the server', async () => {
    const { ana } = portal().users;
    const first = await portal().signedIn(ana);
    const second = await portal().signedIn(ana);
    expect(first.cookies.get('pp_session')).not.toBe(second.cookies.get('pp_session'));
    const copy = new Browser();
    copy.cookies.set('pp_session', first.cookies.get('pp_session') as string);
    const csrf = await portal().sessionCsrf(first);
    const out = await portal().request(first, {
      path: '/logout',
      headers: portal().sameOrigin(),
      form: { csrf },
    });
    expect(out.status).toBe(303);
    expect(hasSession(first)).toBe(false);
    const reply = await portal().tokenRequest(copy, [...portal().sameOrigin(), ['x-csrf-token', csrf]]);
    expect(reply.status).toBe(401);
  });

  it('session and sign-in cookies are HttpOnly and SameSite (OWASP Session Management cheat sheet "cookies")', async () => {
    const browser = new Browser();
    const form = await portal().request(browser, { path: '/login' });
    const { ana } = portal().users;
    const signed = await portal().login(browser, ana.email, ana.password);
    for (const line of [...(form.headers['set-cookie'] ?? []), ...(signed.headers['set-cookie'] ?? [])]) {
      if (/=;|max-age=0/i.test(line)) continue;
      expect(line).toMatch(/HttpOnly/i);
      expect(line).toMatch(/SameSite=(Lax|Strict)/i);
      expect(line).toMatch(/Path=\//i);
    }
  });
});

describe('sign-in redirects stay on the portal (OWASP Unvalidated Redirects and Forwards cheat sheet; CWE-601)', () => {
  it.each([
    '//evil.test/',
    'https://evil.test/',
    '/\\evil.test',
    '\\\\evil.test',
    '/\t/evil.test',
    'javascript:alert(1)',
    'http:evil.test',
    `/${'a'.repeat(600)}`,
  ])('next=%j sends the user to /', async (next) => {
    const { ana } = portal().users;
    const reply = await portal().login(new Browser(), ana.email, ana.password, { next });
    expect(reply.status).toBe(303);
    expect(reply.headers.location).toBe('/');
  });

  it('a path on the portal is honoured', async () => {
    const { ana } = portal().users;
    const reply = await portal().login(new Browser(), ana.email, ana.password, { next: '/datasets/HsData' });
    expect(reply.headers.location).toBe('/datasets/HsData');
  });
});

describe('what a visitor types never forges a log line (OWASP Logging cheat sheet "injection"; CWE-117)', () => {
  it('an email with newlines and JSON text is refused and logged as one escaped value', async () => {
    const email =
      'x@example.org\n{"time":"2026-01-01T00:00:00.000Z","level":"info","event":"login_succeeded","email":"admin@example.org"}';
    const reply = await portal().login(new Browser(), email, 'a password that is wrong');
    expect(reply.status).toBe(401);
    const lines = portal()
      .server.stderr()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.event === 'login_succeeded' && l.email === 'admin@example.org')).toBe(false);
  });
});

describe('without a trusted proxy, X-Forwarded-For does not split one client into many (OWASP "IP spoofing via headers")', () => {
  // Last in the file: it locks the loopback address of this portal for the rest of the window.
  it('failures with a new spoofed X-Forwarded-For each still lock the one real address within 20', async () => {
    let attempts = 0;
    for (;;) {
      const reply = await portal().login(
        new Browser(from(`192.0.2.${attempts + 1}`)),
        `nobody${attempts}@example.org`,
        '',
      );
      if (reply.status === 429) break;
      expect(reply.status).toBe(401);
      attempts++;
      expect(attempts).toBeLessThanOrEqual(20);
    }
    const { ben } = portal().users;
    const reply = await portal().login(new Browser(from('192.0.2.200')), ben.email, ben.password);
    expect(reply.status).toBe(429);
  });
});

itLeavesCleanPortalLogs(() => [portal(), proxied()]);
