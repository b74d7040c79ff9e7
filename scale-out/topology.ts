/**
 * A scale-out deployment on 127.0.0.1, from the BUILT apps as operators run them: a throwaway PostgreSQL cluster,
 * N portal replicas on it, M visualization server replicas with the portal's revocation feed, and HAProxy in front
 * of each tier (health checks, retries of idempotent requests on another replica). Shared by the scale-out test
 * and the benchmarks.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../scripts/free-port.js';
import { type PostgresCluster, startPostgres } from '../scripts/postgres-cluster.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PORTAL_MAIN = join(ROOT, 'apps/portal/dist/main.js');
const PORTAL_CLI = join(ROOT, 'apps/portal/dist/cli.js');
const VIZ_MAIN = join(ROOT, 'apps/viz-server/dist/main.js');
const GENERATOR = join(ROOT, 'apps/viz-server/dist/termdb/generate-cli.js');
export const HAPROXY = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((p) => existsSync(p));

export const PASSWORD = 'a scale-out test password';
export const USER = 'ana@example.org';
export const ADMIN = 'admin@example.org';

/** One process of the deployment, with its log kept in memory (bounded) and counted by event. */
export class Replica {
  readonly events = new Map<string, number>();
  #log = '';

  constructor(
    readonly name: string,
    readonly url: string,
    readonly child: ChildProcess,
  ) {
    const read = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.#log = (this.#log + text).slice(-20_000);
      for (const m of text.matchAll(/"event":"([a-z_]+)"/g)) {
        this.events.set(m[1] as string, (this.events.get(m[1] as string) ?? 0) + 1);
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
  }

  get log(): string {
    return this.#log;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.alive) this.child.kill(signal);
  }
}

export interface Topology {
  pg: PostgresCluster;
  /** What browsers call the portal: the portal balancer's origin. */
  portalOrigin: string;
  portalBalancer: string;
  vizBalancer: string;
  portals: Replica[];
  viz: Replica[];
  haproxy: Replica;
  /** Signs in on one portal (a replica's URL or the balancer) and returns a session that mints tokens. */
  signIn(portal: string, email: string): Promise<PortalSession>;
  /** Another HAProxy in front of some of the visualization replicas (for benchmarks: 1 vs 3 behind a balancer). */
  balancer(replicas: readonly Replica[]): Promise<Replica>;
  stop(): Promise<void>;
}

export interface PortalSession {
  token(): Promise<string>;
  /** The session cookie, to present it to another portal replica. */
  cookie(): string;
  /** The admin page's form: revokes, answering the portal's HTTP status. */
  revoke(fields: Record<string, string>): Promise<number>;
}

async function waitFor(url: string, replica: Replica): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (!replica.alive) throw new Error(`${replica.name} exited\n${replica.log}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${replica.name} did not answer ${url}\n${replica.log}`);
}

function start(name: string, url: string, args: string[], env: NodeJS.ProcessEnv): Replica {
  const child = spawn(args[0] as string, args.slice(1), {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Replica(name, url, child);
}

function dataset(): string {
  const dir = join(tmpdir(), 'pp-embed-scale-out');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'PPDemo-2000-seed1.db');
  if (!existsSync(file)) {
    const scratch = join(dir, `${randomBytes(6).toString('hex')}.db`);
    spawnSync(process.execPath, [GENERATOR, '--out', scratch, '--samples', '2000', '--seed', '1'], {
      stdio: 'ignore',
    });
    spawnSync('mv', [scratch, file]);
  }
  return file;
}

const HAPROXY_DEFAULTS = [
  'global',
  '  maxconn 4096',
  'defaults',
  '  mode http',
  '  timeout connect 2s',
  '  timeout client 60s',
  // Longer than the revocation feed's held requests (at most 25 s).
  '  timeout server 60s',
  '  retries 3',
  '  option redispatch 1',
  // Idempotent GETs that die with a replica are sent again to another one.
  '  retry-on all-retryable-errors',
];

/** One tier behind the balancer: round robin over replicas that answer their health check (every 500 ms). */
function tier(name: string, port: number, replicas: readonly number[]): string[] {
  return [
    `frontend ${name}`,
    `  bind 127.0.0.1:${port}`,
    `  default_backend ${name}`,
    `backend ${name}`,
    '  balance roundrobin',
    // HTTP/1.1 with a Host header: HAProxy's plain 'option httpchk' sends HTTP/1.0 without one, answered 400.
    '  option httpchk',
    '  http-check send meth GET uri /healthcheck ver HTTP/1.1 hdr Host localhost',
    '  http-check expect status 200',
    ...replicas.map((p, i) => `  server ${name}${i} 127.0.0.1:${p} check inter 500 fall 2 rise 1`),
  ];
}

/**
 * Starts the deployment. Needs the build, PostgreSQL and HAProxy.
 *
 * @example
 * const t = await startTopology({ portals: 2, viz: 3 });
 * try { … } finally { await t.stop() }
 */
export async function startTopology(options: {
  portals: number;
  viz: number;
  maxStaleSeconds?: number;
}): Promise<Topology> {
  for (const file of [PORTAL_MAIN, VIZ_MAIN, GENERATOR]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: build first (npx -y pnpm@10 run build)`);
  }
  if (HAPROXY === undefined) throw new Error('HAProxy is not installed: apt-get install haproxy');
  const dir = mkdtempSync(join(tmpdir(), 'pp-scale-out-'));
  const secret = randomBytes(32).toString('base64url');
  const pg = await startPostgres();
  const stopAll: (() => void)[] = [() => pg.stop(), () => rmSync(dir, { recursive: true, force: true })];
  try {
    const url = pg.database('postgres');
    const env = { PP_DS_SECRET: secret, PP_PORTAL_DATABASE_URL: url };
    const cli = (args: string[], input = '') => {
      const r = spawnSync(process.execPath, [PORTAL_CLI, ...args], {
        env: { ...process.env, ...env },
        input,
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`pp-portal-users ${args.join(' ')}: ${r.stderr}`);
    };
    cli(['add-user', USER, '--password-stdin'], PASSWORD);
    cli(['grant', USER, 'PPDemo', '--client-auth-result', '{"role":"analyst"}']);
    cli(['add-user', ADMIN, '--password-stdin'], PASSWORD);
    cli(['set-admin', ADMIN]);

    const portalLb = await freePort();
    const vizLb = await freePort();
    const portalOrigin = `http://127.0.0.1:${portalLb}`;
    const portalPorts = await Promise.all(Array.from({ length: options.portals }, () => freePort()));
    const vizPorts = await Promise.all(Array.from({ length: options.viz }, () => freePort()));

    const portals = portalPorts.map((port, i) =>
      start(
        `portal-${i}`,
        `http://127.0.0.1:${port}`,
        [
          process.execPath,
          PORTAL_MAIN,
          '--port',
          String(port),
          '--public-url',
          portalOrigin,
          '--viz-server',
          `http://127.0.0.1:${vizLb}`,
          '--token-ip',
          'none',
          '--datasets',
          'PPDemo:hg38',
        ],
        env,
      ),
    );
    stopAll.push(() => portals.forEach((p) => p.kill()));
    await Promise.all(portals.map((p) => waitFor(`${p.url}/healthcheck`, p)));

    const embedder = `127.0.0.1:${portalLb}`;
    const config = {
      datasets: [{ label: 'PPDemo', genome: 'hg38', file: dataset(), minSampleSize: 5 }],
      dsCredentials: {
        PPDemo: {
          termdb: { [embedder]: { type: 'jwt', secret: { env: 'PP_DS_SECRET' }, looseIpCheck: true } },
        },
      },
      revocationFeeds: {
        portal: {
          url: `${portalOrigin}/.well-known/pp-revocations`,
          secret: { env: 'PP_DS_SECRET' },
          embedders: [embedder],
          maxStaleSeconds: options.maxStaleSeconds ?? 30,
        },
      },
    };
    writeFileSync(join(dir, 'serverconfig.json'), JSON.stringify(config));

    const haproxyConfig = [
      ...HAPROXY_DEFAULTS,
      ...tier('portal', portalLb, portalPorts),
      ...tier('viz', vizLb, vizPorts),
      '',
    ].join('\n');
    writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig);
    const haproxy = start(
      'haproxy',
      `http://127.0.0.1:${vizLb}`,
      [HAPROXY, '-db', '-f', join(dir, 'haproxy.cfg')],
      {},
    );
    stopAll.push(() => haproxy.kill());
    await waitFor(`${portalOrigin}/healthcheck`, haproxy);

    const viz = vizPorts.map((port, i) =>
      start(
        `viz-${i}`,
        `http://127.0.0.1:${port}`,
        [process.execPath, VIZ_MAIN, '--config', join(dir, 'serverconfig.json'), '--port', String(port)],
        env,
      ),
    );
    stopAll.push(() => viz.forEach((v) => v.kill()));
    await Promise.all(viz.map((v) => waitFor(`${v.url}/healthcheck`, v)));
    await waitFor(`http://127.0.0.1:${vizLb}/healthcheck`, haproxy);

    return {
      pg,
      portalOrigin,
      portalBalancer: portalOrigin,
      vizBalancer: `http://127.0.0.1:${vizLb}`,
      portals,
      viz,
      haproxy,
      signIn: (portal, email) => signIn(portal, portalOrigin, email),
      async balancer(replicas) {
        const port = await freePort();
        const file = join(dir, `haproxy-${port}.cfg`);
        const ports = replicas.map((r) => Number(new URL(r.url).port));
        writeFileSync(file, [...HAPROXY_DEFAULTS, ...tier('viz', port, ports), ''].join('\n'));
        const extra = start(
          `haproxy-${port}`,
          `http://127.0.0.1:${port}`,
          [HAPROXY as string, '-db', '-f', file],
          {},
        );
        stopAll.push(() => extra.kill());
        await waitFor(`${extra.url}/healthcheck`, extra);
        return extra;
      },
      async stop() {
        for (const stop of stopAll.reverse()) {
          try {
            stop();
          } catch {
            // keep stopping the rest
          }
        }
      },
    };
  } catch (error) {
    for (const stop of stopAll.reverse()) {
      try {
        stop();
      } catch {
        // keep stopping the rest
      }
    }
    throw error;
  }
}

/** A browser's session on the portal, over real HTTP: cookies, Origin and Fetch Metadata as the portal's pages send them. */
async function signIn(portal: string, origin: string, email: string): Promise<PortalSession> {
  const jar = new Map<string, string>();
  const send = async (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    if (init.method === 'POST') {
      headers.set('origin', origin);
      headers.set('sec-fetch-site', 'same-origin');
    }
    const response = await fetch(`${portal}${path}`, { ...init, headers, redirect: 'manual' });
    for (const header of response.headers.getSetCookie()) {
      const [pair = ''] = header.split(';');
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1);
      if (value === '') jar.delete(pair.slice(0, eq));
      else jar.set(pair.slice(0, eq), value);
    }
    return response;
  };
  const field = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const form = await (await send('/login')).text();
  const login = await send('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf: field(form), email, password: PASSWORD, next: '/' }),
  });
  if (login.status !== 303) throw new Error(`sign-in of ${email} answered ${login.status}`);
  return {
    cookie: () => [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
    async token() {
      const page = await (await send('/datasets/PPDemo')).text();
      const csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(page)?.[1] ?? '';
      const response = await send('/api/dataset-token?dataset=PPDemo', {
        method: 'POST',
        headers: { 'x-csrf-token': csrf },
      });
      if (response.status !== 200) throw new Error(`token endpoint answered ${response.status}`);
      return ((await response.json()) as { token: string }).token;
    },
    async revoke(fields) {
      const page = await (await send('/admin')).text();
      const response = await send('/admin/revoke', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf: field(page), ...fields }),
      });
      return response.status;
    },
  };
}

/**
 * Asks one visualization server for sample-level data with a token, as the widget on the portal's page does.
 *
 * @example
 * const res = await samples(t.viz[0].url, t.portalOrigin, token);
 */
export function samples(viz: string, origin: string, token: string): Promise<Response> {
  return fetch(`${viz}/termdb/samples?dslabel=PPDemo&term=sex`, {
    headers: { origin, 'x-ds-access-token': token },
  });
}
