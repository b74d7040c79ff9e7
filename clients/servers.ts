/**
 * The built portal and visualization server as an operator runs them, on 127.0.0.1, for the script clients: a
 * generated dataset, a shared secret made at test time, a user with a grant, personal API tokens made with the
 * built `pp-portal-users`, and the portal's revocation feed read by the server. Everything each process writes
 * is kept.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../scripts/free-port.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VIZ_MAIN = join(ROOT, 'apps/viz-server/dist/main.js');
const PORTAL_MAIN = join(ROOT, 'apps/portal/dist/main.js');
const PORTAL_CLI = join(ROOT, 'apps/portal/dist/cli.js');
const GENERATOR = join(ROOT, 'apps/viz-server/dist/termdb/generate-cli.js');
export const PP_TOKEN = join(ROOT, 'packages/cli/bin/pp-token.js');

export const DATASET = 'PPDemo';
export const USER = 'ana@example.org';

/** A process with what it wrote. */
export class Process {
  #out = '';
  #err = '';

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => (this.#out += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (this.#err += chunk.toString('utf8')));
  }

  get stdout(): string {
    return this.#out;
  }

  get stderr(): string {
    return this.#err;
  }

  /** The JSON lines of one stream whose `event` is `event`. */
  events(stream: 'stdout' | 'stderr', event: string): Record<string, unknown>[] {
    return (stream === 'stdout' ? this.#out : this.#err)
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.event === event);
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    return exited.finally(() => clearTimeout(timer));
  }
}

async function waitFor(url: string, process: Process): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (process.child.exitCode !== null) throw new Error(`${url}: the process exited\n${process.stderr}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer\n${process.stderr}`);
}

function start(args: string[], env: NodeJS.ProcessEnv = {}): Process {
  return new Process(
    spawn(process.execPath, args, {
      cwd: ROOT,
      // Nothing of the test run's environment configures the servers: flags and files only.
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

export interface Servers {
  portal: string;
  viz: string;
  portalProcess: Process;
  vizProcess: Process;
  /** Runs the built `pp-portal-users` on the portal's database; resolves to its stdout. */
  users(args: string[], input?: string): Promise<string>;
  /** A new personal API token of the user, from `pp-portal-users create-api-token`. */
  apiToken(options?: { aggregatedOnly?: boolean; name?: string }): Promise<string>;
  /** Every secret the run made: none may appear in a log. */
  secrets: Set<string>;
  stop(): Promise<void>;
}

/**
 * Starts the portal (tokens of 60 s, the shortest it allows, so that a script's refresh shows) and then the
 * visualization server, whose `PPDemo` takes the portal's pages and its scripts.
 *
 * @example
 * const servers = await startServers();
 * const token = await servers.apiToken();
 */
export async function startServers(): Promise<Servers> {
  const dir = mkdtempSync(join(tmpdir(), 'pp-clients-'));
  const dataset = join(dir, `${DATASET}.db`);
  const generated = spawnSync(
    process.execPath,
    [GENERATOR, '--out', dataset, '--samples', '6000', '--seed', '5'],
    {
      encoding: 'utf8',
    },
  );
  if (generated.status !== 0) throw new Error(`dataset generation failed: ${generated.stderr}`);
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(join(dir, 'secret'), secret, { mode: 0o600 });
  const secrets = new Set([secret]);
  const db = join(dir, 'portal.db');

  const users = (args: string[], input = ''): Promise<string> =>
    new Promise((resolve, reject) => {
      const child = execFile(
        process.execPath,
        [PORTAL_CLI, '--db', db, ...args],
        { cwd: ROOT, env: { PATH: process.env.PATH } },
        (error, stdout, stderr) =>
          error === null ? resolve(stdout) : reject(new Error(`pp-portal-users ${args[0]}: ${stderr}`)),
      );
      child.stdin?.end(input);
    });
  const password = `pw-${randomBytes(12).toString('base64url')}`;
  secrets.add(password);
  await users(['add-user', USER, '--password-stdin'], `${password}\n`);
  await users(['grant', USER, DATASET, '--client-auth-result', '{"role":"analyst"}']);

  const [portalPort, vizPort] = [await freePort(), await freePort()];
  const portal = `http://127.0.0.1:${portalPort}`;
  const viz = `http://127.0.0.1:${vizPort}`;
  const portalProcess = start([
    PORTAL_MAIN,
    '--host',
    '127.0.0.1',
    '--port',
    String(portalPort),
    '--db',
    db,
    '--secret-file',
    join(dir, 'secret'),
    '--viz-server',
    viz,
    '--datasets',
    `${DATASET}:hg38`,
    '--token-ttl',
    '60',
  ]);
  await waitFor(`${portal}/healthcheck`, portalProcess);

  const host = `127.0.0.1:${portalPort}`;
  writeFileSync(
    join(dir, 'serverconfig.json'),
    JSON.stringify({
      datasets: [{ label: DATASET, genome: 'hg38', file: dataset, minSampleSize: 5 }],
      dsCredentials: {
        [DATASET]: { termdb: { [host]: { type: 'jwt', secret: { file: 'secret' }, scripts: true } } },
      },
      revocationFeeds: {
        portal: {
          url: `${portal}/.well-known/pp-revocations`,
          secret: { file: 'secret' },
          embedders: [host],
          maxStaleSeconds: 60,
        },
      },
    }),
  );
  const vizProcess = start([VIZ_MAIN, '--config', join(dir, 'serverconfig.json'), '--port', String(vizPort)]);
  await waitFor(`${viz}/healthcheck`, vizProcess);

  return {
    portal,
    viz,
    portalProcess,
    vizProcess,
    users,
    secrets,
    async apiToken(options = {}) {
      const name = options.name ?? `t-${randomBytes(4).toString('hex')}`;
      const args = ['create-api-token', USER, '--name', name, '--dataset', DATASET];
      const token = (
        await users(options.aggregatedOnly === true ? [...args, '--aggregated-only'] : args)
      ).trim();
      secrets.add(token);
      return token;
    },
    async stop() {
      await vizProcess.stop();
      await portalProcess.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
