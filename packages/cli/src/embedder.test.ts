import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSigner, generateKeyPair, generateSecret } from '@pp-embed/dataset-token';
import { companionFiles, readCredentialFile, recordSeen } from '@pp-embed/embedder-registry';
import { describe, expect, it } from 'vitest';
import type { Io } from './io.js';
import { main } from './main.js';

const NOW = Date.UTC(2026, 4, 23, 12, 0, 0);
const KEY = generateSecret();

function setup(key: Record<string, string> = { env: 'PP_EMBEDDERS_KEY' }) {
  const dir = mkdtempSync(join(tmpdir(), 'pp-embedder-cli-'));
  const config = join(dir, 'serverconfig.json');
  writeFileSync(
    config,
    JSON.stringify({
      datasets: [{ label: 'TermdbTest', genome: 'hg38', file: 'TermdbTest.db' }],
      embedderRegistry: { file: 'embedders.json', key },
    }),
  );
  return { dir, config, registry: join(dir, 'embedders.json') };
}

async function run(args: string[], options: { env?: Record<string, string>; now?: number } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: (t) => out.push(t),
    write: async (bytes) => {
      out.push(Buffer.from(bytes).toString('utf8'));
    },
    err: (t) => err.push(t),
    stdin: () => '',
    env: options.env ?? { PP_EMBEDDERS_KEY: KEY },
    now: () => options.now ?? NOW,
    actor: 'ops@viz-1',
  };
  const code = await main(args, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function ready() {
  const s = setup();
  expect((await run(['embedder', 'init', '--config', s.config])).code).toBe(0);
  return s;
}

const addPortal = (config: string, ...extra: string[]) => addHost(config, 'portal.example.org', ...extra);
const addHost = (config: string, host: string, ...extra: string[]) =>
  run([
    'embedder',
    'add',
    host,
    '--config',
    config,
    '--dataset',
    'TermdbTest',
    '--route',
    'termdb',
    ...extra,
  ]);

describe('pp-token embedder', () => {
  it('lists its subcommands', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    for (const sub of ['init', 'add', 'list', 'rotate', 'retire']) expect(out).toContain(`embedder ${sub}`);
    expect((await run(['embedder', 'add', '--help'])).out).toContain(
      'usage: pp-token embedder add HOST[:PORT]',
    );
  });

  it('init makes the key file it is told of (mode 600) and an empty registry; never twice', async () => {
    const s = setup({ file: 'embedders.key' });
    const first = await run(['embedder', 'init', '--config', s.config], { env: {} });
    expect(first.code).toBe(0);
    expect(statSync(join(s.dir, 'embedders.key')).mode & 0o777).toBe(0o600);
    expect(statSync(s.registry).mode & 0o777).toBe(0o600);
    const again = await run(['embedder', 'init', '--config', s.config], { env: {} });
    expect([again.code, again.err]).toEqual([2, expect.stringContaining('exists')]);
  });

  it('init says how to make the key when its variable is unset', async () => {
    const s = setup();
    const { code, err } = await run(['embedder', 'init', '--config', s.config], { env: {} });
    expect(code).toBe(2);
    expect(err).toContain('PP_EMBEDDERS_KEY is not set: export PP_EMBEDDERS_KEY="$(pp-token secret)"');
  });

  it('add prints the HS256 credential once; the registry, list and audit trail never show the secret', async () => {
    const s = await ready();
    const added = await addPortal(s.config, '--note', 'Survivorship portal');
    expect(added.code).toBe(0);
    const credential = JSON.parse(added.out) as { secret: string; kid: string; id: string };
    expect(credential).toMatchObject({ id: 'portal.example.org', alg: 'HS256', datasets: ['TermdbTest'] });
    expect(added.err).toContain('This is the only time the credential is shown');
    const listed = await run(['embedder', 'list', '--config', s.config]);
    const listedJson = await run(['embedder', 'list', '--config', s.config, '--json']);
    expect(listed.out).toContain(`key        ${credential.kid}`);
    expect(listed.out).toContain('note       Survivorship portal');
    for (const text of [
      readFileSync(s.registry, 'utf8'),
      readFileSync(companionFiles(s.registry).audit, 'utf8'),
      listed.out,
      listedJson.out,
      added.err,
    ]) {
      expect(text).not.toContain(credential.secret);
    }
  });

  it('add --out writes the credential file the portal reads, and never over another file', async () => {
    const s = await ready();
    const out = join(s.dir, 'portal-credential.json');
    expect((await addPortal(s.config, '--out', out)).code).toBe(0);
    expect(readCredentialFile(out)).toMatchObject({ embedder: 'portal.example.org', alg: 'HS256' });
    const again = await run([
      'embedder',
      'add',
      'lab.example.org',
      '--config',
      s.config,
      '--dataset',
      'TermdbTest',
      '--route',
      'termdb',
      '--out',
      out,
    ]);
    expect([again.code, again.err]).toEqual([2, expect.stringContaining(`${out} exists`)]);
  });

  it('registers key-pair portals: a made key pair, the portal’s JWKS URL, or its public key', async () => {
    const s = await ready();
    const made = await addPortal(s.config, '--alg', 'ES256');
    expect(JSON.parse(made.out)).toMatchObject({
      alg: 'ES256',
      privateKey: expect.stringContaining('PRIVATE KEY'),
    });
    const byUrl = await addHost(
      s.config,
      'lab.example.org',
      '--alg',
      'ES256',
      '--jwks',
      'https://lab.example.org/jwks.json',
    );
    expect([byUrl.code, byUrl.out, byUrl.err]).toEqual([
      0,
      '',
      expect.stringContaining('lab.example.org/jwks.json'),
    ]);
    const pem = join(s.dir, 'portal.pem');
    const pair = generateKeyPair('RS256');
    writeFileSync(pem, JSON.stringify(pair.jwks.keys[0]));
    const byKey = await addHost(s.config, 'rs.example.org', '--alg', 'RS256', '--public-key', pem);
    expect(byKey.err).toContain(`kid ${pair.kid}`);
  });

  it('rotates with an overlap, says when the old key is no longer used, and finishes', async () => {
    const s = await ready();
    const first = JSON.parse((await addPortal(s.config)).out) as { kid: string };
    const rotated = await run([
      'embedder',
      'rotate',
      'portal.example.org',
      '--config',
      s.config,
      '--overlap',
      '2h',
    ]);
    expect(rotated.code).toBe(0);
    const second = JSON.parse(rotated.out) as { kid: string };
    expect(rotated.err).toContain(
      `key ${first.kid} (last used never) is accepted until 2026-05-23T14:00:00.000Z`,
    );
    const twice = await run(['embedder', 'rotate', 'portal.example.org', '--config', s.config]);
    expect([twice.code, twice.err]).toEqual([2, expect.stringContaining('is rotating already')]);

    // The portal has not switched: finishing would lock it out.
    const early = await run(['embedder', 'rotate', 'portal.example.org', '--config', s.config, '--finish']);
    expect([early.code, early.err]).toEqual([
      2,
      expect.stringContaining('the portal has not used the new key yet'),
    ]);

    // The servers saw the old key until 12:05 and the new one from 12:10.
    await recordSeen(companionFiles(s.registry).seen, [
      { id: 'portal.example.org', kid: first.kid, first: NOW, last: NOW + 300_000 },
      { id: 'portal.example.org', kid: second.kid, first: NOW + 600_000, last: NOW + 900_000 },
    ]);
    const listed = await run(['embedder', 'list', '--config', s.config]);
    expect(listed.out).toContain(
      'rotation   the old key is no longer used: the portal signs with the new key since 2026-05-23T12:10:00.000Z (the old key was last used 2026-05-23T12:05:00.000Z)',
    );
    const finished = await run([
      'embedder',
      'rotate',
      'portal.example.org',
      '--config',
      s.config,
      '--finish',
    ]);
    expect(finished.code).toBe(0);
    expect(finished.out).toContain(`dropped ${first.kid}`);
    expect((await run(['embedder', 'list', '--config', s.config])).out).not.toContain(first.kid);
  });

  it('retires an entry once, and the list says who did it and when', async () => {
    const s = await ready();
    await addPortal(s.config);
    const retired = await run(['embedder', 'retire', 'portal.example.org', '--config', s.config]);
    expect([retired.code, retired.out]).toEqual([0, expect.stringContaining('retired portal.example.org')]);
    expect((await run(['embedder', 'list', '--config', s.config])).out).toContain(
      'portal.example.org  (HS256, retired at 2026-05-23T12:00:00.000Z by ops@viz-1)',
    );
    const again = await run(['embedder', 'retire', 'portal.example.org', '--config', s.config]);
    expect(again.code).toBe(2);
  });

  it('refuses to read the registry with another key, and says so', async () => {
    const s = await ready();
    await addPortal(s.config);
    const { code, err } = await run(['embedder', 'list', '--config', s.config], {
      env: { PP_EMBEDDERS_KEY: generateSecret() },
    });
    expect(code).toBe(2);
    expect(err).toContain('keyId: the registry was written with another key');
  });

  it('refuses a change the server would refuse, and writes nothing: a portal dsCredentials names already', async () => {
    const s = setup();
    const config = JSON.parse(readFileSync(s.config, 'utf8')) as Record<string, unknown>;
    config.dsCredentials = {
      TermdbTest: { termdb: { 'portal.example.org': { type: 'jwt', secret: { env: 'PP_DS_SECRET' } } } },
    };
    writeFileSync(s.config, JSON.stringify(config));
    const env = { PP_EMBEDDERS_KEY: KEY, PP_DS_SECRET: generateSecret() };
    expect((await run(['embedder', 'init', '--config', s.config], { env })).code).toBe(0);
    const before = readFileSync(s.registry, 'utf8');
    const added = await run(
      [
        'embedder',
        'add',
        'portal.example.org',
        '--config',
        s.config,
        '--dataset',
        'TermdbTest',
        '--route',
        'termdb',
      ],
      { env },
    );
    expect(added.code).toBe(2);
    expect(added.err).toContain(
      'embedderRegistry(embedders.json).embedders.portal.example.org: conflicts with dsCredentials.TermdbTest.termdb.portal.example.org',
    );
    expect(added.out).toBe('');
    expect(readFileSync(s.registry, 'utf8')).toBe(before);
  });

  it('refuses a second live entry for the same dataset, route and portal', async () => {
    const s = await ready();
    expect((await addPortal(s.config)).code).toBe(0);
    const again = await addPortal(s.config);
    expect(again.code).toBe(2);
    expect(again.err).toContain(
      'embedderRegistry(embedders.json).embedders.portal.example.org-2: conflicts with embedderRegistry(embedders.json).embedders.portal.example.org',
    );
  });

  it('sets the rules of a dsCredentials entry, checked by the same loader', async () => {
    const s = await ready();
    const bad = await addPortal(s.config, '--ip-check', 'sometimes');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('embedderRegistry(embedders.json).embedders.portal.example.org.rules.ipCheck');
    expect(
      (await addPortal(s.config, '--header-key', 'X-Portal', '--ip-check', 'loose', '--max-token-age', '1h'))
        .code,
    ).toBe(0);
    expect((await run(['embedder', 'list', '--config', s.config])).out).toContain(
      'rules      headerKey="X-Portal", ipCheck="loose", maxTokenAge=3600',
    );
  });

  it('refuses a dataset the server does not serve, with the label it most likely meant', async () => {
    const s = await ready();
    const added = await run([
      'embedder',
      'add',
      'portal.example.org',
      '--config',
      s.config,
      '--dataset',
      'TermdbTst',
      '--route',
      'termdb',
    ]);
    expect(added.code).toBe(2);
    expect(added.err).toContain(
      'datasets[0]: names no dataset this server serves; did you mean "TermdbTest"?',
    );
  });

  it('explain decides a registered portal as the server does: the entry that decided, then retired', async () => {
    const s = await ready();
    const credential = JSON.parse((await addPortal(s.config)).out) as { secret: string; kid: string };
    const token = createSigner({
      algorithm: 'HS256',
      key: { secret: credential.secret },
      kid: credential.kid,
      now: () => NOW,
    }).sign({ datasets: ['TermdbTest'], email: 'ana@example.org', ip: '203.0.113.7' });
    const args = ['explain', '--config', s.config, '--dataset', 'TermdbTest', '--route', 'termdb/samples'];
    const ask = () => run([...args, '--origin', 'https://portal.example.org', '--ip', '203.0.113.7', token]);
    const allowed = await ask();
    expect(allowed.code).toBe(0);
    expect(allowed.out).toContain(
      'Embedder key "portal.example.org" matched (embedderRegistry(embedders.json).embedders.portal.example.org).',
    );
    expect(allowed.out).toContain(`The token verified with key "${credential.kid}"`);
    await run(['embedder', 'retire', 'portal.example.org', '--config', s.config]);
    const refused = await ask();
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('Decision: refused with embedder_retired (403).');
  });

  it('says when serverconfig.json names no registry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-embedder-cli-'));
    const config = join(dir, 'serverconfig.json');
    writeFileSync(config, JSON.stringify({ datasets: [] }));
    const { code, err } = await run(['embedder', 'list', '--config', config]);
    expect(code).toBe(2);
    expect(err).toContain('embedderRegistry: is not set; add "embedderRegistry"');
  });
});
