import { createVerifier } from '@pp-embed/dataset-token';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type RunningServer } from '../src/server.js';
import { csrfField, csrfMeta, PASSWORD, type Setup, setup, USERS } from './helpers.js';

describe('over real HTTP on 127.0.0.1', () => {
  let s: Setup;
  let server: RunningServer;
  let cookies = '';

  const remember = (response: Response) => {
    const jar = new Map(
      cookies === '' ? [] : cookies.split('; ').map((c) => c.split('=') as [string, string]),
    );
    for (const header of response.headers.getSetCookie()) {
      const [pair = ''] = header.split(';');
      const [name = '', value = ''] = pair.split('=');
      if (value === '') jar.delete(name);
      else jar.set(name, value);
    }
    cookies = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  };

  beforeAll(async () => {
    s = await setup({ config: { tokenIp: 'client' } });
    server = await listen(s.app, { host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await server.close();
  });

  it('listens on a free port of the loopback address', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.port).toBeGreaterThan(0);
  });

  it('signs in, mints a token pinned to the real client address, and signs out', async () => {
    const login = await fetch(`${server.url}/login`);
    remember(login);
    const form = await login.text();
    const signIn = await fetch(`${server.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: cookies, origin: server.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        csrf: csrfField(form),
        email: USERS.ana.email,
        password: PASSWORD,
        next: '/',
      }),
    });
    expect(signIn.status).toBe(303);
    remember(signIn);
    expect(cookies).toMatch(/pp_session=/);

    const page = await fetch(`${server.url}/datasets/PPDemo`, { headers: { cookie: cookies } });
    const csrf = csrfMeta(await page.text()) as string;
    const response = await fetch(`${server.url}/api/dataset-token?dataset=PPDemo`, {
      method: 'POST',
      headers: { cookie: cookies, origin: server.url, 'x-csrf-token': csrf },
    });
    expect(response.status).toBe(200);
    const { token, expiresIn } = (await response.json()) as { token: string; expiresIn: number };
    expect(expiresIn).toBe(600);
    const claims = await createVerifier({ key: { secret: s.secret }, now: s.clock }).verify(token);
    expect(claims).toMatchObject({ datasets: ['PPDemo'], email: USERS.ana.email, ip: '127.0.0.1' });

    const home = await fetch(`${server.url}/`, { headers: { cookie: cookies } });
    const signOut = await fetch(`${server.url}/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: cookies, origin: server.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: csrfField(await home.text(), '/logout') }),
    });
    expect(signOut.status).toBe(303);
    remember(signOut);
    const after = await fetch(`${server.url}/api/dataset-token?dataset=PPDemo`, {
      method: 'POST',
      headers: { cookie: cookies, origin: server.url, 'x-csrf-token': csrf },
    });
    expect(after.status).toBe(401);
  });

  it('answers a malformed request with a 4xx, and keeps serving', async () => {
    const bad = await fetch(`${server.url}/login`, {
      method: 'POST',
      headers: { origin: server.url, 'content-type': 'multipart/form-data; boundary=x' },
      body: '--x\r\nbroken',
    });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(bad.status).toBeLessThan(500);
    expect((await fetch(`${server.url}/healthcheck`)).status).toBe(200);
  });
});
