import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVerifier } from '@pp-embed/dataset-token';
import { describe, expect, it } from 'vitest';
import { addUser, Browser, csrfField, csrfMeta, PASSWORD, setup, USERS } from './helpers.js';

function directives(csp: string | null): Map<string, string> {
  return new Map(
    (csp ?? '').split(';').map((d) => {
      const [name = '', ...values] = d.trim().split(/\s+/);
      return [name, values.join(' ')];
    }),
  );
}

/** Every <script> element's opening tag. */
const scripts = (html: string) => html.match(/<script\b[^>]*>/g) ?? [];

describe('security headers', () => {
  it('sends a strict CSP: scripts and connections only to the portal and the visualization server', async () => {
    const { app } = await setup();
    const response = await new Browser(app).get('/datasets/PPDemo');
    const csp = directives(response.headers.get('content-security-policy'));
    expect(csp.get('default-src')).toBe("'none'");
    expect(csp.get('script-src')).toBe("'self' http://127.0.0.1:3001");
    expect(csp.get('connect-src')).toBe("'self' http://127.0.0.1:3001");
    expect(csp.get('style-src')).toBe("'self'");
    expect(csp.get('form-action')).toBe("'self'");
    expect(csp.get('frame-ancestors')).toBe("'none'");
    expect(csp.get('base-uri')).toBe("'none'");
    expect(csp.get('object-src')).toBe("'none'");
    for (const value of csp.values()) expect(value).not.toMatch(/unsafe-eval|\*/);
    expect(csp.get('script-src')).not.toContain('unsafe-inline');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('puts the visualization server’s origin, not its path, in the CSP', async () => {
    const { app } = await setup({ config: { vizServerUrl: 'https://viz.example.org/pp' } });
    const response = await new Browser(app).get('/');
    expect(directives(response.headers.get('content-security-policy')).get('script-src')).toBe(
      "'self' https://viz.example.org",
    );
  });

  it('serves pages with no inline script, so the CSP needs no exception', async () => {
    const { app } = await setup();
    const browser = new Browser(app);
    await browser.signIn(USERS.ana.email);
    for (const path of ['/', '/login', '/datasets/PPDemo', '/nowhere']) {
      const html = await (await browser.get(path)).text();
      for (const tag of scripts(html)) expect(tag).toMatch(/ src="/);
      expect(html).not.toMatch(/ on[a-z]+="/);
      expect(html).not.toContain('<style');
    }
  });
});

describe('HTML escaping', () => {
  it('escapes what a visitor typed when the sign-in form comes back', async () => {
    const { app } = await setup();
    const browser = new Browser(app);
    const form = await (await browser.get('/login')).text();
    const typed = '"><script>alert(1)</script>@example.org';
    const response = await browser.postForm('/login', {
      csrf: csrfField(form),
      email: typed,
      password: 'whatever it is',
      next: '/"><script>alert(2)</script>',
    });
    const html = await response.text();
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;@example.org"');
    expect(scripts(html)).toEqual([]);
  });

  it('escapes user and grant data from the database', async () => {
    const s = await setup();
    const email = '<img/src/onerror=alert(1)>@example.org';
    await addUser(s.store, email, { PPDemo: { role: '<b onmouseover=alert(2)>boss</b>' } }, s.clock());
    const browser = new Browser(s.app);
    await browser.signIn(email, PASSWORD);
    for (const path of ['/', '/datasets/PPDemo']) {
      const html = await (await browser.get(path)).text();
      expect(html).toContain('&lt;img/src/onerror=alert(1)&gt;@example.org');
      expect(html).toContain('&lt;b onmouseover=alert(2)&gt;boss&lt;/b&gt;');
      expect(html).not.toContain('<img');
      expect(html).not.toContain('<b ');
    }
  });

  it('answers an unknown dataset label with 404, escaped', async () => {
    const { app } = await setup();
    const response = await new Browser(app).get('/datasets/%3Cscript%3Ealert(1)%3C%2Fscript%3E');
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('<script>alert');
  });
});

describe('the dataset page', () => {
  it('shows a visitor the aggregated views and a sign-in prompt, with no token endpoint', async () => {
    const { app } = await setup();
    const html = await (await new Browser(app).get('/datasets/PPDemo')).text();
    expect(html).toContain('id="sign-in-prompt"');
    expect(html).not.toContain('id="auth-required"');
    expect(html).toContain('href="/login?next=%2Fdatasets%2FPPDemo"');
    expect(html).toContain('data-token-endpoint=""');
    expect(csrfMeta(html)).toBeUndefined();
    expect(scripts(html)).toEqual([
      '<script src="http://127.0.0.1:3001/bin/proteinpaint.js" defer>',
      '<script type="module" src="/assets/dataset-page.js">',
    ]);
    expect(html).toContain('data-host="http://127.0.0.1:3001"');
    expect(html).toContain('data-dslabel="PPDemo"');
    expect(html).toContain('data-genome="hg38"');
  });

  it('gives a user with a grant the token endpoint for this dataset and the CSRF token', async () => {
    const { app } = await setup();
    const browser = new Browser(app);
    await browser.signIn(USERS.ben.email);
    const html = await (await browser.get('/datasets/PPDemo')).text();
    expect(html).toContain('data-token-endpoint="/api/dataset-token?dataset=PPDemo"');
    expect(html).toContain('Your access: role: analyst · cohorts: ABC');
    expect(html).toMatch(/<div class="notice" id="auth-required" hidden>/);
    const csrf = csrfMeta(html) as string;
    const response = await browser.postApi('/api/dataset-token?dataset=PPDemo', { 'x-csrf-token': csrf });
    expect(response.status).toBe(200);
    expect(html).not.toContain('id="sign-in-prompt"');
  });

  it('tells a signed-in user without a grant that they see the open views only', async () => {
    const { app, secret, clock } = await setup();
    const browser = new Browser(app);
    await browser.signIn(USERS.cleo.email);
    const html = await (await browser.get('/datasets/PPDemo')).text();
    expect(html).toContain('Your account has no grant for PPDemo');
    expect(html).not.toContain('id="auth-required"');
    // A token for her own dataset, so that the visualization server says "not granted" rather than "sign in".
    expect(html).toContain('data-token-endpoint="/api/dataset-token?dataset=TermdbTest"');
    const response = await browser.postApi('/api/dataset-token?dataset=TermdbTest', {
      'x-csrf-token': csrfMeta(html) as string,
    });
    const { token } = (await response.json()) as { token: string };
    const claims = await createVerifier({ key: { secret }, now: clock }).verify(token);
    expect(claims.datasets).toEqual(['TermdbTest']);

    const dan = new Browser(app);
    await dan.signIn(USERS.dan.email);
    const none = await (await dan.get('/datasets/PPDemo')).text();
    expect(none).toContain('data-token-endpoint=""');
    expect(csrfMeta(none)).toBeUndefined();
  });

  it('lists the datasets with each one’s access on the home page', async () => {
    const { app } = await setup();
    const browser = new Browser(app);
    const anonymous = await (await browser.get('/')).text();
    expect(anonymous).toContain('href="/datasets/PPDemo"');
    expect(anonymous).toContain('href="/datasets/TermdbTest"');
    await browser.signIn(USERS.ben.email);
    const signedIn = await (await browser.get('/')).text();
    expect(signedIn).toContain('Your access: role: analyst · cohorts: ABC');
    expect(signedIn).toContain('Aggregated views only: your account has no grant for this dataset.');
  });
});

describe('assets', () => {
  it('serves the stylesheet and the built page script, and nothing else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portal-assets-'));
    writeFileSync(join(dir, 'dataset-page.js'), 'export {};\n');
    const { app } = await setup({ assetsDir: dir });
    const browser = new Browser(app);
    const css = await browser.get('/assets/portal.css');
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const js = await browser.get('/assets/dataset-page.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await browser.get('/assets/..%2Fpackage.json')).status).toBe(404);
    expect((await browser.get('/assets/other.js')).status).toBe(404);
  });
});
