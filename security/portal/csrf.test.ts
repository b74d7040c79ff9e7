/**
 * Cross-site request forgery against the portal's state-changing requests (sign-in, sign-out, the token
 * endpoint), and the token endpoint called from another origin: refused, with no CORS grant, and only with the
 * session's CSRF token in its header.
 */
import { createVerifier } from '@pp-embed/dataset-token';
import { beforeAll, describe, expect, it } from 'vitest';
import { DS } from '../harness.js';
import { Browser, expectApiRefusal, itLeavesCleanPortalLogs, usePortalLab } from './lab.js';

const portal = usePortalLab();

const EVIL = 'http://evil.test';
const fakeCsrf = () => Buffer.alloc(32, 7).toString('base64url');

// Signed-in browsers that no case signs out, made once: each sign-in costs a full scrypt hash.
const shared = {} as { ana: Browser; anaCsrf: string; ben: Browser; benCsrf: string };
beforeAll(async () => {
  shared.ana = await portal().signedIn(portal().users.ana);
  shared.anaCsrf = await portal().sessionCsrf(shared.ana);
  shared.ben = await portal().signedIn(portal().users.ben);
  shared.benCsrf = await portal().sessionCsrf(shared.ben);
});

describe('sign-in form (OWASP CSRF Prevention cheat sheet "login CSRF", "signed double-submit cookie", "Fetch Metadata")', () => {
  const attempt = async (options: {
    csrf?: (browser: Browser) => Promise<string | undefined>;
    headers?: [string, string][];
  }) => {
    const browser = new Browser();
    const real = await portal().loginForm(browser);
    const csrf = options.csrf === undefined ? real : await options.csrf(browser);
    const { ana } = portal().users;
    const form: Record<string, string> = { email: ana.email, password: ana.password, next: '/' };
    if (csrf !== undefined) form.csrf = csrf;
    const reply = await portal().request(browser, {
      path: '/login',
      headers: options.headers ?? portal().sameOrigin(),
      form,
    });
    return { reply, browser };
  };

  it.each<[string, (b: Browser) => Promise<string | undefined>]>([
    ['no CSRF token', async () => undefined],
    ['an empty CSRF token', async () => ''],
    ['a made-up CSRF token', async () => fakeCsrf()],
    ["another browser's sign-in token", async () => portal().loginForm(new Browser())],
    ["a signed-in session's token (another purpose)", async () => shared.benCsrf],
  ])('%s is refused with 403 and no session', async (_what, csrf) => {
    const { reply, browser } = await attempt({ csrf });
    expect(reply.status).toBe(403);
    expect(browser.cookies.has('pp_session')).toBe(false);
  });

  it('the sign-in token without its nonce cookie is refused', async () => {
    const browser = new Browser();
    const csrf = await portal().loginForm(browser);
    browser.cookies.delete('pp_signin');
    const { ana } = portal().users;
    const reply = await portal().request(browser, {
      path: '/login',
      headers: portal().sameOrigin(),
      form: { csrf, email: ana.email, password: ana.password },
    });
    expect(reply.status).toBe(403);
  });

  it.each<[string, [string, string][]]>([
    ['Origin of another site', [['origin', EVIL]]],
    ['Origin null (a sandboxed frame)', [['origin', 'null']]],
    ['Origin of another port', [['origin', 'http://127.0.0.1:1']]],
    ['Sec-Fetch-Site cross-site', [['sec-fetch-site', 'cross-site']]],
    ['Sec-Fetch-Site same-site (a sibling subdomain)', [['sec-fetch-site', 'same-site']]],
    [
      'Sec-Fetch-Site none with a foreign Origin',
      [
        ['sec-fetch-site', 'none'],
        ['origin', EVIL],
      ],
    ],
  ])('a form post with the right token but %s is refused with 403', async (_what, headers) => {
    const { reply, browser } = await attempt({ headers });
    expect(reply.status).toBe(403);
    expect(browser.cookies.has('pp_session')).toBe(false);
  });

  it('a form post with neither Origin nor Sec-Fetch-Site relies on the token alone, and is accepted with it', async () => {
    const { reply } = await attempt({ headers: [] });
    expect(reply.status).toBe(303);
  });
});

describe('sign-out form (OWASP CSRF Prevention cheat sheet)', () => {
  it.each<[string, (csrf: string) => { form: Record<string, string>; headers: [string, string][] }]>([
    ['no token', () => ({ form: {}, headers: portal().sameOrigin() })],
    ['a made-up token', () => ({ form: { csrf: fakeCsrf() }, headers: portal().sameOrigin() })],
    ['the right token from another site', (csrf) => ({ form: { csrf }, headers: [['origin', EVIL]] })],
  ])('sign-out with %s is refused and the session lives on', async (_what, make) => {
    const browser = await portal().signedIn(portal().users.ana);
    const csrf = await portal().sessionCsrf(browser);
    const { form, headers } = make(csrf);
    const reply = await portal().request(browser, { path: '/logout', headers, form });
    expect(reply.status).toBe(403);
    const still = await portal().tokenRequest(browser, [...portal().sameOrigin(), ['x-csrf-token', csrf]]);
    expect(still.status).toBe(200);
  });

  it("another session's token is refused", async () => {
    const reply = await portal().request(shared.ana, {
      path: '/logout',
      headers: portal().sameOrigin(),
      form: { csrf: shared.benCsrf },
    });
    expect(reply.status).toBe(403);
  });
});

describe('the token endpoint (OWASP CSRF Prevention cheat sheet "custom request headers"; RFC 6749 §10.12; Fetch Standard CORS)', () => {
  it('from the portal page with the session token it mints a token that verifies for the user, not cached', async () => {
    const reply = await portal().tokenRequest(shared.ana, [
      ...portal().sameOrigin(),
      ['x-csrf-token', shared.anaCsrf],
    ]);
    expect(reply.status).toBe(200);
    expect(String(reply.headers['cache-control'])).toContain('no-store');
    const { token } = reply.json as { token: string };
    const claims = await createVerifier({ key: { secret: portal().secret } }).verify(token);
    expect(claims).toMatchObject({ datasets: [DS.hs], email: portal().users.ana.email });
  });

  it.each<[string, (csrf: string, otherCsrf: string, signIn: string) => [string, string][]]>([
    ['no x-csrf-token', () => []],
    ['an empty x-csrf-token', () => [['x-csrf-token', '']]],
    ['a made-up x-csrf-token', () => [['x-csrf-token', fakeCsrf()]]],
    ["another session's token", (_c, other) => [['x-csrf-token', other]]],
    ["the sign-in form's token", (_c, _o, signIn) => [['x-csrf-token', signIn]]],
    [
      'the token twice',
      (csrf) => [
        ['x-csrf-token', csrf],
        ['x-csrf-token', csrf],
      ],
    ],
  ])('with %s it is refused with 403 csrf_failed', async (_what, header) => {
    const signIn = await portal().loginForm(new Browser());
    const reply = await portal().tokenRequest(shared.ana, [
      ...portal().sameOrigin(),
      ...header(shared.anaCsrf, shared.benCsrf, signIn),
    ]);
    expectApiRefusal(reply, 403, 'csrf_failed');
  });

  it('the CSRF token in the query string or the body does not count', async () => {
    const [browser, csrf] = [shared.ana, shared.anaCsrf];
    const inQuery = await portal().request(browser, {
      method: 'POST',
      path: `/api/dataset-token?dataset=${DS.hs}&csrf=${csrf}`,
      headers: portal().sameOrigin(),
      body: '',
    });
    expectApiRefusal(inQuery, 403, 'csrf_failed');
    const inBody = await portal().request(browser, {
      path: `/api/dataset-token?dataset=${DS.hs}`,
      headers: portal().sameOrigin(),
      form: { csrf },
    });
    expectApiRefusal(inBody, 403, 'csrf_failed');
  });

  it.each<[string, [string, string][]]>([
    ['Origin of another site', [['origin', EVIL]]],
    [
      'Origin of another site with Sec-Fetch-Site cross-site',
      [
        ['origin', EVIL],
        ['sec-fetch-site', 'cross-site'],
      ],
    ],
    ['Origin null', [['origin', 'null']]],
    ['Sec-Fetch-Site same-site', [['sec-fetch-site', 'same-site']]],
    ['Sec-Fetch-Site none (typed in the address bar)', [['sec-fetch-site', 'none']]],
    ['neither Origin nor Sec-Fetch-Site', []],
    ['an Origin that only starts like the portal', [['origin', `${'http://127.0.0.1'}:1`]]],
  ])(
    'called with the right session token but %s, it is refused with 403 and no CORS grant',
    async (_what, headers) => {
      const reply = await portal().tokenRequest(shared.ana, [...headers, ['x-csrf-token', shared.anaCsrf]]);
      expectApiRefusal(reply, 403, 'csrf_failed');
      expect(reply.headers['access-control-allow-origin']).toBeUndefined();
      expect(reply.headers['access-control-allow-credentials']).toBeUndefined();
    },
  );

  it('a cross-origin preflight gets no CORS grant, so a page elsewhere can neither send the header nor read the answer', async () => {
    const reply = await portal().request(new Browser(), {
      method: 'OPTIONS',
      path: `/api/dataset-token?dataset=${DS.hs}`,
      headers: [
        ['origin', EVIL],
        ['access-control-request-method', 'POST'],
        ['access-control-request-headers', 'x-csrf-token'],
      ],
    });
    expect(reply.headers['access-control-allow-origin']).toBeUndefined();
    expect(reply.headers['access-control-allow-headers']).toBeUndefined();
    expect(reply.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('a simple cross-site form post (no preflight, text/plain) cannot mint', async () => {
    const reply = await portal().request(shared.ana, {
      method: 'POST',
      path: `/api/dataset-token?dataset=${DS.hs}`,
      headers: [
        ['origin', EVIL],
        ['sec-fetch-site', 'cross-site'],
        ['content-type', 'text/plain'],
      ],
      body: 'x=1',
    });
    expectApiRefusal(reply, 403, 'csrf_failed');
  });

  it('GET cannot mint (an <img> or a link cannot get a token)', async () => {
    const reply = await portal().request(shared.ana, {
      path: `/api/dataset-token?dataset=${DS.hs}`,
      headers: [['origin', EVIL]],
    });
    expectApiRefusal(reply, 405, 'method_not_allowed');
    expect(reply.text).not.toMatch(/eyJ/);
  });

  it('without a session it answers 401 not_signed_in', async () => {
    const reply = await portal().tokenRequest(new Browser(), [
      ...portal().sameOrigin(),
      ['x-csrf-token', fakeCsrf()],
    ]);
    expectApiRefusal(reply, 401, 'not_signed_in');
  });

  it('a dataset parameter that is not a label is refused with 400', async () => {
    const reply = await portal().request(shared.ana, {
      method: 'POST',
      path: `/api/dataset-token?dataset=${encodeURIComponent('../HsData\n')}`,
      headers: [...portal().sameOrigin(), ['x-csrf-token', shared.anaCsrf]],
      body: '',
    });
    expectApiRefusal(reply, 400, 'bad_request');
  });
});

describe('malformed requests get a 4xx or a page, never a 5xx (PRODUCT.md "bad input gets a clear error"; OWASP Error Handling cheat sheet)', () => {
  it.each([
    '/datasets/%00',
    `/datasets/${'a'.repeat(5000)}`,
    '/datasets/..%2f..%2fetc%2fpasswd',
    '/assets/..%2f..%2fpackage.json',
    '/assets/%2e%2e%2fmain.js',
    '/login?next=%',
    '/login?next=%E0%A4%A',
    '/api/nothing',
  ])('GET %s', async (path) => {
    const reply = await portal().request(new Browser(), { path });
    expect(reply.status).toBeLessThan(500);
    expect(reply.text).not.toMatch(/root:|"dependencies"|at [\w.]+ \(/);
  });

  it.each([
    'pp_session=%',
    'pp_session="x',
    `pp_session=${'a'.repeat(8000)}`,
    'pp_session=a; pp_session=b',
    '=;=;;',
  ])('a Cookie header %j is ignored', async (cookie) => {
    const reply = await portal().request(new Browser([['cookie', cookie]]), { path: '/login' });
    expect(reply.status).toBe(200);
  });

  it.each<[string, string]>([
    ['multipart/form-data; boundary=xyz', 'junk without a boundary'],
    ['multipart/form-data', '--x\r\n'],
    ['application/json', '{"csrf":'],
    ['application/x-www-form-urlencoded', 'csrf=%zz&email=%&password=%E0%A4%A'],
  ])('a sign-in body of type %s that does not parse is refused with a 4xx', async (type, body) => {
    const browser = new Browser();
    await portal().loginForm(browser);
    const reply = await portal().request(browser, {
      method: 'POST',
      path: '/login',
      headers: [...portal().sameOrigin(), ['content-type', type]],
      body,
    });
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
  });

  it('a sign-in body over the limit is refused with 413 before it is read', async () => {
    const browser = new Browser();
    const csrf = await portal().loginForm(browser);
    const reply = await portal().request(browser, {
      path: '/login',
      headers: portal().sameOrigin(),
      form: { csrf, email: 'a'.repeat(20_000), password: 'x' },
    });
    expectApiRefusal(reply, 413, 'payload_too_large');
  });
});

itLeavesCleanPortalLogs(() => [portal()]);
