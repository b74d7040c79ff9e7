/**
 * The reference portal under attack: the BUILT `apps/portal/dist/main.js` as a child process with a database,
 * users and a shared secret made at test time (users are added with the built `pp-portal-users` CLI, as an
 * operator would), and a tiny cookie-keeping client for browser-shaped requests.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSecret } from '@pp-embed/dataset-token';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import {
  ChildServer,
  DS,
  expectCleanLogs,
  LOOPBACK,
  PORTAL_CLI,
  PORTAL_MAIN,
  type Reply,
  ROOT,
  send,
} from '../harness.js';

/** Events the portal writes. */
export const PORTAL_EVENTS = new Set([
  'listening',
  'request',
  'login_failed',
  'login_succeeded',
  'login_throttled',
  'logout',
  'csrf_failed',
  'cross_origin_post',
  'token_minted',
  'token_refused',
  'log_suppressed',
  'draining',
  'stopped',
  'revoked',
  'admin_refused',
  'store_unavailable',
  'store_connection_lost',
  'store_listen_lost',
  'purge_failed',
  'api_token_created',
  'api_token_revoked',
  'api_token_exchanged',
  'api_token_refused',
  'exchange_throttled',
]);

/**
 * Starts the BUILT portal on a free loopback port with a database and a shared-secret file, configured by flags
 * only (nothing from the environment of the test run), serving the HsData page.
 *
 * @example
 * const server = await startBuiltPortal({ db: join(dir, 'portal.db'), secretFile, args: ['--drain-seconds', '10'] });
 */
export function startBuiltPortal(options: {
  db: string;
  secretFile: string;
  args?: readonly string[];
}): Promise<ChildServer> {
  return ChildServer.start(PORTAL_MAIN, {
    args: [
      '--port',
      '0',
      '--host',
      LOOPBACK,
      '--db',
      options.db,
      '--secret-file',
      options.secretFile,
      '--datasets',
      `${DS.hs}:hg38`,
      '--viz-server',
      'http://127.0.0.1:9',
      ...(options.args ?? []),
    ],
    env: { PP_DS_SECRET: '', PP_PORTAL_DB: '', PP_PORTAL_DATABASE_URL: '', PORT: '' },
    listening: (line) => (line.event === 'listening' && typeof line.url === 'string' ? line.url : undefined),
  });
}

export interface PortalUser {
  email: string;
  password: string;
}

/** Cookies of one browser, by name. */
export class Browser {
  readonly cookies = new Map<string, string>();
  /** Extra headers every request of this browser carries (e.g. an X-Forwarded-For the proxy would add). */
  readonly headers: [string, string][];

  constructor(headers: [string, string][] = []) {
    this.headers = headers;
  }

  cookieHeader(): [string, string][] {
    if (this.cookies.size === 0) return [];
    return [['cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')]];
  }

  /** Applies Set-Cookie headers the way a browser would (Max-Age=0 deletes). */
  take(reply: Reply): void {
    const raw = reply.headers['set-cookie'] ?? [];
    for (const line of raw) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const deleted = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
      if (deleted) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/** The value of `<input name="csrf" value="…">` or `<meta name="csrf-token" content="…">` in a page. */
export function csrfIn(html: string): string | undefined {
  return (
    /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? /name="csrf-token" content="([^"]+)"/.exec(html)?.[1]
  );
}

export interface PortalLabOptions {
  /** --trust-proxy: these peers are proxies; the client is the right-most X-Forwarded-For hop that is not one. */
  trustProxy?: readonly string[];
}

export class PortalLab {
  readonly dir: string;
  readonly secret = generateSecret();
  readonly users: Record<'ana' | 'ben' | 'carol', PortalUser>;
  /** Every token the portal handed out, and every password and session id used: none may be logged. */
  readonly tokens = new Set<string>();
  readonly secrets = new Set<string>();
  readonly replies: { what: string; reply: Reply }[] = [];
  readonly servers: ChildServer[] = [];
  readonly options: PortalLabOptions;

  private constructor(options: PortalLabOptions) {
    this.options = options;
    this.dir = mkdtempSync(join(tmpdir(), 'pp-security-portal-'));
    const password = () => `pw-${randomBytes(18).toString('base64url')}`;
    this.users = {
      ana: { email: 'ana@example.org', password: password() },
      ben: { email: 'ben@example.org', password: password() },
      carol: { email: 'carol@example.org', password: password() },
    };
    for (const secret of [this.secret, ...Object.values(this.users).map((u) => u.password)])
      this.secrets.add(secret);
  }

  static async start(options: PortalLabOptions = {}): Promise<PortalLab> {
    const lab = new PortalLab(options);
    const db = join(lab.dir, 'portal.db');
    writeFileSync(join(lab.dir, 'ds-secret'), lab.secret, { mode: 0o600 });
    // Each add-user hashes with the production scrypt cost: the first creates the database, the rest run together.
    const [first, ...rest] = Object.values(lab.users) as [PortalUser, ...PortalUser[]];
    const addUser = (user: PortalUser) =>
      lab.#cli(['--db', db, 'add-user', user.email, '--password-stdin'], `${user.password}\n`);
    await addUser(first);
    await Promise.all(rest.map(addUser));
    await Promise.all(
      Object.values(lab.users).map((user) =>
        lab.#cli(['--db', db, 'grant', user.email, DS.hs, '--client-auth-result', '{"role":"analyst"}']),
      ),
    );
    const server = await startBuiltPortal({
      db,
      secretFile: join(lab.dir, 'ds-secret'),
      args: options.trustProxy === undefined ? [] : ['--trust-proxy', options.trustProxy.join(',')],
    });
    lab.servers.push(server);
    return lab;
  }

  #cli(args: string[], input = ''): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = execFile(process.execPath, [PORTAL_CLI, ...args], { cwd: ROOT }, (error, _out, err) =>
        error === null ? resolve() : reject(new Error(`pp-portal-users ${args[2] ?? ''} failed: ${err}`)),
      );
      child.stdin?.end(input);
    });
  }

  get server(): ChildServer {
    const server = this.servers[0];
    if (server === undefined) throw new Error('the portal did not start');
    return server;
  }

  /** The origin the portal's own pages have. */
  get origin(): string {
    return this.server.url;
  }

  async request(
    browser: Browser,
    options: {
      method?: string;
      path: string;
      headers?: [string, string][];
      form?: Record<string, string>;
      body?: string;
    },
  ): Promise<Reply> {
    const headers: [string, string][] = [
      ...browser.headers,
      ...browser.cookieHeader(),
      ...(options.headers ?? []),
    ];
    let body = options.body;
    if (options.form !== undefined) {
      body = new URLSearchParams(options.form).toString();
      headers.push(['content-type', 'application/x-www-form-urlencoded']);
    }
    const reply = await send(this.server.port, {
      method: options.method ?? (body === undefined ? 'GET' : 'POST'),
      path: options.path,
      headers,
      ...(body !== undefined && { body }),
    });
    browser.take(reply);
    this.replies.push({ what: `${options.method ?? 'GET'} ${options.path}`, reply });
    for (const value of browser.cookies.values()) if (value.length >= 16) this.secrets.add(value);
    const csrf = csrfIn(reply.text);
    if (csrf !== undefined) this.secrets.add(csrf);
    return reply;
  }

  /** Headers of a same-origin form post or fetch from the portal's own page. */
  sameOrigin(): [string, string][] {
    return [
      ['origin', this.origin],
      ['sec-fetch-site', 'same-origin'],
    ];
  }

  /** Opens the sign-in form: the browser gets the nonce cookie; returns the form's CSRF token. */
  async loginForm(browser: Browser): Promise<string> {
    const reply = await this.request(browser, { path: '/login' });
    expect(reply.status).toBe(200);
    // A signed-in visitor's page also holds the sign-out form's token: take the one in the sign-in form.
    const form = reply.text.slice(reply.text.indexOf('action="/login"'));
    const csrf = csrfIn(form);
    if (csrf === undefined) throw new Error('no CSRF token in the sign-in form');
    return csrf;
  }

  /** Posts the sign-in form as the portal's own page would. */
  async login(
    browser: Browser,
    email: string,
    password: string,
    options: { csrf?: string; headers?: [string, string][]; next?: string } = {},
  ): Promise<Reply> {
    const csrf = options.csrf ?? (await this.loginForm(browser));
    return this.request(browser, {
      path: '/login',
      headers: options.headers ?? this.sameOrigin(),
      form: { csrf, email, password, next: options.next ?? '/' },
    });
  }

  /** The session's CSRF token, read from a page the signed-in user sees. */
  async sessionCsrf(browser: Browser): Promise<string> {
    const reply = await this.request(browser, { path: `/datasets/${DS.hs}` });
    const csrf = csrfIn(reply.text);
    if (csrf === undefined) throw new Error('no session CSRF token on the page');
    return csrf;
  }

  /** A signed-in browser. */
  async signedIn(user: PortalUser, headers: [string, string][] = []): Promise<Browser> {
    const browser = new Browser(headers);
    const reply = await this.login(browser, user.email, user.password);
    expect(reply.status, reply.text.slice(0, 200)).toBe(303);
    return browser;
  }

  /** Asks the token endpoint as the dataset page's script does (or with other headers). */
  async tokenRequest(browser: Browser, headers: [string, string][]): Promise<Reply> {
    const reply = await this.request(browser, {
      method: 'POST',
      path: `/api/dataset-token?dataset=${DS.hs}`,
      headers,
      body: '',
    });
    const token = (reply.json as { token?: unknown } | undefined)?.token;
    if (typeof token === 'string') this.tokens.add(token);
    return reply;
  }

  /**
   * Makes a personal API token on the tokens page as the signed-in user would, remembers it (it may never be
   * logged), and returns it.
   */
  async apiToken(browser: Browser, fields: Record<string, string> = {}): Promise<string> {
    const page = await this.request(browser, { path: '/tokens' });
    const csrf = csrfIn(page.text.slice(page.text.indexOf('action="/tokens"')));
    if (csrf === undefined) throw new Error('no CSRF token on the tokens page');
    const reply = await this.request(browser, {
      path: '/tokens',
      headers: this.sameOrigin(),
      form: {
        csrf,
        name: `t${this.tokens.size}`,
        datasets: DS.hs,
        access: 'sample-level',
        days: '1',
        ...fields,
      },
    });
    const token = /ppat_[0-9A-Za-z]{61}/.exec(reply.text)?.[0];
    if (token === undefined) throw new Error(`no token was made: ${reply.status}`);
    this.tokens.add(token);
    // The secret part alone may never turn up either.
    this.secrets.add(token.slice(17));
    return token;
  }

  /** The token exchange as a script sends it: a form POST with no cookie, Origin or Fetch Metadata. */
  async exchange(fields: Record<string, string>, headers: [string, string][] = []): Promise<Reply> {
    const reply = await this.request(new Browser(), {
      method: 'POST',
      path: '/oauth/token',
      headers: [['content-type', 'application/x-www-form-urlencoded'], ...headers],
      body: new URLSearchParams(fields).toString(),
    });
    const token = (reply.json as { access_token?: unknown } | undefined)?.access_token;
    if (typeof token === 'string') this.tokens.add(token);
    return reply;
  }

  async expectHealthy(): Promise<void> {
    expect(this.server.alive(), 'portal process alive').toBe(true);
    const reply = await send(this.server.port, { path: '/healthcheck' });
    expect(reply.status).toBe(200);
  }

  logs(): { stream: 'stdout' | 'stderr'; text: string }[] {
    return this.servers.flatMap((s) => [
      { stream: 'stdout' as const, text: s.stdout() },
      { stream: 'stderr' as const, text: s.stderr() },
    ]);
  }

  async stop(): Promise<void> {
    for (const server of this.servers) await server.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** {@link useVizLab}'s counterpart for the portal. */
export function usePortalLab(options: PortalLabOptions = {}): () => PortalLab {
  let lab: PortalLab | undefined;
  beforeAll(async () => {
    lab = await PortalLab.start(options);
  });
  afterEach(async () => {
    await lab?.expectHealthy();
  });
  afterAll(async () => {
    await lab?.stop();
  });
  return () => {
    if (lab === undefined) throw new Error('the portal lab did not start');
    return lab;
  };
}

/** Codes of the portal's JSON API (apps/portal/src/http/env.ts). */
export const PORTAL_ERROR_CODES = new Set([
  'not_signed_in',
  'csrf_failed',
  'no_grants',
  'dataset_not_granted',
  'dataset_required',
  'bad_request',
  'not_found',
  'method_not_allowed',
  'payload_too_large',
  'invalid_token',
  'too_many_requests',
]);

/** An API refusal of the portal: the status, `{"error":{"code","message"}}` and nothing else, not cacheable. */
export function expectApiRefusal(reply: Reply, status: number, code: string): void {
  expect({ status: reply.status, body: reply.json }, reply.text).toMatchObject({
    status,
    body: { error: { code } },
  });
  const body = reply.json as { error: Record<string, unknown> };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
  expect(PORTAL_ERROR_CODES.has(code)).toBe(true);
  expect(String(reply.headers['cache-control'])).toContain('no-store');
}

/**
 * The last case of a portal file: no password, token, session id, CSRF token or secret in anything the portal
 * wrote; every line one JSON object with a known event; no answer was a 5xx or allowed credentials cross-origin.
 */
export function itLeavesCleanPortalLogs(labs: () => readonly PortalLab[]): void {
  it('never logs a token, password, session id or CSRF token, forges no line and answered no 5xx (OWASP Logging and Session Management cheat sheets)', () => {
    for (const lab of labs()) {
      expect(lab.replies.length).toBeGreaterThan(0);
      expectCleanLogs(lab.logs(), { tokens: lab.tokens, secrets: lab.secrets }, PORTAL_EVENTS);
      for (const { what, reply } of lab.replies) {
        expect(reply.status, what).toBeLessThan(500);
        expect(reply.headers['access-control-allow-credentials'], what).toBeUndefined();
        expect(reply.headers['access-control-allow-origin'], what).toBeUndefined();
      }
    }
  });
}
