/**
 * A throwaway PostgreSQL cluster for tests and benchmarks: `initdb` into a temporary folder, a free port on
 * 127.0.0.1, trust authentication for the loopback only, and `stop()` removes it all. Uses Debian's PostgreSQL
 * (`/usr/lib/postgresql/<version>/bin`, or `PP_PG_BIN`); when run as root, the server runs as the `postgres` user,
 * since PostgreSQL refuses to run as root.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

/** A running cluster. */
export interface PostgresCluster {
  /** `postgres://pp@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  /** A URL for another database of the cluster. */
  database(name: string): string;
  /** Stops the server (fast shutdown) and deletes its folder. */
  stop(): void;
  /** Stops the server without removing its data, as when the database goes away under the portal. */
  pause(): void;
  /** Starts it again on the same port after `pause`. */
  resume(): void;
}

/**
 * Where Debian's PostgreSQL binaries are (the newest version installed), or undefined when it is not installed.
 *
 * @example
 * postgresBin(); // '/usr/lib/postgresql/15/bin'
 */
export function postgresBin(): string | undefined {
  if (process.env.PP_PG_BIN !== undefined) return process.env.PP_PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

/**
 * Starts a cluster. Throws with PostgreSQL's own output when it cannot.
 *
 * @example
 * const pg = await startPostgres();
 * try { await openStore({ kind: 'postgres', url: pg.url }) } finally { pg.stop() }
 */
export async function startPostgres(options: { maxConnections?: number } = {}): Promise<PostgresCluster> {
  const bin = postgresBin();
  if (bin === undefined) {
    throw new Error(
      'PostgreSQL is not installed: apt-get install postgresql (or set PP_PG_BIN to its bin folder)',
    );
  }
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'pp-pg-'));
  const data = join(dir, 'data');
  if (root) chownSync(dir, ...postgresIds());
  const as = (command: string, args: string[]): [string, string[]] =>
    root ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]] : [join(bin, command), args];
  const run = (command: string, args: string[]) => {
    const [file, argv] = as(command, args);
    const result = spawnSync(file, argv, { encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) {
      throw new Error(`${command} failed (${result.status}): ${result.stderr}${result.stdout}`);
    }
  };
  run('initdb', ['-D', data, '-U', 'pp', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const serverOptions = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    `-c max_connections=${options.maxConnections ?? 300}`,
  ].join(' ');
  const start = () =>
    run('pg_ctl', ['-D', data, '-o', serverOptions, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  start();
  const url = `postgres://pp@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    database: (name) => `postgres://pp@127.0.0.1:${port}/${name}`,
    pause: () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']),
    resume: start,
    stop() {
      const [file, argv] = as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      spawnSync(file, argv, { stdio: 'ignore', timeout: 60_000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresIds(): [number, number] {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return [uid, gid];
}
