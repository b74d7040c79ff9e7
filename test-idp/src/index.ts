/**
 * Starts the test identity provider as its own process and drives it the way a browser and a portal would, for
 * tests that need real tokens: the authorization code flow with PKCE through its login form, and the token
 * exchange for a passport.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface VisaSpec {
  type?: string;
  value: string;
  source: string;
  by?: string;
  /** Seconds from sign-in. Default 3600. */
  expiresIn?: number;
  conditions?: unknown;
  sub?: string;
  forged?: boolean;
  /** The `jku` its header names instead of the IdP's visa key set (a visa that points elsewhere). */
  jku?: string;
}

export interface IdpUser {
  email: string;
  groups?: string[];
  scopes?: string[];
  visas?: VisaSpec[];
}

export interface IdpClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

export interface IdpConfig {
  /** The visualization server, as a resource indicator (RFC 8707) its access tokens name in `aud`. */
  audience: string;
  /** Other services it issues access tokens for (the same user's token, for another audience). */
  otherAudiences?: string[];
  clients: IdpClient[];
  users: Record<string, IdpUser>;
  accessTokenTtl?: number;
}

export interface RunningIdp {
  /** The issuer: `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The key set its visas name in `jku`. */
  readonly visaJku: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/**
 * Starts the IdP on 127.0.0.1 with its own keys, and resolves once it listens.
 *
 * @example
 * const idp = await startIdp({ audience: 'http://127.0.0.1:3001', clients, users: { ana: { email: 'ana@uni.test' } } });
 */
export async function startIdp(config: IdpConfig): Promise<RunningIdp> {
  const dir = mkdtempSync(join(tmpdir(), 'pp-idp-'));
  const file = join(dir, 'idp.json');
  writeFileSync(file, JSON.stringify(config));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', MAIN, '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: fileURLToPath(new URL('..', import.meta.url)),
  });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const started = await new Promise<{ url: string; visaJku: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the IdP did not start:\n${output}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((l) => l.includes('"listening"'));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { url: string; visaJku: string });
      }
    });
    child.on('exit', (code) => reject(new Error(`the IdP exited (${code}):\n${output}`)));
  });
  return {
    ...started,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** A tiny cookie jar for one browser-less sign-in. */
class Jar {
  readonly #cookies = new Map<string, string>();
  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (pair !== undefined && eq > 0) this.#cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }
  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/**
 * Signs `user` in through the IdP's login form with the authorization code flow and PKCE, and exchanges the code:
 * what a portal gets. `resource` asks for an access token for that audience (RFC 8707).
 *
 * @example
 * const { access_token } = await signInHeadless(idp, client, 'ana', { scope: 'openid pp:dataset:PPDemo', resource: viz });
 */
export async function signInHeadless(
  idp: RunningIdp,
  client: IdpClient,
  user: string,
  options: { scope?: string; resource?: string } = {},
): Promise<{ access_token: string; id_token: string; expires_in: number }> {
  const verifier = randomBytes(32).toString('base64url');
  const redirectUri = client.redirect_uris[0] as string;
  const auth = new URL('/auth', idp.url);
  auth.search = new URLSearchParams({
    client_id: client.client_id,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: options.scope ?? 'openid email groups',
    state: randomBytes(8).toString('hex'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...(options.resource !== undefined && { resource: options.resource }),
  }).toString();
  const back = await authorizeHeadless(auth.toString(), user, redirectUri);
  const code = new URL(back).searchParams.get('code');
  if (code === null) throw new Error(`no code in ${back}`);
  const token = await fetch(new URL('/token', idp.url), {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      ...(options.resource !== undefined && { resource: options.resource }),
    }),
  });
  if (!token.ok) throw new Error(`token endpoint answered ${token.status}: ${await token.text()}`);
  return (await token.json()) as { access_token: string; id_token: string; expires_in: number };
}

/**
 * What a browser does at the IdP: follows the authorization URL, fills the login form as `user` (any password),
 * and stops at the first redirect to `redirectPrefix`, which it returns (the client's redirect URI with `code` and
 * `state`, or an `error`).
 *
 * @example
 * const back = await authorizeHeadless(authorizationUrl, 'ana', 'http://localhost/login/institution/callback');
 */
export async function authorizeHeadless(
  authorizationUrl: string,
  user: string,
  redirectPrefix: string,
): Promise<string> {
  const jar = new Jar();
  let url = authorizationUrl;
  for (let hop = 0; hop < 10; hop++) {
    if (url.startsWith(redirectPrefix)) return url;
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } });
    jar.store(response);
    const location = response.headers.get('location');
    if (location !== null) {
      url = new URL(location, url).toString();
      continue;
    }
    // The login form: any password is accepted by the development interactions.
    const html = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (action === undefined) throw new Error(`no form at ${url}: ${html.slice(0, 300)}`);
    const form = await fetch(new URL(action, url), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(
        html.includes('name="login"')
          ? { prompt: 'login', login: user, password: 'any' }
          : { prompt: 'consent' },
      ),
    });
    jar.store(form);
    url = new URL(form.headers.get('location') ?? url, url).toString();
  }
  throw new Error('the sign-in did not reach the redirect URI');
}

/**
 * Exchanges the IdP's access token for a GA4GH passport (RFC 8693, AAI v1.2).
 *
 * @example
 * const passport = await exchangeForPassport(idp, client, access_token, 'http://127.0.0.1:3001');
 */
export async function exchangeForPassport(
  idp: RunningIdp,
  client: IdpClient,
  accessToken: string,
  audience: string,
): Promise<string> {
  const response = await fetch(new URL('/token', idp.url), {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: accessToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      requested_token_type: 'urn:ga4gh:params:oauth:token-type:passport',
      audience,
    }),
  });
  if (!response.ok) throw new Error(`token exchange answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}
