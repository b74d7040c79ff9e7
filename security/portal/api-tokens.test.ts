/**
 * Personal API tokens and their exchange, against the built portal: a refused token tells nothing about whether it
 * existed, in its answer or its timing; guessing is throttled per address; tokens never travel in a URL or turn up
 * in a log or an error body; the token pages are forms like the others, with their CSRF token.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Reply } from '../harness.js';
import { Browser, itLeavesCleanPortalLogs, usePortalLab } from './lab.js';

const portal = usePortalLab();
// Behind one reverse proxy: each request may come from an address of its own, so that the per-address limit on
// failures does not interfere with measuring them.
const proxied = usePortalLab({ trustProxy: ['127.0.0.1'] });

const randomAddress = (): [string, string][] => [
  ['x-forwarded-for', `198.18.${randomBytes(1)[0]}.${randomBytes(1)[0]}`],
];
const grant = (token: string) => ({ grant_type: 'refresh_token', refresh_token: token });

/** What a client sees of an answer: status, headers but the date, and the body. */
function seen(reply: Reply): string {
  const headers = Object.entries(reply.headers)
    .filter(([name]) => name !== 'date')
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify({ status: reply.status, headers, body: reply.text });
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

describe('a refused API token says nothing about whether it existed (RFC 6749 §5.2; OWASP Authentication cheat sheet, "generic error messages"; CWE-203, CWE-204)', () => {
  it('a malformed, an unknown, a mistyped and a revoked token get the same answer, byte for byte', async () => {
    const lab = proxied();
    const browser = await lab.signedIn(lab.users.ana);
    const live = await lab.apiToken(browser);
    const revoked = await lab.apiToken(browser);
    const page = await lab.request(browser, { path: '/tokens' });
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    await lab.request(browser, {
      path: '/tokens/revoke',
      headers: lab.sameOrigin(),
      form: { csrf, id: revoked.slice(5, 17) },
    });
    const mistyped = `${live.slice(0, 17)}${revoked.slice(17)}`;
    const answers = [];
    for (const text of ['ppat_x', `ppat_${'A'.repeat(61)}`, mistyped, revoked, live.toLowerCase()]) {
      answers.push(seen(await lab.exchange(grant(text), randomAddress())));
    }
    expect(new Set(answers).size).toBe(1);
    expect(JSON.parse(answers[0] as string)).toMatchObject({
      status: 400,
      body: JSON.stringify({ error: 'invalid_grant', error_description: 'The API token is not valid.' }),
    });
    expect((await lab.exchange(grant(live), randomAddress())).status).toBe(200);
  });

  it('an unknown token, a known id with the wrong secret and a revoked token take the same time', async () => {
    const lab = proxied();
    const browser = await lab.signedIn(lab.users.ben);
    const known = await lab.apiToken(browser);
    const revoked = await lab.apiToken(browser);
    const page = await lab.request(browser, { path: '/tokens' });
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    await lab.request(browser, {
      path: '/tokens/revoke',
      headers: lab.sameOrigin(),
      form: { csrf, id: revoked.slice(5, 17) },
    });
    const unknown = `ppat_${randomBytes(40).toString('hex').slice(0, 61)}`;
    const wrongSecret = `${known.slice(0, 17)}${revoked.slice(17)}`;
    const kinds = { unknown, wrongSecret, revoked };
    const times: Record<keyof typeof kinds, number[]> = { unknown: [], wrongSecret: [], revoked: [] };
    // Alternating, so that load from other processes hits every kind alike.
    for (let round = 0; round < 30; round++) {
      for (const kind of Object.keys(kinds) as (keyof typeof kinds)[]) {
        const started = performance.now();
        const reply = await lab.exchange(grant(kinds[kind]), randomAddress());
        times[kind].push(performance.now() - started);
        expect(reply.status).toBe(400);
      }
    }
    const base = median(times.unknown);
    // Wide bounds: a leak worth exploiting over a network (a slow hash for known ids, an early return for unknown
    // ones) is a multiple; scheduling noise on a shared machine is not.
    for (const kind of ['wrongSecret', 'revoked'] as const) {
      expect(median(times[kind]) / base, kind).toBeGreaterThan(0.5);
      expect(median(times[kind]) / base, kind).toBeLessThan(2);
    }
  });
});

describe('guessing is throttled per address, in the store (OWASP Credential Stuffing Prevention cheat sheet; RFC 6749 §10.10)', () => {
  it('30 failures lock the address, even for a valid token, and a spoofed X-Forwarded-For does not split it', async () => {
    const lab = portal();
    const token = await lab.apiToken(await lab.signedIn(lab.users.carol));
    for (let i = 0; i < 30; i++) {
      // Without --trust-proxy the header is ignored: every attempt counts for 127.0.0.1.
      const reply = await lab.exchange(grant(`ppat_guess${i}`), [['x-forwarded-for', `203.0.113.${i}`]]);
      expect(reply.status).toBe(400);
    }
    const blocked = await lab.exchange(grant(token), [['x-forwarded-for', '192.0.2.1']]);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.json).toMatchObject({ error: 'slow_down' });
    const access = await lab.request(new Browser(), {
      path: '/api/access',
      headers: [['authorization', `Bearer ${token}`]],
    });
    expect(access.status).toBe(429);
  });
});

describe('an API token never travels in a URL, a log or an error body (OWASP Logging cheat sheet; CWE-532, CWE-598)', () => {
  it('the exchange refuses parameters in the URL, and the access endpoint reads none from it', async () => {
    const lab = proxied();
    const token = await lab.apiToken(await lab.signedIn(lab.users.ana));
    const inUrl = await lab.request(new Browser(randomAddress()), {
      method: 'POST',
      path: `/oauth/token?grant_type=refresh_token&refresh_token=${token}`,
      headers: [['content-type', 'application/x-www-form-urlencoded']],
      body: '',
    });
    expect(inUrl.status).toBe(400);
    expect(inUrl.json).toMatchObject({ error: 'invalid_request' });
    const access = await lab.request(new Browser(randomAddress()), { path: `/api/access?token=${token}` });
    expect(access.status).toBe(401);
  });

  it('no answer holds the API token or the dataset token, whatever was wrong', async () => {
    const lab = proxied();
    const token = await lab.apiToken(await lab.signedIn(lab.users.ana));
    const replies = [
      await lab.exchange({ ...grant(token), scope: 'dataset:NotMine' }, randomAddress()),
      await lab.exchange({ ...grant(token), scope: `${token} admin` }, randomAddress()),
      await lab.exchange({ ...grant(token), client_id: token }, randomAddress()),
      await lab.exchange({ grant_type: 'password', password: token }, randomAddress()),
      await lab.exchange({ ...grant(token), refresh_token: `${token}x` }, randomAddress()),
    ];
    for (const reply of replies) {
      expect(reply.status).toBeGreaterThanOrEqual(400);
      expect(reply.text).not.toContain(token.slice(5));
    }
  });
});

describe('the token pages are forms like the others: same origin and the session’s CSRF token (OWASP CSRF Prevention cheat sheet)', () => {
  it('a cross-site or token-less form makes no token and revokes none', async () => {
    const lab = proxied();
    const browser = await lab.signedIn(lab.users.ben);
    const token = await lab.apiToken(browser);
    const before = await lab.request(browser, { path: '/tokens' });
    const crossSite = await lab.request(browser, {
      path: '/tokens',
      headers: [
        ['origin', 'https://evil.example'],
        ['sec-fetch-site', 'cross-site'],
      ],
      form: { name: 'evil', datasets: 'HsData', access: 'sample-level', days: '365' },
    });
    expect(crossSite.status).toBe(403);
    const noCsrf = await lab.request(browser, {
      path: '/tokens/revoke',
      headers: lab.sameOrigin(),
      form: { id: token.slice(5, 17) },
    });
    expect(noCsrf.status).toBe(403);
    const after = await lab.request(browser, { path: '/tokens' });
    expect(after.text.match(/<tr>/g)?.length).toBe(before.text.match(/<tr>/g)?.length);
    expect((await lab.exchange(grant(token), randomAddress())).status).toBe(200);
  });
});

itLeavesCleanPortalLogs(() => [portal(), proxied()]);
