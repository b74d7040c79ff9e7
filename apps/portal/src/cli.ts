#!/usr/bin/env node
/**
 * pp-portal-users: manage the portal's users, passwords and grants, and its ES256 signing keys.
 * Passwords are read from stdin (`--password-stdin`) or asked for without echo; never taken from the command
 * line, where `ps` and shell history would show them.
 * @module
 */
import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_API_TOKEN_DAYS, isApiTokenId } from '@pp-embed/api-token';
import { generateKeyPair } from '@pp-embed/dataset-token';
import { hashPassword, passwordProblem, type ScryptParams } from './auth/password.js';
import { DATASET_LABEL } from '@pp-embed/viz-api';
import { ApiTokenRefused, apiTokenStatus } from './db/api-tokens.js';
import { parseClientAuthResult } from './db/grants.js';
import { MAX_TOKEN_TTL_SECONDS, type RevocationTarget } from './db/revocations.js';
import { openStore, type PortalStore, type StoreLocation } from './db/store.js';
import { isValidEmail, normalizeEmail } from './db/users.js';
import { seedDemo } from './demo.js';
import { describeScope } from './views/api-tokens.js';
import { describeAccess } from './views/pages.js';

/**
 * What the CLI talks to; tests pass their own.
 *
 * @example
 * const io: CliIo = { out: console.log, err: console.error, readStdin: async () => 'a long password\n',
 *   promptHidden: async () => '', interactive: false, env: {} };
 */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** All of stdin. */
  readStdin(): Promise<string>;
  /** Asks a question on the terminal and reads the answer without echoing it. */
  promptHidden(question: string): Promise<string>;
  /** Whether a person is at a terminal to answer prompts. */
  interactive: boolean;
  env: Readonly<Record<string, string | undefined>>;
}

class UsageError extends Error {}

const USAGE = `pp-portal-users: manage the portal's users, grants and signing keys

usage: pp-portal-users [--db FILE | --database-url URL] COMMAND [ARGUMENTS]

Commands:
  add-user EMAIL [--password-stdin]     create a user; asks for the password (or reads it from stdin)
  set-password EMAIL [--password-stdin] set a user's password; ends their sessions and revokes their tokens
  remove-user EMAIL                     delete a user with their grants and sessions; revokes their tokens
  grant EMAIL DATASET [--client-auth-result JSON]
                                        add or replace a grant, e.g. '{"role":"analyst","cohorts":["ABC"]}';
                                        replacing one revokes the user's tokens for the dataset
  revoke EMAIL DATASET                  remove a grant and revoke the user's tokens for the dataset
  revoke-tokens --user EMAIL | --grant EMAIL DATASET | --jti JTI | --all
                                        revoke tokens on every visualization server within seconds
  revocations                           the latest revocations
  api-tokens [--user EMAIL]             personal API tokens: id, owner, name, scope, dates, status
  create-api-token EMAIL --name NAME --dataset LABEL [--dataset LABEL…] [--aggregated-only] [--days N] [--pinned]
                                        make a personal API token for a user (a service account), within
                                        their grants; prints it once on stdout
  revoke-api-token ID                   revoke a personal API token and the access tokens it was exchanged for
  set-admin EMAIL [--off]               let a user use the admin page (/admin), or stop them
  list                                  users and their grants
  seed-demo                             create the demo users and print their logins
  keys-add --dir DIR                    write a new ES256 signing key named by date; the portal publishes it
                                        within a minute and signs with it two minutes later (the previous
                                        key then retires)

The store: --database-url (or PP_PORTAL_DATABASE_URL) for PostgreSQL, else --db (or PP_PORTAL_DB, then
portal.db) for SQLite. Passwords are never accepted as arguments.`;

async function readPassword(io: CliIo, fromStdin: boolean): Promise<string> {
  let password: string;
  if (fromStdin) {
    password = (await io.readStdin()).replace(/\r?\n$/, '');
  } else if (io.interactive) {
    password = await io.promptHidden('Password: ');
    const again = await io.promptHidden('Password again: ');
    if (again !== password) throw new UsageError('the passwords differ');
  } else {
    throw new UsageError('no terminal to ask for the password: pipe it in with --password-stdin');
  }
  const problem = passwordProblem(password);
  if (problem !== undefined) throw new UsageError(`password refused: ${problem}`);
  return password;
}

function email(value: string | undefined): string {
  if (value === undefined) throw new UsageError('EMAIL is missing');
  const normalized = normalizeEmail(value);
  if (!isValidEmail(normalized)) throw new UsageError(`not an email address: ${value}`);
  return normalized;
}

async function userId(store: PortalStore, address: string): Promise<number> {
  const user = await store.users.find(address);
  if (user === undefined) throw new UsageError(`no user ${address}`);
  return user.id;
}

function dataset(value: string | undefined): string {
  if (value === undefined) throw new UsageError('DATASET is missing');
  if (!DATASET_LABEL.test(value)) throw new UsageError(`not a dataset label: ${value}`);
  return value;
}

function timestampName(now: Date): string {
  return `${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}.pem`;
}

function revocationTarget(
  values: { user?: string; grant?: string; jti?: string; all?: boolean },
  args: readonly string[],
  now: number,
): RevocationTarget {
  const given = [values.user, values.grant, values.jti, values.all === true ? true : undefined].filter(
    (v) => v !== undefined,
  );
  if (given.length !== 1)
    throw new UsageError('give one of --user EMAIL, --grant EMAIL DATASET, --jti JTI, --all');
  if (values.user !== undefined) return { type: 'user', email: email(values.user) };
  if (values.grant !== undefined)
    return { type: 'grant', email: email(values.grant), dataset: dataset(args[0]) };
  if (values.jti !== undefined) {
    if (!/^[A-Za-z0-9_.:-]{1,256}$/.test(values.jti)) throw new UsageError(`not a token id: ${values.jti}`);
    // A jti this portal minted lives at most the longest token lifetime.
    return { type: 'token', jti: values.jti, exp: Math.floor(now / 1000) + MAX_TOKEN_TTL_SECONDS };
  }
  return { type: 'embedder' };
}

function describeTarget(target: RevocationTarget): string {
  switch (target.type) {
    case 'user':
      return `every token of ${target.email} issued until now`;
    case 'grant':
      return `the tokens of ${target.email} for ${target.dataset} issued until now`;
    case 'token':
      return `token ${target.jti}`;
    default:
      return 'every token this portal has issued until now';
  }
}

/**
 * Runs the CLI and returns its exit code: 0 done, 1 the command failed (e.g. no such user), 2 a usage mistake.
 *
 * @example
 * process.exitCode = await runCli(['grant', 'ana@example.org', 'PPDemo', '--client-auth-result', '{"role":"analyst"}'], io);
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  options: { passwordParams?: ScryptParams; now?: () => number } = {},
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        db: { type: 'string' },
        'database-url': { type: 'string' },
        'password-stdin': { type: 'boolean' },
        user: { type: 'string' },
        grant: { type: 'string' },
        jti: { type: 'string' },
        all: { type: 'boolean' },
        off: { type: 'boolean' },
        'client-auth-result': { type: 'string' },
        dir: { type: 'string' },
        name: { type: 'string' },
        dataset: { type: 'string', multiple: true },
        'aggregated-only': { type: 'boolean' },
        days: { type: 'string' },
        pinned: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...args] = positionals;
  if (values.help === true || command === undefined || command === 'help') {
    io.out(USAGE);
    return command === undefined && values.help !== true ? 2 : 0;
  }
  const now = options.now ?? Date.now;

  try {
    if (command === 'keys-add') {
      const dir = values.dir;
      if (dir === undefined) throw new UsageError('--dir is required');
      const file = join(dir, timestampName(new Date(now())));
      if (existsSync(file)) throw new UsageError(`${file} exists; try again in a second`);
      const { privateKeyPem, kid } = generateKeyPair('ES256');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(file, privateKeyPem, { mode: 0o600, flag: 'wx' });
      io.out(`wrote ${file} (kid ${kid}); keep it on the portal's server only`);
      return 0;
    }

    const known = [
      'add-user',
      'set-password',
      'remove-user',
      'grant',
      'revoke',
      'revoke-tokens',
      'revocations',
      'set-admin',
      'list',
      'seed-demo',
      'api-tokens',
      'create-api-token',
      'revoke-api-token',
    ];
    if (!known.includes(command)) throw new UsageError(`unknown command ${command}`);
    const url = values['database-url'] ?? io.env.PP_PORTAL_DATABASE_URL;
    const location: StoreLocation =
      url !== undefined && url !== ''
        ? { kind: 'postgres', url }
        : { kind: 'sqlite', path: values.db ?? io.env.PP_PORTAL_DB ?? 'portal.db' };
    const store = await openStore(location);
    const actor = `cli:${io.env.USER ?? 'unknown'}`;
    try {
      const hash = async () =>
        hashPassword(await readPassword(io, values['password-stdin'] === true), options.passwordParams);
      switch (command) {
        case 'add-user': {
          const address = email(args[0]);
          if ((await store.users.find(address)) !== undefined) {
            io.err(`${address} exists; use set-password to change the password`);
            return 1;
          }
          await store.users.create(address, await hash(), now());
          io.out(`added ${address}`);
          return 0;
        }
        case 'set-password': {
          const address = email(args[0]);
          await userId(store, address);
          await store.users.setPassword(address, await hash(), now(), { actor });
          io.out(`password set for ${address}; their sessions ended and their tokens are revoked`);
          return 0;
        }
        case 'remove-user': {
          const address = email(args[0]);
          if (!(await store.users.remove(address, now(), actor))) throw new UsageError(`no user ${address}`);
          io.out(`removed ${address}, with their grants and sessions; their tokens are revoked`);
          return 0;
        }
        case 'grant': {
          const address = email(args[0]);
          const label = dataset(args[1]);
          const text = values['client-auth-result'] ?? '{}';
          let clientAuthResult: Record<string, unknown>;
          try {
            clientAuthResult = parseClientAuthResult(text);
          } catch (error) {
            throw new UsageError(`--client-auth-result: ${(error as Error).message}`);
          }
          await store.grants.set(await userId(store, address), label, clientAuthResult, now(), actor);
          io.out(`granted ${label} to ${address}: ${describeAccess(clientAuthResult)}`);
          return 0;
        }
        case 'revoke': {
          const address = email(args[0]);
          const label = dataset(args[1]);
          if (!(await store.grants.remove(await userId(store, address), label, now(), actor))) {
            io.err(`${address} has no grant for ${label}`);
            return 1;
          }
          io.out(`revoked ${label} from ${address}, and their tokens for it`);
          return 0;
        }
        case 'revoke-tokens': {
          const target = revocationTarget(values, args, now());
          await store.revocations.add(target, { now: now(), reason: 'admin', actor });
          io.out(`revoked ${describeTarget(target)}; every visualization server refuses them within seconds`);
          return 0;
        }
        case 'revocations': {
          for (const { seq, revocation: r, actor: by } of await store.revocations.recent(50)) {
            const at = new Date(r.at * 1000).toISOString();
            io.out(
              `${String(seq).padStart(6)}  ${at}  ${r.type.padEnd(8)} ${r.reason.padEnd(15)} ${by ?? ''}`,
            );
          }
          return 0;
        }
        case 'api-tokens': {
          const owner = values.user === undefined ? undefined : email(values.user);
          const tokens = await store.apiTokens.list({
            limit: 1000,
            ...(owner !== undefined && { email: owner }),
          });
          for (const t of tokens) {
            const day = (ms: number | null) =>
              ms === null ? 'never' : new Date(ms).toISOString().slice(0, 10);
            io.out(
              [
                t.id,
                t.email,
                JSON.stringify(t.name),
                describeScope(t) + (t.pinned ? ' · pinned' : ''),
                `created ${day(t.createdAt)}`,
                `used ${day(t.lastUsedAt)}`,
                `expires ${day(t.expiresAt)}`,
                apiTokenStatus(t, now()),
              ].join('  '),
            );
          }
          return 0;
        }
        case 'create-api-token': {
          const address = email(args[0]);
          const id = await userId(store, address);
          if (values.name === undefined) throw new UsageError('--name is required');
          const days = values.days === undefined ? DEFAULT_API_TOKEN_DAYS : Number(values.days);
          try {
            const { token, record } = await store.apiTokens.create(
              { id },
              {
                name: values.name,
                datasets: (values.dataset ?? []).map(dataset),
                routeClasses:
                  values['aggregated-only'] === true ? ['aggregated'] : ['aggregated', 'sample-level'],
                pinned: values.pinned === true,
                days,
              },
              now(),
            );
            // The token on stdout alone, for a pipe into a secret store; what it is, on stderr.
            io.out(token);
            io.err(
              `made ${record.id} for ${address}: ${describeScope(record)}, until ${new Date(record.expiresAt).toISOString()}`,
            );
            return 0;
          } catch (error) {
            if (error instanceof ApiTokenRefused) throw new UsageError(error.message);
            throw error;
          }
        }
        case 'revoke-api-token': {
          const id = args[0];
          if (!isApiTokenId(id))
            throw new UsageError('ID is missing or not a token id (12 letters and digits)');
          if (!(await store.apiTokens.revoke(id, { now: now(), actor }))) {
            io.err(`no live API token ${id}`);
            return 1;
          }
          io.out(`revoked ${id}; the access tokens it was exchanged for are refused within seconds`);
          return 0;
        }
        case 'set-admin': {
          const address = email(args[0]);
          if (!(await store.users.setAdmin(address, values.off !== true)))
            throw new UsageError(`no user ${address}`);
          io.out(values.off === true ? `${address} is no administrator` : `${address} may use /admin`);
          return 0;
        }
        case 'list': {
          for (const user of await store.users.list()) {
            const grants = await store.grants.forUser(user.id);
            io.out(user.isAdmin ? `${user.email} (administrator)` : user.email);
            if (grants.length === 0) io.out('  (no grants)');
            for (const g of grants) io.out(`  ${g.dataset}: ${describeAccess(g.clientAuthResult)}`);
          }
          return 0;
        }
        default: {
          const logins = await seedDemo(store, { ...options, now: now() });
          for (const l of logins) io.out(`${l.email.padEnd(20)} ${l.password}   ${l.access}`);
          return 0;
        }
      }
    } finally {
      await store.close();
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n\nRun pp-portal-users --help for the commands.`);
      return 2;
    }
    throw error;
  }
}

/** The real terminal. */
function processIo(): CliIo {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    async readStdin() {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    promptHidden(question) {
      const { stdin, stderr } = process;
      stderr.write(question);
      return new Promise((resolve, reject) => {
        let value = '';
        const done = () => {
          stdin.off('data', onData);
          stdin.setRawMode(false);
          stdin.pause();
          stderr.write('\n');
        };
        const onData = (chunk: string) => {
          for (const ch of chunk) {
            if (ch === '\r' || ch === '\n') {
              done();
              resolve(value);
              return;
            }
            if (ch === '\u0003') {
              done();
              reject(new UsageError('cancelled'));
              return;
            }
            if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
            else value += ch;
          }
        };
        stdin.setRawMode(true);
        stdin.setEncoding('utf8');
        stdin.on('data', onData);
        stdin.resume();
      });
    },
    interactive: process.stdin.isTTY === true,
    env: process.env,
  };
}

// Run when this file is the program (also through a symlinked bin), not when it is imported.
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await runCli(process.argv.slice(2), processIo());
}
