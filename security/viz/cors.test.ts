/**
 * CORS: only the embedders named in dsCredentials are granted, compared as parsed hosts, never as strings; what
 * the browser asks for is never echoed; credentials are never allowed.
 */
import { describe, expect, it } from 'vitest';
import {
  barchartPath,
  DS,
  itLeavesCleanLogs,
  PORTAL_ORIGIN,
  type Reply,
  SECOND_ORIGIN,
  samplesPath,
  useVizLab,
} from '../harness.js';

const lab = useVizLab();

const preflight = (origin: string | null, requestHeaders = 'x-ds-access-token', method = 'GET') =>
  lab().send({
    method: 'OPTIONS',
    path: samplesPath(DS.hs),
    headers: [
      ...(origin === null ? [] : [['origin', origin] as const]),
      ['access-control-request-method', method],
      ['access-control-request-headers', requestHeaders],
    ],
  });

function expectNoGrant(reply: Reply): void {
  expect(reply.headers['access-control-allow-origin']).toBeUndefined();
  expect(reply.headers['access-control-allow-credentials']).toBeUndefined();
  expect(reply.headers['access-control-allow-headers']).toBeUndefined();
}

const LOOK_ALIKES: [string, string][] = [
  ['suffix: another domain ending in the host', 'http://portal.test:8080.evil.test'],
  ['suffix: the host as a subdomain of the attacker', 'http://portal.test.evil.test:8080'],
  ['suffix: a name ending like the host', 'http://evilportal.test:8080'],
  ['prefix: a subdomain of the host', 'http://evil.portal.test:8080'],
  ['prefix: a name starting like the host', 'http://portal.testevil:8080'],
  ['port: another port', 'http://portal.test:8081'],
  ['port: the default port', 'http://portal.test'],
  ['port: a port with an extra digit', 'http://portal.test:80800'],
  ['scheme: WebSocket', 'ws://portal.test:8080'],
  ['scheme: file', 'file://portal.test:8080'],
  ['scheme: an extension', 'chrome-extension://portal.test:8080'],
  ['scheme: none', 'portal.test:8080'],
  ['scheme: protocol-relative', '//portal.test:8080'],
  ['userinfo: the host as user name', 'http://portal.test:8080@evil.test'],
  ['userinfo: the attacker as user name', 'http://evil.test@portal.test:8080'],
  ['userinfo: user and password', 'http://user:pass@portal.test:8080'],
  ['userinfo: a backslash', 'http://portal.test:8080\\@evil.test'],
  ['a path', 'http://portal.test:8080/'],
  ['a query', 'http://portal.test:8080?x=1'],
  ['a fragment', 'http://portal.test:8080#x'],
  ['a trailing dot', 'http://portal.test.:8080'],
  // Browsers send an internationalized host in its punycode form.
  ['a homograph (Greek omicron)', new URL('http://p\u03bfrtal.test:8080').origin],
  ['two origins in one header', `${PORTAL_ORIGIN} http://evil.test`],
  ['two origins, comma-separated', `${PORTAL_ORIGIN}, http://evil.test`],
  ['"null"', 'null'],
  ['an unrelated site', 'http://attacker.test'],
];

describe('look-alike and reflected origins (PortSwigger "CORS vulnerability with basic origin reflection" and "trusted null origin"; OWASP HTML5 Security cheat sheet "CORS"; RFC 6454 §5)', () => {
  it.each(LOOK_ALIKES)('preflight from %s (%s) gets no grant', async (_what, origin) => {
    const reply = await preflight(origin);
    expect(reply.status).toBe(204);
    expectNoGrant(reply);
  });

  it.each(LOOK_ALIKES)(
    'a request from %s (%s) gets no grant, on data and on refusals',
    async (_what, origin) => {
      const token = lab().token(DS.hs);
      for (const path of [samplesPath(DS.hs), barchartPath(DS.termdb), '/healthcheck', '/nowhere']) {
        expectNoGrant(await lab().get(path, { origin, token }));
      }
    },
  );

  it.each([PORTAL_ORIGIN, SECOND_ORIGIN])(
    'the embedder %s is granted exactly its own origin',
    async (origin) => {
      const reply = await preflight(origin);
      expect(reply.headers['access-control-allow-origin']).toBe(origin);
      const refused = await lab().get(samplesPath(DS.hs), { origin });
      expect(refused.status).toBe(401);
      expect(refused.headers['access-control-allow-origin']).toBe(origin);
      expect(refused.headers['access-control-expose-headers']).toMatch(/WWW-Authenticate/i);
    },
  );

  it('the https page of an embedder host is granted too (documented: embedder keys are hosts, not schemes)', async () => {
    const reply = await preflight('https://portal.test:8080');
    expect(reply.headers['access-control-allow-origin']).toBe('https://portal.test:8080');
  });

  it('every answer on a data route says Vary: Origin, so no cache mixes origins (Fetch Standard §3.2.5)', async () => {
    for (const origin of [PORTAL_ORIGIN, 'http://attacker.test']) {
      for (const path of [samplesPath(DS.hs), barchartPath(DS.termdb)]) {
        const reply = await lab().get(path, { origin });
        expect(String(reply.headers.vary ?? ''), `${origin} ${path}`).toMatch(/Origin/i);
      }
    }
  });
});

describe('an origin no entry names reads one answer: the refusal of its discovery request (Fetch Standard §3.2; docs/http-api.md)', () => {
  it.each(LOOK_ALIKES)(
    'from %s (%s), that answer holds no data and grants nothing more',
    async (_what, origin) => {
      const token = lab().token(DS.hs);
      for (const dslabel of [DS.hs, DS.termdb, 'NoSuchDataset']) {
        const reply = await lab().get(`/termdb/config?dslabel=${dslabel}`, { origin, token });
        const granted = reply.headers['access-control-allow-origin'];
        if (granted === undefined) continue;
        // Only a well-formed http(s) origin is answered so, and then with its own origin and nothing more.
        expect(granted).toBe(origin);
        expect(reply.headers['access-control-allow-credentials']).toBeUndefined();
        expect(reply.status).toBe(dslabel === 'NoSuchDataset' ? 404 : 403);
        if (reply.status === 403)
          expect(reply.json).toEqual({
            error: {
              code: 'embedder_not_allowed',
              message: 'This site is not allowed to embed this dataset.',
            },
          });
      }
    },
  );
});

describe('request headers and methods are never echoed (Fetch Standard §3.2.3; PortSwigger CORS "reflected headers")', () => {
  it('Access-Control-Request-Headers asking for anything gets the fixed list', async () => {
    const asked = 'x-evil, cookie, authorization, x-forwarded-for, x-ds-access-token';
    const reply = await preflight(PORTAL_ORIGIN, asked);
    const allowed = String(reply.headers['access-control-allow-headers'] ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .sort();
    expect(allowed).toEqual(['content-type', 'x-ds-access-token', 'x-portal-token']);
  });

  it('a requested method other than GET (and POST, for the login route) is not granted', async () => {
    const reply = await preflight(PORTAL_ORIGIN, 'x-ds-access-token', 'DELETE');
    expect(reply.headers['access-control-allow-methods']).toBe('GET, POST, OPTIONS');
  });

  it('a header name full of junk is not echoed', async () => {
    const reply = await preflight(PORTAL_ORIGIN, `x-${'a'.repeat(2000)}, x-ds-access-token`);
    expect(String(reply.headers['access-control-allow-headers'])).not.toContain('aaaa');
  });
});

describe('credentials are never allowed (RFC 6750 §5.3; Fetch Standard "credentials mode"; OWASP CSRF cheat sheet)', () => {
  it('no answer to an embedder, refused or granted, allows credentials', async () => {
    const replies = [
      await preflight(PORTAL_ORIGIN),
      await lab().get(samplesPath(DS.hs), { token: lab().token(DS.hs) }),
      await lab().get(samplesPath(DS.hs)),
      await lab().get('/bin/proteinpaint.js'),
      await lab().get('/termdb/config?dslabel=HsData'),
    ];
    for (const reply of replies) expect(reply.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('the widget script may be loaded from any page but grants nothing else', async () => {
    const reply = await lab().get('/bin/proteinpaint.js', { origin: 'http://attacker.test' });
    expect(reply.status).toBe(200);
    expect(reply.headers['access-control-allow-origin']).toBe('*');
    expect(reply.headers['access-control-allow-credentials']).toBeUndefined();
  });
});

itLeavesCleanLogs(() => [lab()]);
