import { hashPassword } from '@pp-embed/access-policy';
import { generateSecret } from '@pp-embed/dataset-token';
import { describe, expect, it } from 'vitest';
import { body, errorCode, harness, PORTAL, PORTAL_HOST } from '../../test/harness.js';

const PASSWORD = 'the dataset password of the test';
const passwordHash = await hashPassword(PASSWORD, { ln: 14, r: 8, p: 1 });

/** PPDemo behind a dataset password for the portal (every route), like ProteinPaint's {"type": "login"}. */
function guarded() {
  return harness({
    dsCredentials: {
      PPDemo: { '*': { [PORTAL_HOST]: { type: 'basic', passwordHash, tokenSecret: generateSecret() } } },
    },
  });
}

const LOGIN = '/termdb/login?dslabel=PPDemo';

describe('POST /termdb/login (a dataset password)', () => {
  it('tells the widget, in the config, that the token a route needs is the one issued for the password', async () => {
    const res = await guarded().get('/termdb/config?dslabel=PPDemo');
    expect(await body(res)).toMatchObject({
      auth: {
        tokenRequired: { config: true, terms: true, barchart: true, samples: true },
        passwordRequired: { config: true, terms: true, barchart: true, samples: true },
      },
      rootTerms: null,
    });
  });

  it('answers a right password with a token in the body, never a cookie, which then opens the data', async () => {
    const h = guarded();
    const res = await h.post(LOGIN, { password: PASSWORD, route: 'termdb/samples' });
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('no-store');
    const answer = (await body(res)) as { token: string; headerKey: string; expiresIn: number };
    expect(answer).toMatchObject({ headerKey: 'x-ds-access-token', expiresIn: 3600 });
    const samples = await h.get('/termdb/samples?dslabel=PPDemo&term=sex', { token: answer.token });
    expect(samples.status).toBe(200);
    expect(h.audit.at(-1)).toMatchObject({
      email: '(dataset password)',
      dataset: 'PPDemo',
      route: 'termdb/samples',
    });
    expect(h.logs.join('\n')).not.toContain(PASSWORD);
    expect(h.logs.join('\n')).not.toContain(answer.token);
  });

  it('refuses a wrong password with password_invalid, and too many with 429 and Retry-After', async () => {
    const h = guarded();
    for (let i = 0; i < 5; i++) {
      const res = await h.post(LOGIN, { password: `wrong ${i}` });
      expect([res.status, await errorCode(res)]).toEqual([401, 'password_invalid']);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="pp-embed"');
    }
    const throttled = await h.post(LOGIN, { password: PASSWORD });
    expect([throttled.status, await errorCode(throttled)]).toEqual([429, 'too_many_attempts']);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(800);
    // Another address keeps its tries.
    expect((await h.post(LOGIN, { password: PASSWORD }, { ip: '198.51.100.1' })).status).toBe(200);
    expect(h.logs.join('\n')).not.toMatch(/wrong \d/);
  });

  it('refuses a password where no dataset password guards the route', async () => {
    const res = await harness().post(LOGIN, { password: PASSWORD });
    expect([res.status, await errorCode(res)]).toEqual([400, 'login_not_available']);
  });

  it.each([
    [
      'a form post, which needs no CORS preflight',
      { 'content-type': 'text/plain' },
      undefined,
      'application/json',
    ],
    ['a body that is not JSON', {}, '{"password": ', 'not valid JSON'],
    ['a body without a password', {}, '{"route": "termdb/samples"}', 'password must be'],
    ['a route that is not one', {}, '{"password": "x", "route": "termdb/login"}', 'route must name'],
    ['a body over the limit', {}, JSON.stringify({ password: 'x'.repeat(9000) }), 'too large'],
  ])('answers %s with 400 bad_request', async (_name, headers, text, message) => {
    const res = await guarded().post(LOGIN, undefined, { headers, ...(text !== undefined && { text }) });
    expect(res.status).toBe(400);
    expect(((await body(res)).error as { message: string }).message).toContain(message);
  });

  it('stops reading a body that names no length once it passes the limit', async () => {
    const h = guarded();
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new TextEncoder().encode('x'.repeat(1024)));
      },
    });
    const res = await h.app.request(LOGIN, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: PORTAL },
      body,
      duplex: 'half',
    } as RequestInit);
    expect([res.status, await errorCode(res)]).toEqual([400, 'bad_request']);
    expect(pulled).toBeLessThan(20);
  });

  it('answers GET with 405 and Allow: POST', async () => {
    const res = await guarded().get(LOGIN);
    expect([res.status, res.headers.get('allow')]).toEqual([405, 'POST']);
  });
});
