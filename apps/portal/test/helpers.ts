import { generateSecret } from '@pp-embed/dataset-token';
import type { Hono } from 'hono';
import { createApp, type LoginLimits } from '../src/app.js';
import type { ExchangeLimits } from '../src/routes/exchange.js';
import { Accounts } from '../src/auth/accounts.js';
import type { Institution } from '../src/auth/institution.js';
import type { ScryptParams } from '../src/auth/password.js';
import type { PortalStore } from '../src/db/store.js';
import type { AppConfig, PortalEnv } from '../src/http/env.js';
import type { DrainState, Logger } from '@pp-embed/server-runtime';
import { hs256Keys, type TokenKeys } from '../src/tokens/keys.js';
import { proxyTrust } from '@pp-embed/client-address';
import { testStore } from './store.js';

/** Cheap scrypt for tests; production hashes use DEFAULT_SCRYPT. */
export const FAST_SCRYPT: ScryptParams = { logN: 10, r: 8, p: 1 };

export const PASSWORD = 'a long enough test password';

/**
 * The token exchange as a script sends it: a form POST without Origin, cookies or Fetch Metadata, from `address`.
 *
 * @example
 * const response = await exchange(app, { grant_type: 'refresh_token', refresh_token: token });
 */
export function exchange(
  app: Hono<PortalEnv>,
  fields: Record<string, string>,
  options: { address?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  return Promise.resolve(
    app.request(
      'http://localhost/oauth/token',
      {
        method: 'POST',
        body: new URLSearchParams(fields),
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers },
      },
      { incoming: { socket: { remoteAddress: options.address ?? '198.51.100.20' } } },
    ),
  );
}

/** A frozen clock at a whole second, moved by hand. */
export function frozenClock(start = Date.UTC(2026, 10, 23, 12, 0, 0)) {
  let now = start;
  const clock = () => now;
  return Object.assign(clock, {
    advance(ms: number) {
      now += ms;
    },
    set(ms: number) {
      now = ms;
    },
  });
}

export type FrozenClock = ReturnType<typeof frozenClock>;

/** A logger that keeps every line, to check what is (not) logged. */
export function capturingLogger() {
  const lines: string[] = [];
  const logger: Logger = {
    info: (event, fields) => lines.push(JSON.stringify({ level: 'info', event, ...fields })),
    warn: (event, fields) => lines.push(JSON.stringify({ level: 'warn', event, ...fields })),
    error: (event, fields) => lines.push(JSON.stringify({ level: 'error', event, ...fields })),
  };
  return { logger, lines };
}

export const USERS = {
  ana: { email: 'ana@example.org', grants: { PPDemo: { role: 'analyst' } } },
  ben: { email: 'ben@example.org', grants: { PPDemo: { role: 'analyst', cohorts: ['ABC'] } } },
  cleo: { email: 'cleo@example.org', grants: { TermdbTest: { role: 'analyst' } } },
  dan: { email: 'dan@example.org', grants: {} },
  // Two grants with different role data: never merged into one token.
  eve: {
    email: 'eve@example.org',
    grants: { PPDemo: { role: 'analyst', cohorts: ['XYZ'] }, TermdbTest: { role: 'viewer' } },
  },
  // Two grants with the same role data: one token may list both.
  finn: {
    email: 'finn@example.org',
    grants: { PPDemo: { role: 'analyst' }, TermdbTest: { role: 'analyst' } },
  },
} as const;

export async function addUser(
  store: PortalStore,
  email: string,
  grants: Record<string, Record<string, unknown>>,
  now: number,
): Promise<void> {
  const hash = await new Accounts(store.users, FAST_SCRYPT).hash(PASSWORD);
  const user = await store.users.create(email, hash, now);
  for (const [dataset, car] of Object.entries(grants)) await store.grants.set(user.id, dataset, car, now);
}

export interface SetupOptions {
  config?: Partial<AppConfig>;
  keys?: (store: PortalStore, clock: FrozenClock) => TokenKeys | Promise<TokenKeys>;
  loginLimits?: LoginLimits;
  exchangeLimits?: ExchangeLimits;
  assetsDir?: string;
  clock?: FrozenClock;
  lifecycle?: DrainState;
  /** "Sign in with your institution", built over the store (for the state key) and the clock. */
  institution?: (store: PortalStore, clock: FrozenClock) => Institution | Promise<Institution>;
  /** Another replica on the same store: the app is built over it, and the USERS are not added again. */
  store?: PortalStore;
}

export interface Setup {
  app: Hono<PortalEnv>;
  store: PortalStore;
  clock: FrozenClock;
  /** The HS256 secret, for verifying (unused when `keys` gave other keys). */
  secret: string;
  keys: TokenKeys;
  /** Every log line, as JSON text. */
  logs: string[];
  config: AppConfig;
}

/** An app over a fresh store (SQLite or PostgreSQL, per run) with the USERS above, HS256 keys and a frozen clock. */
export async function setup(options: SetupOptions = {}): Promise<Setup> {
  const clock = options.clock ?? frozenClock();
  const store = options.store ?? (await testStore());
  const secret = generateSecret();
  const keys =
    (await options.keys?.(store, clock)) ?? hs256Keys(Buffer.from(secret), { ttlSeconds: 600, clock });
  if (options.store === undefined) {
    for (const u of Object.values(USERS)) await addUser(store, u.email, u.grants, clock());
  }
  const { logger, lines } = capturingLogger();
  const config: AppConfig = {
    vizServerUrl: 'http://127.0.0.1:3001',
    tokenIp: 'none',
    proxies: proxyTrust([]),
    publicUrl: undefined,
    datasets: [{ label: 'PPDemo', genome: 'hg38' }, { label: 'TermdbTest' }],
    ...options.config,
  };
  const app = createApp({
    config,
    store,
    keys,
    clock,
    logger,
    passwordParams: FAST_SCRYPT,
    assetsDir: options.assetsDir,
    ...(options.loginLimits === undefined ? {} : { loginLimits: options.loginLimits }),
    ...(options.exchangeLimits === undefined ? {} : { exchangeLimits: options.exchangeLimits }),
    ...(options.lifecycle === undefined ? {} : { lifecycle: options.lifecycle }),
    institution: await options.institution?.(store, clock),
  });
  return { app, store, clock, secret, keys, logs: lines, config };
}

/** The attributes of one Set-Cookie header, by lower-case name. */
export function parseSetCookie(header: string): {
  name: string;
  value: string;
  attributes: Map<string, string>;
} {
  const [pair = '', ...rest] = header.split(';').map((s) => s.trim());
  const eq = pair.indexOf('=');
  const attributes = new Map<string, string>();
  for (const part of rest) {
    const i = part.indexOf('=');
    attributes.set((i === -1 ? part : part.slice(0, i)).toLowerCase(), i === -1 ? '' : part.slice(i + 1));
  }
  return { name: pair.slice(0, eq), value: decodeURIComponent(pair.slice(eq + 1)), attributes };
}

/** The value of the hidden `csrf` field of the form that posts to `action`. */
export function csrfField(html: string, action = '/login'): string {
  const start = html.indexOf(`action="${action}"`);
  const match = start === -1 ? null : /name="csrf" value="([^"]+)"/.exec(html.slice(start));
  if (match === null) throw new Error(`no csrf field in a form for ${action}`);
  return match[1] as string;
}

/** The CSRF token the dataset page gives its script. */
export function csrfMeta(html: string): string | undefined {
  return /<meta name="csrf-token" content="([^"]+)"/.exec(html)?.[1];
}

/**
 * A browser for `app.request()`: keeps cookies, sends Origin and Sec-Fetch-Site as a same-origin page would,
 * and comes from a fixed client address.
 */
export class Browser {
  readonly cookies = new Map<string, string>();
  lastSetCookies: string[] = [];

  constructor(
    readonly app: Hono<PortalEnv>,
    readonly origin = 'http://localhost',
    public address = '203.0.113.7',
  ) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0 && !headers.has('cookie')) {
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    }
    const response = await this.app.request(
      `${this.origin}${path}`,
      { ...init, headers },
      { incoming: { socket: { remoteAddress: this.address } } },
    );
    this.lastSetCookies = response.headers.getSetCookie();
    for (const header of this.lastSetCookies) {
      const { name, value, attributes } = parseSetCookie(header);
      if (attributes.get('max-age') === '0' || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.request(path, { headers });
  }

  /** A form POST as our own page sends it. */
  postForm(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
    return this.request(path, {
      method: 'POST',
      body: new URLSearchParams(fields),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: this.origin,
        'sec-fetch-site': 'same-origin',
        ...headers,
      },
    });
  }

  /** A fetch() POST from our own page's script. */
  postApi(path: string, headers: Record<string, string> = {}) {
    return this.request(path, {
      method: 'POST',
      headers: { origin: this.origin, 'sec-fetch-site': 'same-origin', ...headers },
    });
  }

  async signIn(email: string, password = PASSWORD): Promise<Response> {
    const form = await (await this.get('/login')).text();
    return this.postForm('/login', { csrf: csrfField(form), email, password, next: '/' });
  }

  /** The session's CSRF token, as the dataset page gives it to its script. */
  async sessionCsrf(dataset = 'PPDemo'): Promise<string> {
    const html = await (await this.get(`/datasets/${dataset}`)).text();
    const home = await (await this.get('/')).text();
    return csrfMeta(html) ?? csrfField(home, '/logout');
  }

  /**
   * Makes a personal API token on the tokens page, as the signed-in user would, and returns the page's answer and
   * the token it shows (undefined when refused).
   */
  async createApiToken(
    fields: { name?: string; datasets?: string[]; access?: string; days?: string; pinned?: boolean } = {},
  ): Promise<{ response: Response; html: string; token: string | undefined }> {
    const page = await (await this.get('/tokens')).text();
    const form = new URLSearchParams({
      csrf: csrfField(page, '/tokens'),
      name: fields.name ?? 'script',
      access: fields.access ?? 'sample-level',
      days: fields.days ?? '90',
    });
    for (const dataset of fields.datasets ?? ['PPDemo']) form.append('datasets', dataset);
    if (fields.pinned === true) form.set('pinned', 'on');
    const response = await this.request('/tokens', {
      method: 'POST',
      body: form,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: this.origin,
        'sec-fetch-site': 'same-origin',
      },
    });
    const html = await response.text();
    return { response, html, token: /ppat_[0-9A-Za-z]{61}/.exec(html)?.[0] };
  }

  /** Signs in and asks for a token the way the dataset page does. */
  async token(query = '?dataset=PPDemo'): Promise<Response> {
    const csrf = await this.sessionCsrf();
    return this.postApi(`/api/dataset-token${query}`, { 'x-csrf-token': csrf });
  }
}
