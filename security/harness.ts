/**
 * The adversarial suite's harness: the BUILT servers as child processes on 127.0.0.1, with configs, keys and
 * secrets made at test time, every byte of their stdout and stderr kept, and an HTTP client that can send what a
 * browser never would (duplicate and oversized headers, raw paths, raw bytes).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, type IncomingHttpHeaders, request as httpRequest, createServer } from 'node:http';
import { connect, createServer as createNetServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashPassword } from '@pp-embed/access-policy';
import { generateSecret, publicJwk } from '@pp-embed/dataset-token';
import { ERROR_CODES, type ErrorCode, isTokenInvalidReason } from '@pp-embed/viz-api';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type ForgeAlgorithm, type ForgeOptions, forge } from './jws.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const VIZ_MAIN = join(ROOT, 'apps/viz-server/dist/main.js');
export const VIZ_GENERATOR = join(ROOT, 'apps/viz-server/dist/termdb/generate-cli.js');
export const PORTAL_MAIN = join(ROOT, 'apps/portal/dist/main.js');
export const PORTAL_CLI = join(ROOT, 'apps/portal/dist/cli.js');

/** The embedding portal every credential names, and a second one with a secret of its own. */
export const PORTAL_ORIGIN = 'http://portal.test:8080';
export const PORTAL_HOST = 'portal.test:8080';
export const SECOND_ORIGIN = 'http://second.test';
export const SECOND_HOST = 'second.test';
/** Where the suite's own requests come from: the server sees the socket peer. */
export const LOOPBACK = '127.0.0.1';
export const CUSTOM_HEADER = 'X-Portal-Token';

/** Datasets of the lab server, by the credential that guards them. */
export const DS = {
  /** HS256 shared secret, route `*`; a second embedder with another secret and looseIpCheck. */
  hs: 'HsData',
  /** RS256 public key (PEM file made at test time). */
  rs: 'RsData',
  /** ES256 public key. */
  es: 'EsData',
  /** ES256 keys from a JWKS URL served by the harness on loopback. */
  jwks: 'JwksData',
  /** HS256, token in a custom headerKey. */
  header: 'HeaderData',
  /** HS256 under a `termdb` route key: aggregated routes open, sample-level routes need a token. */
  termdb: 'TermdbData',
  /** No key of its own: the `*` dataset key guards it. */
  star: 'StarData',
  /** A dataset password (`basic`), every route, for the portal: the login route issues its tokens. */
  password: 'PasswordData',
} as const;

export type DatasetLabel = (typeof DS)[keyof typeof DS];

export const MIN_SAMPLE_SIZE = 5;
/** The verifier's default clock skew (apps/viz-server tokenLeeway, not set by the lab). */
export const LEEWAY_SECONDS = 5;

export const samplesPath = (ds: string, term = 'sex'): string =>
  `/termdb/samples?dslabel=${encodeURIComponent(ds)}&term=${encodeURIComponent(term)}`;
export const barchartPath = (ds: string, term = 'sex'): string =>
  `/termdb/barchart?dslabel=${encodeURIComponent(ds)}&term=${encodeURIComponent(term)}`;

/** Events the servers write; anything else in a log is a forged or unexpected line. */
export const VIZ_EVENTS = new Set([
  'listening',
  'dataset_ready',
  'refused',
  'bad_request',
  'log_suppressed',
  'config_warning',
  'jwks_fetched',
  'jwks_fetch_failed',
  'jwks_key_ignored',
  'issuer_discovered',
  'issuer_discovery_failed',
  'bundle_missing',
  'sample_access',
  'draining',
  'stopped',
  'dataset_swapped',
  'dataset_update_refused',
  'dataset_changed_in_place',
  'dataset_unreadable',
  'dataset_file_missing',
  'dataset_damaged',
  'dataset_check_failed',
  'dataset_watch_failed',
  'forced_exit',
  'shutdown_failed',
  'access',
  'open_to_everyone',
  'login',
  'table_stream_failed',
  'embedder_registry_loaded',
  'embedder_registry_refused',
  'embedder_registry_watch_failed',
  'key_use_not_recorded',
]);

// ---------------------------------------------------------------------------------------------------------
// Dataset

/**
 * A generated termdb dataset (by default 2000 samples, seed 1), made once per build of the generator with the
 * built CLI and shared by every test file: files run in parallel, so it is written under a temporary name and
 * renamed. Treat it as read-only; copy it to change it.
 */
export function generatedDataset(samples = 2000, seed = 1): string {
  if (!existsSync(VIZ_GENERATOR)) throw new Error('build first: npx -y pnpm@10 run build');
  // The generator's entry and the module that writes the data: a change to either is a new dataset.
  const hash = createHash('sha256').update(readFileSync(VIZ_GENERATOR));
  hash.update(readFileSync(join(VIZ_GENERATOR, '..', 'generate.js')));
  const version = hash.digest('hex').slice(0, 12);
  const dir = join(tmpdir(), 'pp-embed-security');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `termdb-${samples}-seed${seed}-${version}.db`);
  if (existsSync(file)) return file;
  const scratch = join(dir, `${randomUUID()}.db`);
  execFileSync(
    process.execPath,
    [VIZ_GENERATOR, '--out', scratch, '--samples', String(samples), '--seed', String(seed)],
    { stdio: 'pipe' },
  );
  renameSync(scratch, file);
  return file;
}

// ---------------------------------------------------------------------------------------------------------
// Child processes

export interface StartOptions {
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Reads the listening URL from a parsed stderr line, or undefined when the line is not it. */
  listening: (line: Record<string, unknown>) => string | undefined;
  timeoutMs?: number;
}

/** A server running as a child process, with everything it wrote. */
export class ChildServer {
  readonly child: ChildProcess;
  readonly url: string;
  readonly port: number;
  readonly #stdout: Buffer[];
  readonly #stderr: Buffer[];

  private constructor(child: ChildProcess, url: string, stdout: Buffer[], stderr: Buffer[]) {
    this.child = child;
    this.url = url;
    this.port = Number(new URL(url).port);
    this.#stdout = stdout;
    this.#stderr = stderr;
  }

  static start(script: string, options: StartOptions): Promise<ChildServer> {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const child = spawn(process.execPath, [script, ...options.args], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    return new Promise((resolve, reject) => {
      let pending = '';
      let settled = false;
      const fail = (why: string) => {
        if (settled) return;
        settled = true;
        child.kill('SIGKILL');
        reject(new Error(`${script} ${why}\n${Buffer.concat(stderr).toString('utf8')}`));
      };
      const timer = setTimeout(() => fail('did not start in time'), options.timeoutMs ?? 20_000);
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr.push(chunk);
        if (settled) return;
        pending += chunk.toString('utf8');
        let newline = pending.indexOf('\n');
        while (newline !== -1) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          newline = pending.indexOf('\n');
          let parsed: unknown;
          try {
            parsed = JSON.parse(line);
          } catch {
            continue;
          }
          const url =
            typeof parsed === 'object' && parsed !== null
              ? options.listening(parsed as Record<string, unknown>)
              : undefined;
          if (url !== undefined) {
            settled = true;
            clearTimeout(timer);
            resolve(new ChildServer(child, url, stdout, stderr));
            return;
          }
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        fail(`exited (${code ?? signal}) before listening`);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  stdout(): string {
    return Buffer.concat(this.#stdout).toString('utf8');
  }

  stderr(): string {
    return Buffer.concat(this.#stderr).toString('utf8');
  }

  async stop(): Promise<void> {
    if (!this.alive()) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------------------
// HTTP

/** A response as it came off the wire. */
export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  /** Header names and values in order, duplicates kept. */
  rawHeaders: string[];
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: unknown;
}

export interface SendOptions {
  method?: string;
  path: string;
  /** Pairs, so that a name may repeat (each pair is its own header line). */
  headers?: readonly (readonly [string, string])[];
  body?: string;
  agent?: Agent | false;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * One request with node:http. Header pairs go out as given, one line each, so a repeated name really repeats.
 *
 * @example
 * await send(port, { path: '/healthcheck', headers: [['x-ds-access-token', a], ['x-ds-access-token', b]] });
 */
export function send(port: number, options: SendOptions): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const flat: string[] = [];
    // With headers given as a list node:http adds no Host, which HTTP/1.1 requires (RFC 9112 §3.2).
    if (!(options.headers ?? []).some(([name]) => name.toLowerCase() === 'host')) {
      flat.push('host', `${LOOPBACK}:${port}`);
    }
    for (const [name, value] of options.headers ?? []) flat.push(name, value);
    if (options.body !== undefined) flat.push('content-length', String(Buffer.byteLength(options.body)));
    const req = httpRequest(
      {
        host: LOOPBACK,
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: flat,
        agent: options.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            text,
            json: parseJson(text),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error(`no answer to ${options.path}`)));
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/**
 * Writes raw bytes to the server and reads until it closes the connection: for request lines and headers that
 * node:http refuses to send. The request should say `Connection: close`.
 *
 * @example
 * const reply = await sendRaw(port, 'GET /%0a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
 */
export function sendRaw(port: number, bytes: string | Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, LOOPBACK);
    const chunks: Buffer[] = [];
    socket.setTimeout(15_000, () => socket.destroy(new Error('no answer to a raw request')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The server may reset a connection it refused; what it wrote before that still counts.
      if (error.code === 'ECONNRESET' && chunks.length > 0) socket.emit('end');
      else reject(error);
    });
    socket.on('end', () => {
      const all = Buffer.concat(chunks).toString('latin1');
      const split = all.indexOf('\r\n\r\n');
      const head = split === -1 ? all : all.slice(0, split);
      const [statusLine = '', ...lines] = head.split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
      const headers: IncomingHttpHeaders = {};
      const rawHeaders: string[] = [];
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon === -1) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        rawHeaders.push(name, value);
        headers[name.toLowerCase()] = value;
      }
      let body = split === -1 ? '' : Buffer.from(all.slice(split + 4), 'latin1').toString('utf8');
      if (/chunked/i.test(String(headers['transfer-encoding'] ?? ''))) body = unchunk(body);
      resolve({ status, headers, rawHeaders, text: body, json: parseJson(body) });
      socket.destroy();
    });
    socket.write(bytes);
  });
}

function unchunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    if (eol === -1) return out;
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (!(size > 0)) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

/**
 * A TCP listener on loopback that counts connections and answers nothing: where hostile `jku`/`x5u` headers
 * point. A server that follows them shows up here (RFC 8725 §3.10).
 */
export async function connectionTrap(): Promise<{ url: string; connections: () => number; close(): void }> {
  let count = 0;
  const server: NetServer = createNetServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://${LOOPBACK}:${port}`,
    connections: () => count,
    close: () => server.close(),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Keys

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicPem: string;
}

function keyPair(type: 'rsa' | 'ec'): KeyPair {
  const pair =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    publicPem: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

/** Every key the lab server trusts, made fresh for each lab. */
export interface LabKeys {
  /** HS256 secret of the main portal (HsData, HeaderData, TermdbData, StarData). */
  hs: string;
  /** HS256 secret of the second embedder of HsData. */
  second: string;
  rsa: KeyPair;
  ec: KeyPair;
  /** The key behind the JWKS URL, published with kid `JWKS_KID`. */
  jwks: KeyPair;
  /** The dataset password of PasswordData, and the secret the server signs its tokens with. */
  password: string;
  tokenSecret: string;
}

export const JWKS_KID = 'portal-key-1';

export type KeyName = 'hs' | 'second' | 'rsa' | 'ec' | 'jwks';

const DEFAULT_ALG: Record<KeyName, ForgeAlgorithm> = {
  hs: 'HS256',
  second: 'HS256',
  rsa: 'RS256',
  ec: 'ES256',
  jwks: 'ES256',
};

/** The credential, embedder and header each dataset of the lab expects. */
export const DATASET_KEY: Record<DatasetLabel, KeyName> = {
  HsData: 'hs',
  RsData: 'rsa',
  EsData: 'ec',
  JwksData: 'jwks',
  HeaderData: 'hs',
  TermdbData: 'hs',
  StarData: 'hs',
  // Its tokens are the server's own, issued for the password; a portal's HS256 token is what an attacker forges.
  PasswordData: 'hs',
};

// ---------------------------------------------------------------------------------------------------------
// The visualization server lab

export interface LabOptions {
  /** `trustProxy` of serverconfig.json. */
  trustProxy?: string[];
  /** TermdbData's entry takes scripts (`"scripts": true`): requests without an Origin, with a script's token. */
  scripts?: boolean;
}

export interface GetOptions {
  token?: string;
  /** Header the token goes in. Default x-ds-access-token (CUSTOM_HEADER for HeaderData). */
  headerKey?: string;
  /** Origin header; null sends none. Default the main portal. */
  origin?: string | null;
  headers?: readonly (readonly [string, string])[];
  method?: string;
  body?: string;
}

export interface TokenOptions {
  /** Whose key signs, and with which algorithm. Default the dataset's own. */
  key?: KeyName;
  alg?: ForgeAlgorithm;
  /** Extra header members (kid, jku, …) over `{alg, typ}`. */
  header?: Record<string, unknown>;
  /** Claims over the defaults; a member set to undefined is left out. */
  claims?: Record<string, unknown>;
}

/** Claims a portal would mint for the lab's user, now. */
export function defaultClaims(dataset: string, nowSeconds = Math.floor(Date.now() / 1000)) {
  return {
    datasets: [dataset],
    email: 'ana@example.org',
    ip: LOOPBACK,
    iat: nowSeconds,
    exp: nowSeconds + 300,
    jti: randomUUID(),
  };
}

/**
 * The visualization server under attack: a serverconfig.json written at test time, the BUILT server as a child
 * process, a JWKS endpoint on loopback, and the bookkeeping for the end-of-file checks (every token sent, every
 * secret used, every reply received).
 */
export class VizLab {
  readonly dir: string;
  readonly keys: LabKeys;
  readonly options: LabOptions;
  /** Every token the lab made; none may show up in a log, whole or in part. */
  readonly tokens = new Set<string>();
  /** Every secret and private key the lab made. */
  readonly secrets: string[] = [];
  /** Every reply a test got from the server (through `get`/`send`/`raw`). */
  readonly replies: { what: string; reply: Reply }[] = [];
  /** Every server process this lab ran, stopped or not. */
  readonly servers: ChildServer[] = [];
  readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });
  #jwksServer: ReturnType<typeof createServer> | undefined;
  #jwksRequests = 0;
  #jwksUrl = '';

  private constructor(options: LabOptions) {
    this.options = options;
    this.dir = mkdtempSync(join(tmpdir(), 'pp-security-'));
    this.keys = {
      hs: generateSecret(),
      second: generateSecret(),
      rsa: keyPair('rsa'),
      ec: keyPair('ec'),
      jwks: keyPair('ec'),
      password: `pw-${randomUUID()}`,
      tokenSecret: generateSecret(),
    };
    this.#remember(this.keys);
  }

  /** The scrypt hash of the dataset password, made once (at the cheapest cost the server accepts). */
  #passwordHash = '';

  #remember(keys: LabKeys): void {
    this.secrets.push(keys.hs, keys.second, keys.password, keys.tokenSecret);
    for (const pair of [keys.rsa, keys.ec, keys.jwks]) {
      const pem = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
      // The base64 body lines of the PEM: any one of them in a log is a leak.
      this.secrets.push(...pem.split('\n').filter((line) => line.length >= 40 && !line.startsWith('-----')));
      const jwk = pair.privateKey.export({ format: 'jwk' });
      if (typeof jwk.d === 'string') this.secrets.push(jwk.d);
    }
  }

  static async start(options: LabOptions = {}): Promise<VizLab> {
    const lab = new VizLab(options);
    lab.#passwordHash = await hashPassword(lab.keys.password, { ln: 14, r: 8, p: 1 });
    await lab.#serveJwks();
    await lab.#startServer();
    return lab;
  }

  get server(): ChildServer {
    const last = this.servers[this.servers.length - 1];
    if (last === undefined) throw new Error('the lab has no server');
    return last;
  }

  /** How many times the server fetched the JWKS URL. */
  get jwksRequests(): number {
    return this.#jwksRequests;
  }

  async #serveJwks(): Promise<void> {
    const body = JSON.stringify({ keys: [publicJwk(this.keys.jwks.publicKey, 'ES256', JWKS_KID)] });
    this.#jwksServer = createServer((req, res) => {
      this.#jwksRequests++;
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
      res.end(body);
    });
    await new Promise<void>((resolve) => this.#jwksServer?.listen(0, LOOPBACK, resolve));
    const { port } = this.#jwksServer.address() as { port: number };
    this.#jwksUrl = `http://${LOOPBACK}:${port}/jwks.json`;
  }

  #writeConfig(): string {
    const dir = this.dir;
    writeFileSync(join(dir, 'hs.secret'), this.keys.hs, { mode: 0o600 });
    writeFileSync(join(dir, 'second.secret'), this.keys.second, { mode: 0o600 });
    writeFileSync(join(dir, 'token.secret'), this.keys.tokenSecret, { mode: 0o600 });
    writeFileSync(join(dir, 'rs.pub.pem'), this.keys.rsa.publicPem);
    writeFileSync(join(dir, 'es.pub.pem'), this.keys.ec.publicPem);
    const file = generatedDataset();
    const hs = { type: 'jwt', secret: { file: 'hs.secret' } };
    const config = {
      host: LOOPBACK,
      ...(this.options.trustProxy !== undefined && { trustProxy: this.options.trustProxy }),
      datasets: Object.values(DS).map((label) => ({
        label,
        genome: 'hg38',
        file,
        minSampleSize: MIN_SAMPLE_SIZE,
      })),
      dsCredentials: {
        [DS.hs]: {
          '*': {
            [PORTAL_HOST]: hs,
            [SECOND_HOST]: { type: 'jwt', secret: { file: 'second.secret' }, looseIpCheck: true },
          },
        },
        [DS.rs]: { '*': { [PORTAL_HOST]: { type: 'jwt', publicKey: 'rs.pub.pem' } } },
        [DS.es]: { '*': { [PORTAL_HOST]: { type: 'jwt', publicKey: 'es.pub.pem' } } },
        [DS.jwks]: { '*': { [PORTAL_HOST]: { type: 'jwt', jwks: this.#jwksUrl } } },
        [DS.header]: { '*': { [PORTAL_HOST]: { ...hs, headerKey: CUSTOM_HEADER } } },
        [DS.termdb]: {
          termdb: { [PORTAL_HOST]: this.options.scripts === true ? { ...hs, scripts: true } : hs },
        },
        [DS.password]: {
          '*': {
            [PORTAL_HOST]: {
              type: 'basic',
              passwordHash: this.#passwordHash,
              tokenSecret: { file: 'token.secret' },
            },
          },
        },
        '*': { '*': { [PORTAL_HOST]: hs } },
      },
    };
    const path = join(dir, 'serverconfig.json');
    writeFileSync(path, JSON.stringify(config, null, 2));
    return path;
  }

  async #startServer(): Promise<void> {
    const config = this.#writeConfig();
    const server = await ChildServer.start(VIZ_MAIN, {
      args: ['--config', config, '--port', '0', '--host', LOOPBACK],
      listening: (line) =>
        line.event === 'listening' && typeof line.url === 'string' ? line.url : undefined,
    });
    this.servers.push(server);
  }

  /**
   * Stops the server and starts it again with new HS secrets (key rotation the way an operator does it).
   * The old secrets stay on the list of what must never be logged.
   */
  async rotateSecrets(): Promise<void> {
    await this.server.stop();
    this.agent.destroy();
    this.keys.hs = generateSecret();
    this.keys.second = generateSecret();
    this.secrets.push(this.keys.hs, this.keys.second);
    await this.#startServer();
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    for (const server of this.servers) await server.stop();
    this.#jwksServer?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  // ------------------------------------------------------------------------------------------------------
  // Tokens

  /** Remembers a token made elsewhere, for the log checks. */
  track(token: string): string {
    this.tokens.add(token);
    return token;
  }

  keyObject(name: KeyName): KeyObject | string {
    const key = this.keys[name];
    return typeof key === 'string' ? key : key.privateKey;
  }

  /**
   * A signed token for `dataset` (by default valid: its own key, claims for the lab's user and address).
   *
   * @example
   * lab.token(DS.hs, { claims: { exp: undefined } }); // no exp
   * lab.token(DS.rs, { alg: 'PS256' });               // right key, other algorithm
   */
  token(dataset: DatasetLabel, options: TokenOptions = {}): string {
    const keyName = options.key ?? DATASET_KEY[dataset];
    const alg = options.alg ?? DEFAULT_ALG[keyName];
    const claims: Record<string, unknown> = { ...defaultClaims(dataset), ...options.claims };
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
    const header: Record<string, unknown> = {
      alg,
      typ: 'JWT',
      ...(keyName === 'jwks' && { kid: JWKS_KID }),
      ...options.header,
    };
    for (const [name, value] of Object.entries(header)) if (value === undefined) delete header[name];
    return this.forge({ header, payload: claims, signWith: alg, key: this.keyObject(keyName) });
  }

  /** {@link forge}, tracked. */
  forge(options: ForgeOptions): string {
    return this.track(forge(options));
  }

  // ------------------------------------------------------------------------------------------------------
  // Requests

  /**
   * A GET (by default) from the main portal's origin, with the token in the dataset's header.
   *
   * @example
   * const reply = await lab.get(samplesPath(DS.hs), { token: lab.token(DS.hs) });
   */
  async get(path: string, options: GetOptions = {}): Promise<Reply> {
    const headers: (readonly [string, string])[] = [];
    const origin = options.origin === undefined ? PORTAL_ORIGIN : options.origin;
    if (origin !== null) headers.push(['origin', origin]);
    if (options.token !== undefined) {
      const key =
        options.headerKey ?? (path.includes(`dslabel=${DS.header}`) ? CUSTOM_HEADER : 'x-ds-access-token');
      headers.push([key, options.token]);
    }
    headers.push(...(options.headers ?? []));
    return this.send({
      path,
      headers,
      ...(options.method !== undefined && { method: options.method }),
      ...(options.body !== undefined && { body: options.body }),
    });
  }

  async send(options: SendOptions): Promise<Reply> {
    const reply = await send(this.server.port, { agent: this.agent, ...options });
    this.replies.push({ what: `${options.method ?? 'GET'} ${options.path}`, reply });
    return reply;
  }

  async raw(bytes: string | Buffer): Promise<Reply> {
    const reply = await sendRaw(this.server.port, bytes);
    this.replies.push({ what: `raw ${String(bytes).slice(0, 60)}`, reply });
    return reply;
  }

  /** The server process is alive and answers `/healthcheck` with 200. */
  async expectHealthy(): Promise<void> {
    expect(this.server.alive(), 'server process alive').toBe(true);
    const reply = await send(this.server.port, { path: '/healthcheck', agent: false });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ status: 'ok' });
  }

  /** Everything every server of this lab wrote, as (stream, text) pairs. */
  logs(): { stream: 'stdout' | 'stderr'; text: string }[] {
    return this.servers.flatMap((s) => [
      { stream: 'stdout' as const, text: s.stdout() },
      { stream: 'stderr' as const, text: s.stderr() },
    ]);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Expectations

/**
 * Codes a refusal may carry: the wire contract's table without the server family, since an attack must never
 * reach a 5xx.
 */
export const VIZ_ERROR_CODES: ReadonlySet<string> = new Set(
  (Object.keys(ERROR_CODES) as ErrorCode[]).filter((code) => ERROR_CODES[code].family !== 'server'),
);

// What a library or a stack trace looks like when it leaks into a response body (OWASP Error Handling).
const LEAKY =
  /jwt|jsonwebtoken|jws|invalid signature|\bat [\w.<>]+ \(|node:internal|TypeError|SyntaxError|Error:/i;

/**
 * The one refusal shape: exactly `{"error":{"code","message"}}` (and a `reason` of the wire contract with
 * `token_invalid` alone), a stable code, a plain message with no library text, JSON content type; 401s carry the
 * RFC 6750 §3 challenge.
 */
export function expectRefusal(reply: Reply, status: number, code: string): void {
  expect({ status: reply.status, body: reply.json }, reply.text).toMatchObject({
    status,
    body: { error: { code } },
  });
  expectErrorShape(reply);
  if (status === 401) {
    const challenge = String(reply.headers['www-authenticate'] ?? '');
    expect(challenge).toMatch(/^Bearer /);
    // RFC 6750 §3: no error code when the request carried no token to be wrong.
    if (code === 'token_missing' || code === 'password_invalid') expect(challenge).not.toContain('error=');
    else expect(challenge).toContain('error="invalid_token"');
  }
}

/** The shape check alone, for any error reply. */
export function expectErrorShape(reply: Reply): void {
  expect(String(reply.headers['content-type'] ?? '')).toMatch(/^application\/json/);
  const body = reply.json as { error?: Record<string, unknown> } | undefined;
  expect(body, reply.text).toBeTypeOf('object');
  expect(Object.keys(body ?? {})).toEqual(['error']);
  // A token_invalid names which part of the token is wrong, by a stable reason; nothing else adds a member.
  const reason = body?.error?.code === 'token_invalid' ? ['reason'] : [];
  expect(Object.keys(body?.error ?? {}).sort()).toEqual(['code', 'message', ...reason]);
  if (reason.length > 0) expect(isTokenInvalidReason(body?.error?.reason), reply.text).toBe(true);
  expect(
    VIZ_ERROR_CODES.has(String(body?.error?.code)),
    `stable code, got ${String(body?.error?.code)}`,
  ).toBe(true);
  expect(body?.error?.message).toBeTypeOf('string');
  expect(reply.text).not.toMatch(LEAKY);
}

/** An accepted data request. */
export function expectGranted(reply: Reply): void {
  expect({ status: reply.status, body: reply.json }, reply.text).toMatchObject({ status: 200 });
}

/**
 * Log hygiene after a file's attacks (OWASP Logging Cheat Sheet; docs: "no secrets or tokens in logs"):
 * every line is one JSON object with a known event, no line is an internal error, and no token, token segment
 * or secret appears anywhere in what the processes wrote.
 */
export function expectCleanLogs(
  logs: readonly { stream: string; text: string }[],
  forbidden: { tokens: Iterable<string>; secrets: Iterable<string> },
  events: ReadonlySet<string>,
): void {
  const fragments = new Set<string>();
  for (const token of forbidden.tokens) {
    if (token.length >= 16) fragments.add(token);
    const [, payload, signature] = token.split('.');
    // The header segment is the same for every token of a portal and public; payload and signature are not.
    if (payload !== undefined && payload.length >= 16) fragments.add(payload);
    if (signature !== undefined && signature.length >= 16) fragments.add(signature);
  }
  for (const secret of forbidden.secrets) if (secret.length >= 16) fragments.add(secret);
  for (const { stream, text } of logs) {
    for (const fragment of fragments) {
      if (text.includes(fragment)) {
        expect.fail(`${stream} contains a token fragment or secret: ${fragment.slice(0, 12)}…`);
      }
    }
    const lines = text.split('\n');
    expect(lines.pop(), `${stream} ends with a newline`).toBe('');
    for (const line of lines) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        expect.fail(`${stream} has a line that is not JSON (forged or stray): ${line.slice(0, 120)}`);
      }
      expect(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed), line).toBe(true);
      const event = (parsed as { event?: unknown }).event;
      expect(events.has(String(event)), `${stream}: unexpected event ${String(event)}`).toBe(true);
    }
  }
}

/** Every reply of a lab: no 5xx, no credentials grant, every JSON error in the one shape. */
export function expectRepliesWellFormed(replies: readonly { what: string; reply: Reply }[]): void {
  for (const { what, reply } of replies) {
    expect(reply.status, what).toBeGreaterThan(0);
    expect(reply.status, what).toBeLessThan(500);
    expect(reply.headers['access-control-allow-credentials'], what).toBeUndefined();
    const isJson = String(reply.headers['content-type'] ?? '').startsWith('application/json');
    // A HEAD answer has the headers of the GET and no body to check.
    if (reply.status >= 400 && isJson && !what.startsWith('HEAD ')) expectErrorShape(reply);
  }
}

/** Random bytes as base64url, for junk of a given length. */
export function junk(length: number): string {
  return randomBytes(Math.ceil((length * 3) / 4) + 3)
    .toString('base64url')
    .slice(0, length);
}

// ---------------------------------------------------------------------------------------------------------
// File scaffolding

/**
 * Starts a lab for the file, checks after every case that the server is still alive and healthy, and stops it
 * at the end. Returns a getter (the lab exists only once `beforeAll` ran).
 *
 * @example
 * const lab = useVizLab();
 * it('refuses …', async () => expectRefusal(await lab().get(samplesPath(DS.hs)), 401, 'token_missing'));
 */
export function useVizLab(options: LabOptions = {}): () => VizLab {
  let lab: VizLab | undefined;
  beforeAll(async () => {
    lab = await VizLab.start(options);
  });
  afterEach(async () => {
    await lab?.expectHealthy();
  });
  afterAll(async () => {
    await lab?.stop();
  });
  return () => {
    if (lab === undefined) throw new Error('the lab did not start');
    return lab;
  };
}

/**
 * The last case of a file: after every attack above, the logs of every server the lab ran are clean and every
 * reply was well formed. Tests in a file run in order, so this one sees all of them.
 */
export function itLeavesCleanLogs(labs: () => readonly VizLab[]): void {
  it('leaves no token, token fragment, secret or forged line in the logs, and never answered 5xx (OWASP Logging Cheat Sheet; RFC 8725 §3)', () => {
    for (const lab of labs()) {
      expect(lab.replies.length).toBeGreaterThan(0);
      expectCleanLogs(lab.logs(), lab, VIZ_EVENTS);
      expectRepliesWellFormed(lab.replies);
    }
  });
}
