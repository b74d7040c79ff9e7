import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { generateSecret } from '@pp-embed/dataset-token';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type PortalConfig } from './config.js';

const secret = generateSecret();

function config(argv: string[], env: Record<string, string> = {}): PortalConfig {
  const result = loadConfig(argv, env, '/srv/portal');
  if (!('config' in result)) throw new Error('expected a configuration');
  return result.config;
}

function problems(argv: string[], env: Record<string, string> = {}): string[] {
  try {
    loadConfig(argv, env, '/srv/portal');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('loadConfig', () => {
  it('has safe defaults: loopback, port 3000, HS256, 10-minute tokens pinned to the client address', () => {
    const c = config([], { PP_DS_SECRET: secret });
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 3000,
      vizServerUrl: 'http://127.0.0.1:3001',
      store: { kind: 'sqlite', path: '/srv/portal/portal.db' },
      tokenTtlSeconds: 600,
      tokenIp: 'client',
      publicUrl: undefined,
      seedDemo: false,
      sessionIdleSeconds: 1800,
      sessionMaxAgeSeconds: 43_200,
      drainSeconds: 10,
    });
    expect(c.datasets.map((d) => d.label)).toEqual(['PPDemo', 'TermdbTest']);
    expect(c.signing.algorithm).toBe('HS256');
  });

  it('reads the environment, and lets flags win', () => {
    const env = {
      PP_DS_SECRET: secret,
      PORT: '4000',
      PP_VIZ_SERVER_URL: 'https://viz.example.org/pp/',
      PP_PORTAL_TOKEN_IP: 'client',
      PP_PORTAL_TRUST_PROXY: '10.0.0.0/8, 192.0.2.10',
      PP_PORTAL_PUBLIC_URL: 'https://portal.example.org',
      PP_PORTAL_DATASETS: 'PPDemo:hg19, Other',
    };
    const c = config(['--port', '5000', '--token-ttl', '300', '--db', '/var/lib/portal.db'], env);
    expect(c.port).toBe(5000);
    expect(c.tokenTtlSeconds).toBe(300);
    expect(c.vizServerUrl).toBe('https://viz.example.org/pp');
    expect(c.tokenIp).toBe('client');
    expect(c.proxies.ranges).toEqual(['10.0.0.0/8', '192.0.2.10']);
    expect(c.publicUrl).toBe('https://portal.example.org');
    expect(c.store).toEqual({ kind: 'sqlite', path: '/var/lib/portal.db' });
    expect(c.datasets).toEqual([{ label: 'PPDemo', genome: 'hg19' }, { label: 'Other' }]);
  });

  it('names the variable and the flag of every bad value, all at once', () => {
    const found = problems([], {
      PP_DS_SECRET: secret,
      PORT: 'eighty',
      PP_PORTAL_TOKEN_TTL: '86400',
      PP_PORTAL_TOKEN_IP: 'sometimes',
      PP_VIZ_SERVER_URL: 'ftp://viz',
    });
    expect(found).toEqual([
      'PORT (--port): expected a whole number from 0 to 65535 (got "eighty")',
      'PP_VIZ_SERVER_URL (--viz-server): expected an http(s) URL for the visualization server (got "ftp://viz")',
      'PP_PORTAL_TOKEN_TTL (--token-ttl): expected a whole number from 60 to 3600 (got "86400")',
      'PP_PORTAL_TOKEN_IP (--token-ip): expected client or none (got "sometimes")',
    ]);
  });

  it('names a trusted proxy that is not an address or a CIDR range', () => {
    expect(problems(['--trust-proxy', '10.0.0.0/8,proxy.local'], { PP_DS_SECRET: secret })).toEqual([
      'PP_PORTAL_TRUST_PROXY (--trust-proxy): "proxy.local": expected an IP address or a CIDR range such as 10.0.0.0/8 (got "10.0.0.0/8,proxy.local")',
    ]);
  });

  it('reports a missing secret beside other mistakes', () => {
    expect(problems(['--token-ttl', '5'])).toEqual([
      'PP_PORTAL_TOKEN_TTL (--token-ttl): expected a whole number from 60 to 3600 (got "5")',
      'PP_DS_SECRET: is required with HS256 (or PP_DS_SECRET_FILE); generate one with `pp-token secret`',
    ]);
  });

  it('refuses to start HS256 without a secret, or with a weak one, and never prints the secret', () => {
    expect(problems([])).toEqual([
      'PP_DS_SECRET: is required with HS256 (or PP_DS_SECRET_FILE); generate one with `pp-token secret`',
    ]);
    const weak = problems([], { PP_DS_SECRET: 'my-secret' });
    expect(weak).toEqual([
      'PP_DS_SECRET: is not a usable HS256 secret: a well-known example secret; generate one with `pp-token secret`',
    ]);
    const short = problems([], { PP_DS_SECRET: 'Zq8pW2xR7kT4' });
    expect(short.join('\n')).not.toContain('Zq8pW2xR7kT4');
  });

  it('reads the secret from a file, and keeps it out of logs and inspection', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portal-config-'));
    writeFileSync(join(dir, 'secret'), `${secret}\n`);
    const c = config(['--secret-file', join(dir, 'secret')]);
    if (c.signing.algorithm !== 'HS256') throw new Error('expected HS256');
    expect(Buffer.from(c.signing.secret.reveal()).toString()).toBe(secret);
    expect(JSON.stringify(c)).not.toContain(secret);
    expect(inspect(c, { depth: 5 })).not.toContain(secret);
    expect(problems(['--secret-file', join(dir, 'missing')])[0]).toMatch(
      /^PP_DS_SECRET_FILE \(--secret-file\): cannot read secret file/,
    );
    expect(problems(['--secret-file', join(dir, 'secret')], { PP_DS_SECRET: secret })).toEqual([
      'PP_DS_SECRET_FILE (--secret-file): set PP_DS_SECRET or PP_DS_SECRET_FILE, not both',
    ]);
  });

  it('needs a keys directory for ES256, and no secret', () => {
    expect(problems(['--signing', 'ES256'])).toEqual([
      'PP_PORTAL_KEYS_DIR (--keys-dir): is required with ES256',
    ]);
    expect(config(['--signing', 'ES256', '--keys-dir', 'keys']).signing).toEqual({
      algorithm: 'ES256',
      keysDir: '/srv/portal/keys',
    });
    expect(problems(['--signing', 'ES256', '--keys-dir', 'keys'], { PP_DS_SECRET: secret })[0]).toMatch(
      /^PP_DS_SECRET: is for HS256/,
    );
  });

  it('refuses a public URL with a path and unknown flags', () => {
    expect(problems(['--public-url', 'https://portal.example.org/app'], { PP_DS_SECRET: secret })).toEqual([
      'PP_PORTAL_PUBLIC_URL (--public-url): expected an origin, e.g. https://portal.example.org (got "https://portal.example.org/app")',
    ]);
    expect(problems(['--colour'])[0]).toMatch(/^command line: Unknown option '--colour'/);
  });

  it('reads the institution file: the client secret from where it names, never from the file itself', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portal-institution-'));
    const file = join(dir, 'institution.json');
    writeFileSync(
      file,
      JSON.stringify({
        issuer: 'https://login.university.example',
        name: 'University',
        clientId: 'pp-portal',
        clientSecret: { env: 'PP_INSTITUTION_SECRET' },
        grants: [{ claim: 'groups', value: 'abc-team', dataset: 'TermdbTest' }],
      }),
    );
    const c = config(['--institution', file], {
      PP_DS_SECRET: secret,
      PP_INSTITUTION_SECRET: 'the client secret the IdP gave',
    });
    expect(c.institution).toMatchObject({
      issuer: 'https://login.university.example',
      clientSecret: 'the client secret the IdP gave',
      scope: 'openid email groups',
    });
  });

  it('names every mistake of the institution file with its JSON path, all at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portal-institution-'));
    const file = join(dir, 'institution.json');
    writeFileSync(
      file,
      JSON.stringify({
        // Plain http is for an IdP on this machine only.
        issuer: 'http://login.university.example',
        name: 'University',
        clientSecret: 'the secret itself',
        grants: [{ claim: 'groups', value: 'abc-team', dataset: '../etc' }],
        passports: { visaIssuers: [], visas: [] },
      }),
    );
    const found = problems(['--institution', file], { PP_DS_SECRET: secret });
    const prefix = 'PP_PORTAL_INSTITUTION (--institution)';
    for (const path of [
      'issuer',
      'clientId',
      'clientSecret',
      'grants[0].dataset',
      'passports.visaIssuers',
      'passports.visas',
    ]) {
      expect(found, path).toContainEqual(
        expect.stringMatching(new RegExp(`^${escapeRegExp(`${prefix} ${path}:`)}`)),
      );
    }
    expect(found.join('\n')).not.toContain('the secret itself');
  });

  it('answers --help with every setting', () => {
    const result = loadConfig(['--help'], {});
    if (!('help' in result)) throw new Error('expected help');
    for (const name of ['PP_DS_SECRET', 'PP_PORTAL_KEYS_DIR', '--token-ip', 'PORT']) {
      expect(result.help).toContain(name);
    }
  });
});

describe('a portal registered with pp-token embedder add', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pp-portal-credential-'));
  const credential = {
    format: 'pp-embed/embedder-credential@1',
    id: 'portal.example.org',
    embedder: 'portal.example.org',
    datasets: ['TermdbTest'],
    routes: ['termdb'],
    alg: 'HS256',
    kid: '20260523-k3x9qa',
    secret: generateSecret(),
    issuedAt: '2026-05-23T12:00:00.000Z',
  };
  const file = join(dir, 'credential.json');
  writeFileSync(file, JSON.stringify(credential), { mode: 0o600 });

  it('signs with the credential file: its algorithm and kid, its secret kept out of logs', () => {
    const c = config(['--credential-file', file]);
    expect(c.signing).toMatchObject({
      algorithm: 'registered',
      credential: { id: 'portal.example.org', alg: 'HS256', kid: '20260523-k3x9qa' },
    });
    expect(inspect(c, { depth: 10 })).not.toContain(credential.secret);
    expect(JSON.stringify(c)).not.toContain(credential.secret);
  });

  it('refuses the other ways to sign beside it, and a file others may read', () => {
    expect(problems(['--credential-file', file], { PP_DS_SECRET: secret })).toEqual([
      'PP_DS_SECRET: is not used with PP_PORTAL_CREDENTIAL_FILE (--credential-file); remove it',
    ]);
    const open = join(dir, 'open.json');
    writeFileSync(open, JSON.stringify(credential), { mode: 0o644 });
    expect(problems(['--credential-file', open])).toEqual([
      'PP_PORTAL_CREDENTIAL_FILE (--credential-file) (root): can be read by others (mode 644); chmod 600 it',
    ]);
  });
});
