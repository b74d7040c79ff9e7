import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSigner, createVerifier, generateSecret } from '@pp-embed/dataset-token';
import { cutoffAfter, FeedPublisher, subjectHash } from '@pp-embed/revocation';
import { describe, expect, it } from 'vitest';
import type { Io } from './io.js';
import { main } from './main.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

function io(options: { stdin?: string; env?: Record<string, string>; now?: number } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const value: Io = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    stdin: () => options.stdin ?? '',
    env: options.env ?? {},
    now: () => options.now ?? NOW,
    actor: 'tester@host',
  };
  return { io: value, out, err };
}

const secret = generateSecret();
const env = { PP_DS_SECRET: secret };

describe('pp-token', () => {
  it('lists its commands, and each command has --help', async () => {
    const t = io();
    expect(await main(['--help'], t.io)).toBe(0);
    for (const name of ['secret', 'keygen', 'mint', 'verify', 'explain']) {
      expect(t.out.join('\n')).toContain(name);
      const h = io();
      expect(await main([name, '--help'], h.io)).toBe(0);
      expect(h.out.join('\n')).toContain(`usage: pp-token ${name}`);
    }
  });

  it('secret prints a secret that a verifier accepts', async () => {
    const t = io();
    expect(await main(['secret'], t.io)).toBe(0);
    expect(() => createVerifier({ key: { secret: t.out[0] as string } })).not.toThrow();
  });

  it('mint then verify round-trips the claims, with the token on standard input', async () => {
    const minted = io({ env });
    const code = await main(
      [
        'mint',
        '--alg',
        'HS256',
        '--secret-env',
        'PP_DS_SECRET',
        '--dataset',
        'TermdbTest',
        '--email',
        'ana@example.org',
        '--ip',
        '10.0.0.1',
        '--ttl',
        '5m',
        '--client-auth-result',
        '{"role":"analyst","cohorts":["ABC"]}',
      ],
      minted.io,
    );
    expect(code).toBe(0);
    const token = minted.out[0] as string;
    const checked = io({ env, stdin: `${token}\n` });
    expect(await main(['verify', '--secret-env', 'PP_DS_SECRET'], checked.io)).toBe(0);
    const claims = JSON.parse(checked.out.join('\n')) as Record<string, unknown>;
    expect(claims).toMatchObject({
      datasets: ['TermdbTest'],
      email: 'ana@example.org',
      ip: '10.0.0.1',
      clientAuthResult: { role: 'analyst', cohorts: ['ABC'] },
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(300);
  });

  it('verify says why an expired token is refused, with exit code 1', async () => {
    const minted = io({ env, now: NOW - 3_600_000 });
    await main(
      ['mint', '--alg', 'HS256', '--secret-env', 'PP_DS_SECRET', '--dataset', 'D', '--email', 'e'],
      minted.io,
    );
    const checked = io({ env });
    expect(await main(['verify', '--secret-env', 'PP_DS_SECRET', minted.out[0] as string], checked.io)).toBe(
      1,
    );
    expect(checked.err[0]).toMatch(
      /^token_expired: token has expired \(exp 2026-11-23T11:10:00.000Z, 3000 s ago\)$/,
    );
  });

  it('keygen writes a private key (mode 600) and a JWKS that verifies what mint signs with it', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'pp-cli-')), 'keys');
    const k = io();
    expect(await main(['keygen', '--alg', 'ES256', '--out', dir], k.io)).toBe(0);
    expect(statSync(join(dir, 'private.pem')).mode & 0o777).toBe(0o600);
    const jwks = JSON.parse(readFileSync(join(dir, 'jwks.json'), 'utf8')) as { keys: { kid: string }[] };
    expect(k.out.join('\n')).toContain(`kid ${jwks.keys[0]?.kid}`);
    const minted = io();
    await main(
      ['mint', '--alg', 'ES256', '--key', join(dir, 'private.pem'), '--dataset', 'D', '--email', 'e'],
      minted.io,
    );
    const checked = io();
    expect(
      await main(['verify', '--jwks', join(dir, 'jwks.json'), minted.out[0] as string], checked.io),
    ).toBe(0);
    expect(await main(['keygen', '--alg', 'ES256', '--out', dir], io().io)).toBe(2);
  });

  it.each([
    [
      ['mint', '--alg', 'HS256', '--dataset', 'D', '--email', 'e'],
      'give exactly one of --secret-env, --secret-file, --key',
    ],
    [
      ['mint', '--alg', 'HS256', '--secret-env', 'UNSET_VAR', '--dataset', 'D', '--email', 'e'],
      'key_unavailable: environment variable UNSET_VAR is not set',
    ],
    [
      ['mint', '--alg', 'HS256', '--secret-env', 'PP_DS_SECRET', '--email', 'e'],
      'datasets must name at least one dataset',
    ],
    [['mint', '--alg', 'none', '--secret-env', 'PP_DS_SECRET'], '--alg none is not supported'],
    [['verify', '--secret-env', 'PP_DS_SECRET', '--public-key', 'x.pem', 'tok'], 'give exactly one of'],
    [['verify', '--bogus'], "Unknown option '--bogus'"],
    [['frobnicate'], 'unknown command frobnicate'],
  ])('refuses %j with exit code 2 and says why', async (argv, message) => {
    const t = io({ env });
    expect(await main(argv, t.io)).toBe(2);
    expect(t.err.join('\n')).toContain(message);
  });
});

describe('pp-token explain', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pp-explain-'));
  const config = join(dir, 'serverconfig.json');
  writeFileSync(
    config,
    JSON.stringify({
      // pp-token reads the config with the server's loader, but never opens the dataset files.
      datasets: [{ label: 'TermdbTest', genome: 'hg38', file: 'not-here.db', minSampleSize: 5 }],
      tokenLeeway: 0,
      dsCredentials: {
        TermdbTest: { termdb: { 'portal.example.org': { type: 'jwt', secret: { env: 'PP_DS_SECRET' } } } },
        Closed: { '*': { '*': { type: 'jwt', secret: { env: 'PP_DS_SECRET' } } } },
      },
    }),
  );
  const base = [
    'explain',
    '--config',
    config,
    '--dataset',
    'TermdbTest',
    '--origin',
    'https://portal.example.org',
  ];

  it('allows aggregated routes without a token and says what is suppressed', async () => {
    const t = io({ env });
    expect(await main([...base, '--route', 'termdb/barchart', '--no-token'], t.io)).toBe(0);
    expect(t.out.slice(-2)).toEqual([
      'Without a verified token, aggregated counts below 5 are suppressed.',
      'Decision: allowed.',
    ]);
  });

  it('answers the discovery route without a token under a "*" credential, as the server does', async () => {
    const t = io({ env });
    const closed = [...base.slice(0, 3), '--dataset', 'Closed', '--origin', 'https://portal.example.org'];
    expect(await main([...closed, '--route', 'termdb/config', '--no-token'], t.io)).toBe(0);
    expect(await main([...closed, '--route', 'termdb/terms', '--no-token'], t.io)).toBe(1);
    expect(t.out.join('\n')).toContain('Decision: refused with token_missing (401).');
  });

  /** A token from `pp-token mint` for the client address 203.0.113.7, minted at `now`. */
  async function minted(dataset: string, options: { now?: number; ttl?: string } = {}): Promise<string> {
    const t = io({ env, ...(options.now !== undefined && { now: options.now }) });
    const ttl = options.ttl === undefined ? [] : ['--ttl', options.ttl];
    const args = [
      '--secret-env',
      'PP_DS_SECRET',
      '--dataset',
      dataset,
      '--email',
      'e',
      '--ip',
      '203.0.113.7',
    ];
    expect(await main(['mint', '--alg', 'HS256', ...args, ...ttl], t.io)).toBe(0);
    return t.out[0] as string;
  }

  it("applies the config's tokenLeeway", async () => {
    // Minted 61 s ago with a 60 s lifetime: within the default 5 s leeway, but the config says 0.
    const t = io({ env, stdin: await minted('TermdbTest', { now: NOW - 61_000, ttl: '60' }) });
    expect(await main([...base, '--route', 'termdb/samples', '--ip', '203.0.113.7', '-'], t.io)).toBe(1);
    expect(t.out.join('\n')).toContain('token_expired');
  });

  it('explains a token granted for another dataset', async () => {
    const t = io({ env, stdin: await minted('Other') });
    expect(await main([...base, '--route', 'termdb/samples', '--ip', '203.0.113.7', '-'], t.io)).toBe(1);
    expect(t.out.join('\n')).toContain('dataset_not_granted');
  });

  it('reads the revocation feeds of the config once, and says by what and when a token was revoked', async () => {
    const revoked = { epoch: 'cli-test-epoch', seq: 1, revocations: [] as unknown[] };
    const publisher = new FeedPublisher({
      version: async () => revoked,
      snapshot: async () => ({
        epoch: revoked.epoch,
        seq: 1,
        revocations: [
          {
            type: 'user',
            sub: subjectHash('e'),
            before: cutoffAfter(NOW),
            at: NOW / 1000,
            reason: 'admin',
          } as const,
        ],
      }),
      signer: () => createSigner({ algorithm: 'HS256', key: { secret }, now: () => NOW }),
    });
    const server = createServer((_req, res) => {
      void publisher.answer({}).then((a) => res.end(a.status === 200 ? a.body : ''));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const withFeed = join(dir, 'with-feed.json');
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/pp-revocations`;
      writeFileSync(
        withFeed,
        JSON.stringify({
          ...JSON.parse(readFileSync(config, 'utf8')),
          revocationFeeds: {
            portal: { url, secret: { env: 'PP_DS_SECRET' }, embedders: ['portal.example.org'] },
          },
        }),
      );
      const t = io({ env, stdin: await minted('TermdbTest') });
      const args = [
        'explain',
        '--config',
        withFeed,
        ...base.slice(3),
        '--route',
        'termdb/samples',
        '--ip',
        '203.0.113.7',
        '-',
      ];
      expect(await main(args, t.io)).toBe(1);
      expect(t.out).toContain(
        `The token was revoked by the revocation feed "portal": every token of this user issued before ${new Date(cutoffAfter(NOW) * 1000).toISOString()} was withdrawn at ${new Date(NOW).toISOString()} (an administrator revoked it).`,
      );
      expect(t.out.at(-1)).toBe('Decision: refused with token_revoked (401).');
    } finally {
      server.close();
    }
  });

  it('reports a config problem with its path', async () => {
    const t = io({ env: {} });
    expect(await main([...base, '--route', 'termdb/samples', '--no-token'], t.io)).toBe(2);
    expect(t.err.join('\n')).toContain('dsCredentials.TermdbTest.termdb.portal.example.org.secret');
  });
});
