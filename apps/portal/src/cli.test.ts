import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Accounts } from './auth/accounts.js';
import { type CliIo, runCli } from './cli.js';
import { testLocation, testStore } from '../test/store.js';

const params = { logN: 10, r: 8, p: 1 };

function fakeIo(stdin = '', answers: string[] = []) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    readStdin: async () => stdin,
    promptHidden: async () => answers.shift() ?? '',
    interactive: answers.length > 0,
    env: {},
  };
  return { io, out, err };
}

/** The CLI arguments naming a fresh store, and the store itself for checks. */
async function database() {
  const { location, args } = await testLocation();
  return { args, open: () => testStore(undefined, location) };
}

const run = (argv: string[], io: CliIo) => runCli(argv, io, { passwordParams: params, now: () => 0 });

describe('pp-portal-users', () => {
  it('adds a user with a password read from stdin, which then signs in', async () => {
    const db = await database();
    const { io, out } = fakeIo('a long stdin password\n');
    expect(await run([...db.args, 'add-user', 'Ana@Example.org', '--password-stdin'], io)).toBe(0);
    expect(out).toEqual(['added ana@example.org']);
    const store = await db.open();
    const accounts = new Accounts(store.users, params);
    expect(await accounts.authenticate('ana@example.org', 'a long stdin password')).toBeDefined();
  });

  it('asks twice without echo at a terminal, and refuses different answers', async () => {
    const db = await database();
    const same = fakeIo('', ['typed at the terminal', 'typed at the terminal']);
    expect(await run([...db.args, 'add-user', 'ana@example.org'], same.io)).toBe(0);
    const differ = fakeIo('', ['typed at the terminal', 'typed at the termina1']);
    expect(await run([...db.args, 'set-password', 'ana@example.org'], differ.io)).toBe(2);
    expect(differ.err[0]).toMatch(/^the passwords differ/);
  });

  it('never takes a password from the command line', async () => {
    const { io, err } = fakeIo();
    expect(
      await run(
        [...(await database()).args, 'add-user', 'ana@example.org', '--password', 'secret123456'],
        io,
      ),
    ).toBe(2);
    expect(err[0]).toMatch(/Unknown option '--password'/);
    const piped = fakeIo();
    expect(await run([...(await database()).args, 'add-user', 'ana@example.org'], piped.io)).toBe(2);
    expect(piped.err[0]).toMatch(/--password-stdin/);
  });

  it('refuses a short password', async () => {
    const { io, err } = fakeIo('short\n');
    expect(
      await run([...(await database()).args, 'add-user', 'ana@example.org', '--password-stdin'], io),
    ).toBe(2);
    expect(err[0]).toMatch(/^password refused: at least 12 characters/);
  });

  it('grants, lists and revokes', async () => {
    const db = await database();
    await run(
      [...db.args, 'add-user', 'ben@example.org', '--password-stdin'],
      fakeIo('a long stdin password').io,
    );
    const grant = fakeIo();
    const car = '{"role":"analyst","cohorts":["ABC"]}';
    expect(
      await run([...db.args, 'grant', 'ben@example.org', 'PPDemo', '--client-auth-result', car], grant.io),
    ).toBe(0);
    expect(grant.out).toEqual(['granted PPDemo to ben@example.org: role: analyst · cohorts: ABC']);
    const list = fakeIo();
    await run([...db.args, 'list'], list.io);
    expect(list.out).toEqual(['ben@example.org', '  PPDemo: role: analyst · cohorts: ABC']);
    expect(await run([...db.args, 'revoke', 'ben@example.org', 'PPDemo'], fakeIo().io)).toBe(0);
    expect(await run([...db.args, 'revoke', 'ben@example.org', 'PPDemo'], fakeIo().io)).toBe(1);
    const bad = fakeIo();
    expect(
      await run([...db.args, 'grant', 'ben@example.org', 'PPDemo', '--client-auth-result', '[1]'], bad.io),
    ).toBe(2);
    expect(bad.err[0]).toMatch(/must be a JSON object/);
    expect(await run([...db.args, 'grant', 'nobody@example.org', 'PPDemo'], fakeIo().io)).toBe(2);
  });

  it('removes a user with everything they had', async () => {
    const db = await database();
    await run(
      [...db.args, 'add-user', 'ben@example.org', '--password-stdin'],
      fakeIo('a long stdin password').io,
    );
    expect(await run([...db.args, 'remove-user', 'ben@example.org'], fakeIo().io)).toBe(0);
    expect(await (await db.open()).users.list()).toEqual([]);
  });

  it('seeds the demo users and prints their logins', async () => {
    const { io, out } = fakeIo();
    expect(await run([...(await database()).args, 'seed-demo'], io)).toBe(0);
    expect(out).toHaveLength(4);
    expect(out[0]).toMatch(/^ana@example\.org\s+\S{16}\s+PPDemo: every cohort$/);
  });

  it('writes a new ES256 key, private to its owner, named so that it sorts last', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'portal-cli-')), 'keys');
    const { io, out } = fakeIo();
    expect(
      await runCli(['keys-add', '--dir', dir], io, { now: () => Date.UTC(2026, 10, 23, 12, 30, 5) }),
    ).toBe(0);
    expect(readdirSync(dir)).toEqual(['20261123T123005Z.pem']);
    expect(statSync(join(dir, '20261123T123005Z.pem')).mode & 0o777).toBe(0o600);
    expect(out[0]).toMatch(/kid [A-Za-z0-9_-]{43}/);
  });

  it('prints help, and a usage error for an unknown command', async () => {
    const help = fakeIo();
    expect(await run(['--help'], help.io)).toBe(0);
    expect(help.out[0]).toContain('add-user EMAIL');
    const unknown = fakeIo();
    expect(await run([...(await database()).args, 'frobnicate'], unknown.io)).toBe(2);
  });

  it('makes, lists and revokes personal API tokens, the token on stdout alone and only once', async () => {
    const db = await database();
    const quiet = fakeIo('a long stdin password\n');
    expect(await run([...db.args, 'add-user', 'svc@example.org', '--password-stdin'], quiet.io)).toBe(0);
    expect(await run([...db.args, 'grant', 'svc@example.org', 'PPDemo'], fakeIo().io)).toBe(0);
    const made = fakeIo();
    expect(
      await run(
        [
          ...db.args,
          'create-api-token',
          'svc@example.org',
          '--name',
          'nightly',
          '--dataset',
          'PPDemo',
          '--aggregated-only',
          '--days',
          '30',
        ],
        made.io,
      ),
    ).toBe(0);
    expect(made.out).toHaveLength(1);
    const token = made.out[0] as string;
    expect(token).toMatch(/^ppat_[0-9A-Za-z]{61}$/);
    const id = token.slice(5, 17);
    expect(made.err[0]).toBe(
      `made ${id} for svc@example.org: PPDemo · aggregated only, until 1970-01-31T00:00:00.000Z`,
    );

    const outside = fakeIo();
    expect(
      await run(
        [...db.args, 'create-api-token', 'svc@example.org', '--name', 'x', '--dataset', 'TermdbTest'],
        outside.io,
      ),
    ).toBe(2);
    expect(outside.err[0]).toMatch(/^You have no grant for TermdbTest\./);

    const listed = fakeIo();
    expect(await run([...db.args, 'api-tokens', '--user', 'svc@example.org'], listed.io)).toBe(0);
    expect(listed.out).toEqual([
      `${id}  svc@example.org  "nightly"  PPDemo · aggregated only  created 1970-01-01  used never  expires 1970-01-31  active`,
    ]);
    expect(listed.out.join('')).not.toContain(token);

    const revoked = fakeIo();
    expect(await run([...db.args, 'revoke-api-token', id], revoked.io)).toBe(0);
    expect(await run([...db.args, 'revoke-api-token', id], fakeIo().io)).toBe(1);
    expect(await run([...db.args, 'revoke-api-token', 'nope'], fakeIo().io)).toBe(2);
    const after = fakeIo();
    await run([...db.args, 'api-tokens'], after.io);
    expect(after.out[0]).toMatch(/ revoked$/);
  });
});
