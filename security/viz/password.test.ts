/**
 * Dataset passwords (`basic` entries): guessing is throttled per address and dataset, the password travels only
 * in a JSON body to the login route and is never logged, and the token issued for it opens that dataset for that
 * client and nothing else.
 */
import { describe, expect, it } from 'vitest';
import { DS, expectGranted, expectRefusal, itLeavesCleanLogs, samplesPath, useVizLab } from '../harness.js';

const lab = useVizLab();

const LOGIN = `/termdb/login?dslabel=${DS.password}`;

const login = (password: string, headers: (readonly [string, string])[] = []) =>
  lab().get(LOGIN, {
    method: 'POST',
    headers: [['content-type', 'application/json'], ...headers],
    body: JSON.stringify({ password, route: 'termdb/samples' }),
  });

async function issued(): Promise<string> {
  const reply = await login(lab().keys.password);
  expect(reply.status, reply.text).toBe(200);
  const token = (reply.json as { token: string }).token;
  lab().tokens.add(token);
  return token;
}

describe('the password and its token (OWASP Session Management cheat sheet; RFC 8725 §3.9 "cross-JWT confusion")', () => {
  it('takes the password only as a JSON body: a form post (no CORS preflight) and a password in the URL are refused', async () => {
    const form = await lab().get(LOGIN, {
      method: 'POST',
      headers: [['content-type', 'application/x-www-form-urlencoded']],
      body: `password=${encodeURIComponent(lab().keys.password)}`,
    });
    expectRefusal(form, 400, 'bad_request');
    const inUrl = await lab().get(`${LOGIN}&password=${encodeURIComponent(lab().keys.password)}`, {
      method: 'POST',
      headers: [['content-type', 'application/json']],
      body: '{}',
    });
    expectRefusal(inUrl, 400, 'bad_request');
  });

  it('opens the dataset for the client it was issued to, and nothing else', async () => {
    const token = await issued();
    expectGranted(await lab().get(samplesPath(DS.password), { token }));
    expectRefusal(await lab().get(samplesPath(DS.hs), { token }), 401, 'token_invalid');
    expectRefusal(await lab().get(samplesPath(DS.star), { token }), 401, 'token_invalid');
  });

  it('sets no cookie and lets no other origin read the answer', async () => {
    const reply = await login(lab().keys.password);
    expect(reply.headers['set-cookie']).toBeUndefined();
    const elsewhere = await lab().get(LOGIN, {
      method: 'POST',
      origin: 'http://attacker.test',
      headers: [['content-type', 'application/json']],
      body: JSON.stringify({ password: lab().keys.password }),
    });
    expectRefusal(elsewhere, 403, 'embedder_not_allowed');
    expect(elsewhere.headers['access-control-allow-origin']).toBeUndefined();
  });
});

// Last: it spends the loopback address's tries.
describe('dataset password guessing (OWASP Authentication cheat sheet "protect against automated attacks"; RFC 6585 §4)', () => {
  it('refuses wrong passwords, then every try from that address for that dataset, with Retry-After', async () => {
    // X-Forwarded-For is not believed (no trustProxy): every try comes from the loopback address.
    for (let i = 0; i < 5; i++) expectRefusal(await login(`guess-${i}`), 401, 'password_invalid');
    const throttled = await login(lab().keys.password);
    expectRefusal(throttled, 429, 'too_many_attempts');
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
    const spoofed = await login(lab().keys.password, [['x-forwarded-for', '198.51.100.7']]);
    expectRefusal(spoofed, 429, 'too_many_attempts');
  });
});

itLeavesCleanLogs(() => [lab()]);
