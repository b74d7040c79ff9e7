import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parsePasswordHash, verifyPassword } from '@pp-embed/access-policy';
import { createSigner, createVerifier, generateSecret, publicJwk } from '@pp-embed/dataset-token';
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
    write: async (bytes) => {
      out.push(Buffer.from(bytes).toString('utf8'));
    },
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
    for (const name of [
      'secret',
      'keygen',
      'mint',
      'verify',
      'explain',
      'hash-password',
      'migrate-config',
      'fetch',
      'access',
    ]) {
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
      datasets: [
        { label: 'TermdbTest', genome: 'hg38', file: 'not-here.db', minSampleSize: 5 },
        { label: 'Closed', genome: 'hg38', file: 'not-here-either.db' },
      ],
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

  it('allows aggregated routes without a token, says which rule applies, and what it does to a count', async () => {
    const t = io({ env });
    const args = [...base, '--route', 'termdb/barchart', '--no-token', '--count', '3', '--count', '40'];
    expect(await main(args, t.io)).toBe(0);
    expect(t.out.slice(-5)).toEqual([
      'The caller is anonymous (no verified token); the rule for callers without a verified token applies (datasets[0].minSampleSize). The rule: counts from 1 to 4 are hidden and shown as "<5"; more counts are withheld so that no hidden one can be worked out from totals, margins, other splits or filters (complementary suppression).',
      'Decision: allowed.',
      'A count of 3 is hidden by the threshold (counts from 1 to 4 are shown as "<5").',
      'A count of 40 is shown as it is, unless it is withheld because, with the totals or other answers, it would give a hidden count away (complementary suppression).',
      'Answer: termdb/barchart of TermdbTest needs no token from https://portal.example.org.',
    ]);
  });

  it('mints a signed-in token without a grant, whose rows are refused with grant_required', async () => {
    const mint = io({ env });
    const mintArgs = ['mint', '--alg', 'HS256', '--secret-env', 'PP_DS_SECRET', '--dataset', 'TermdbTest'];
    expect(
      await main([...mintArgs, '--email', 'e', '--ip', '203.0.113.7', '--access', 'signedIn'], mint.io),
    ).toBe(0);
    const t = io({ env, stdin: mint.out[0] as string });
    expect(await main([...base, '--route', 'termdb/samples', '--ip', '203.0.113.7', '-'], t.io)).toBe(1);
    expect(t.out.at(-1)).toBe('Decision: refused with grant_required (403).');
    const bad = io({ env });
    await expect(main([...mintArgs, '--email', 'e', '--access', 'admin'], bad.io)).resolves.toBe(2);
  });

  it('answers whether a route needs a token from an origin when no token is given, without reading stdin', async () => {
    const t = io({ env, stdin: 'not read' });
    expect(await main([...base, '--route', 'termdb/samples'], t.io)).toBe(1);
    expect(t.out.at(-1)).toBe(
      'Answer: termdb/samples of TermdbTest needs a token from https://portal.example.org, in the x-ds-access-token header.',
    );
    const other = io({ env });
    const elsewhere = [
      ...base.slice(0, 5),
      '--origin',
      'https://staging.example.org',
      '--route',
      'termdb/samples',
    ];
    expect(await main(elsewhere, other.io)).toBe(1);
    expect(other.out.at(-1)).toBe(
      'Answer: termdb/samples of TermdbTest is closed to https://staging.example.org (embedder_not_allowed), token or not.',
    );
  });

  it('prints the access table without a request, as the server logs it at start, never a secret', async () => {
    const t = io({ env });
    expect(await main(['explain', '--config', config], t.io)).toBe(0);
    expect(t.out[0]).toMatch(/^dataset +routes +embedder +needs$/);
    expect(t.out).toContainEqual(
      expect.stringMatching(
        /^TermdbTest +sample-level \(termdb\/samples, termdb\/export\) +portal\.example\.org \(any port\) +a token signed with the shared secret \(HS256\), in x-ds-access-token; strict address check$/,
      ),
    );
    expect(t.out.at(-1)).toBe('Open to everyone: no dataset.');
    expect(t.out.join('\n')).not.toContain(env.PP_DS_SECRET as string);
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

  it('explains a token of a trusted issuer: the issuer, the claim and the rule; the access table names the issuer', async () => {
    const key = generateKeyPairSync('rsa', { modulusLength: 2048 });
    let issuer = '';
    const server = createServer((req, res) => {
      const body =
        req.url === '/.well-known/openid-configuration'
          ? { issuer, jwks_uri: `${issuer}/jwks` }
          : { keys: [publicJwk(key.publicKey, 'RS256', 'idp-1')] };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const withIssuer = join(dir, 'with-issuer.json');
      const original = JSON.parse(readFileSync(config, 'utf8')) as { dsCredentials: Record<string, unknown> };
      writeFileSync(
        withIssuer,
        JSON.stringify({
          ...original,
          trustedIssuers: {
            university: {
              issuer,
              audience: 'https://viz.example.org',
              grants: [{ claim: 'groups', value: 'abc-team', dataset: 'TermdbTest', cohorts: ['ABC'] }],
            },
          },
          dsCredentials: {
            ...original.dsCredentials,
            TermdbTest: { termdb: { 'portal.example.org': { type: 'jwt', issuers: ['university'] } } },
          },
        }),
      );
      const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const input = `${part({ alg: 'RS256', kid: 'idp-1', typ: 'at+jwt' })}.${part({
        iss: issuer,
        sub: 'ana',
        aud: 'https://viz.example.org',
        groups: ['abc-team'],
        iat: NOW / 1000,
        exp: NOW / 1000 + 300,
      })}`;
      const token = `${input}.${sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`;
      const t = io({ env, stdin: token });
      const args = ['explain', '--config', withIssuer, ...base.slice(3), '--route', 'termdb/samples', '-'];
      expect(await main(args, t.io)).toBe(0);
      const text = t.out.join('\n');
      expect(text).toContain(`trusted issuer "university" (${issuer}, trustedIssuers.university)`);
      expect(text).toContain(
        'It grants "TermdbTest" (cohorts "ABC") by claim "groups" = "abc-team" under rule trustedIssuers.university.grants[0].',
      );
      expect(t.out.at(-1)).toBe('Decision: allowed.');
      const table = io({ env });
      expect(await main(['explain', '--config', withIssuer], table.io)).toBe(0);
      expect(table.out.join('\n')).toContain(
        `a token from one of its trusted issuers "university" (${issuer})`,
      );
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

describe('pp-token hash-password', () => {
  it('hashes the password read from standard input, which the loader then accepts', async () => {
    const t = io({ stdin: 'correct horse battery staple\n' });
    expect(await main(['hash-password', '--cost', '14'], t.io)).toBe(0);
    const hash = t.out[0] as string;
    expect(hash).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$/);
    const parsed = parsePasswordHash(hash);
    if ('problem' in parsed) throw new Error(parsed.problem);
    expect(await verifyPassword(parsed, 'correct horse battery staple')).toBe(true);
  });

  it('never takes the password as an argument', async () => {
    const t = io();
    expect(await main(['hash-password', 'hunter2'], t.io)).toBe(2);
    expect(await main(['hash-password'], t.io)).toBe(2);
    expect(t.err.join('\n')).toContain('give the password on standard input');
  });
});

describe('pp-token migrate-config', () => {
  it("rewrites a ProteinPaint serverconfig's block, writes it readable by its owner only, and says what changed", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-migrate-'));
    writeFileSync(
      join(dir, 'serverconfig.json'),
      JSON.stringify({
        genomes: [],
        dsCredentials: {
          ds0: { type: 'jwt', embedders: { localhost: { secret: 'abc123' } } },
          'SJ*': { '*': { '*': { type: 'forbidden' } } },
        },
      }),
    );
    const out = join(dir, 'dscredentials.json');
    const t = io();
    expect(await main(['migrate-config', join(dir, 'serverconfig.json'), '--out', out], t.io)).toBe(1);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({
      ds0: { termdb: { localhost: { type: 'jwt', secret: { env: 'PP_DS_SECRET' } } } },
      'SJ*': { '*': { '*': { type: 'forbidden' } } },
    });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(t.err).toContain(
      'changed dsCredentials.ds0: ProteinPaint\'s legacy {"type": "jwt", "embedders": …} shape is written as route keys',
    );
    expect(t.err.join('\n')).not.toContain('abc123');
    expect(await main(['migrate-config', join(dir, 'serverconfig.json'), '--out', out], io().io)).toBe(2);
  });

  it('follows a dsCredentials given as a path, and prints the block when there is no --out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-migrate-'));
    writeFileSync(join(dir, 'creds.json'), JSON.stringify({ ds1: { '*': { '*': { type: 'jwt' } } } }));
    writeFileSync(join(dir, 'serverconfig.json'), JSON.stringify({ dsCredentials: 'creds.json' }));
    const t = io();
    expect(await main(['migrate-config', join(dir, 'serverconfig.json')], t.io)).toBe(0);
    expect(JSON.parse(t.out.join('\n'))).toEqual({ ds1: { '*': { '*': { type: 'forbidden' } } } });
  });

  describe('fetch and access, with a personal API token', () => {
    /** A stand-in for the portal's exchange and the server's samples route, on 127.0.0.1. */
    async function standIn(): Promise<{ url: string; seen: string[]; close: () => void }> {
      const seen: string[] = [];
      const server = createServer((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''} ${body}`);
          if (req.url === '/oauth/token') {
            const ok = new URLSearchParams(body).get('refresh_token') === 'ppat_test';
            res.writeHead(ok ? 200 : 400, { 'content-type': 'application/json' });
            res.end(
              JSON.stringify(
                ok
                  ? { access_token: 'dataset-token', token_type: 'Bearer', expires_in: 600, scope: '' }
                  : { error: 'invalid_grant', error_description: 'The API token is not valid.' },
              ),
            );
            return;
          }
          res.writeHead(200, { 'content-type': 'text/tab-separated-values' });
          res.end('sample\tSex\nS1\tFemale\n');
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      return { url, seen, close: () => server.close() };
    }

    it('exchanges the token from the environment and writes the route’s answer as it comes', async () => {
      const s = await standIn();
      try {
        const t = io({ env: { PP_API_TOKEN: 'ppat_test' } });
        const args = ['fetch', '--portal', s.url, '--viz-server', s.url, '--dataset', 'PPDemo'];
        expect(
          await main([...args, '--route', 'termdb/samples', '--term', 'sex', '--format', 'tsv'], t.io),
        ).toBe(0);
        expect(t.out.join('')).toBe('sample\tSex\nS1\tFemale\n');
        expect(s.seen[0]).toBe(
          'POST /oauth/token  grant_type=refresh_token&refresh_token=ppat_test&client_id=pp-scripts&scope=dataset%3APPDemo',
        );
        expect(s.seen[1]).toBe(
          'GET /termdb/samples?dslabel=PPDemo&term=sex&format=tsv Bearer dataset-token ',
        );
      } finally {
        s.close();
      }
    });

    it('says the portal’s refusal and exits 1; reads the token only from the environment or a file', async () => {
      const s = await standIn();
      try {
        const dir = mkdtempSync(join(tmpdir(), 'pp-token-'));
        writeFileSync(join(dir, 'token'), 'ppat_wrong\n');
        const t = io();
        const args = [
          'fetch',
          '--portal',
          s.url,
          '--viz-server',
          s.url,
          '--dataset',
          'PPDemo',
          '--route',
          'barchart',
        ];
        expect(await main([...args, '--api-token-file', join(dir, 'token')], t.io)).toBe(1);
        expect(t.err[0]).toMatch(/^invalid_grant: /);
        expect(t.err.join('')).not.toContain('ppat_wrong');
        const none = io();
        expect(await main(args, none.io)).toBe(2);
        expect(none.err[0]).toMatch(/^no API token: set PP_API_TOKEN/);
        expect(await main([...args, '--api-token', 'ppat_test'], io().io)).toBe(2);
        expect(
          await main(
            [
              'fetch',
              '--portal',
              s.url,
              '--viz-server',
              s.url,
              '--dataset',
              'PPDemo',
              '--route',
              'termdb/nothing',
            ],
            io({ env: { PP_API_TOKEN: 'x' } }).io,
          ),
        ).toBe(2);
      } finally {
        s.close();
      }
    });
  });
});
