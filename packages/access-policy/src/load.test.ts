import { createPublicKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, TokenError } from '@pp-embed/dataset-token';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BARCHART,
  clock,
  forbidden,
  jwt,
  load,
  newSecret,
  open,
  problemsOf,
  SAMPLES,
  scratchDir,
  signerFor,
} from '../test/helpers.js';
import { authorize } from './authorize.js';
import type { CredentialEntry, TokenEntry } from './entries.js';
import { loadPolicy } from './load.js';
import { ConfigError } from '@pp-embed/server-runtime';

// The block exactly as PRODUCT.md (and ProteinPaint's documentation) shows it.
const PRODUCT_BLOCK = `{
"dsCredentials": {
  "<Dataset_Label>": {
    "*": {
      "<Data_Portal_Domain>": {
        "type": "jwt", "secret": "<my-secret>",
        "dsnames": [{"id": "<Dataset_Label>", "label": "<Dataset_Label>"}],
        "headerKey": "x-ds-access-token", "looseIpCheck": false
      }
    }
  }
}
}`;

function productBlock(fill: { dataset?: string; portal?: string; secret?: string }): unknown {
  let text = PRODUCT_BLOCK;
  if (fill.dataset !== undefined) text = text.replaceAll('<Dataset_Label>', fill.dataset);
  if (fill.portal !== undefined) text = text.replaceAll('<Data_Portal_Domain>', fill.portal);
  if (fill.secret !== undefined) text = text.replaceAll('<my-secret>', fill.secret);
  return (JSON.parse(text) as { dsCredentials: unknown }).dsCredentials;
}

const ORIGIN = 'https://portal.example.org';

/** The entry's own verifier (every entry of these tests has a key). */
function keyOf(entry: CredentialEntry): NonNullable<CredentialEntry['verifier']> {
  if (entry.verifier === undefined) throw new Error(`${entry.path} has no key`);
  return entry.verifier;
}

function tokenEntry(policy: ReturnType<typeof load>): CredentialEntry {
  const r = policy.resolve('TermdbTest', SAMPLES, ORIGIN);
  if (r.kind !== 'needs-token') throw new Error(`expected needs-token, got ${r.kind}`);
  return r.entry;
}

describe('the ProteinPaint block from PRODUCT.md', () => {
  it('loads with its placeholders filled in, and grants a token minted with the shared secret', async () => {
    const secret = newSecret();
    const policy = load(productBlock({ dataset: 'TermdbTest', portal: 'portal.example.org', secret }));
    const entry = tokenEntry(policy);
    expect(entry).toMatchObject({
      path: 'dsCredentials.TermdbTest.*.portal.example.org',
      headerKey: 'x-ds-access-token',
      ipCheck: 'strict',
      dsnames: [{ id: 'TermdbTest', label: 'TermdbTest' }],
    });
    const claims = await keyOf(entry).verify(
      signerFor(secret)({ datasets: ['TermdbTest'], email: 'ana@example.org', ip: '203.0.113.7' }),
    );
    expect(authorize(entry, claims, { dataset: 'TermdbTest', clientIp: '203.0.113.7' })).toEqual({
      ok: true,
    });
  });

  it('refuses the placeholder secret <my-secret> as a well-known example', () => {
    expect(problemsOf(productBlock({ dataset: 'TermdbTest', portal: 'portal.example.org' }))).toEqual([
      {
        path: 'dsCredentials.TermdbTest.*.portal.example.org.secret',
        message: 'a well-known example secret; generate one with `pp-token secret`',
      },
    ]);
  });

  it('reports both placeholders of the verbatim block at once', () => {
    expect(problemsOf(productBlock({}))).toEqual([
      {
        path: 'dsCredentials.<Dataset_Label>.*.<Data_Portal_Domain>',
        message: 'not a valid host[:port] such as portal.example.org',
      },
      {
        path: 'dsCredentials.<Dataset_Label>.*.<Data_Portal_Domain>.secret',
        message: 'a well-known example secret; generate one with `pp-token secret`',
      },
    ]);
  });
});

describe('comment keys', () => {
  it('ignores keys starting with # at every level, whatever they hold', () => {
    const policy = load({
      '#': 'dataset-level comment',
      '#Disabled': { broken: true },
      TermdbTest: {
        '#why': ['route-level', 'comment'],
        termdb: {
          '#': 42,
          'portal.example.org': jwt({ '#note': 'entry-level comment' }),
        },
      },
    });
    expect(policy.entries.map((e) => e.path)).toEqual(['dsCredentials.TermdbTest.termdb.portal.example.org']);
    expect(policy.resolve('#Disabled', SAMPLES, ORIGIN)).toEqual({ kind: 'open', entry: undefined });
  });

  it('does not read a #-prefixed embedder as a host', () => {
    const policy = load({ TermdbTest: { '*': { '#portal.example.org': jwt(), '*': forbidden() } } });
    expect(policy.resolve('TermdbTest', SAMPLES, ORIGIN)).toMatchObject({
      kind: 'forbidden',
      code: 'route_forbidden',
    });
  });
});

describe("ProteinPaint's shapes", () => {
  it('reads the route key "/**" as "*", as ProteinPaint documents it', () => {
    const policy = load({ TermdbTest: { '/**': { 'portal.example.org': jwt() } } });
    expect(policy.resolve('TermdbTest', BARCHART, ORIGIN)).toMatchObject({
      kind: 'needs-token',
      entry: { path: 'dsCredentials.TermdbTest./**.portal.example.org', route: '*' },
    });
  });

  it('refuses "/**" and "*" in one dataset, which are one route key', () => {
    expect(problemsOf({ T: { '*': { '*': jwt() }, '/**': { '*': jwt() } } })).toEqual([
      { path: 'dsCredentials.T./**', message: 'the same route key as "*"; keep one of them' },
    ]);
  });

  it("reads a dataset-level headerKey as the default of the dataset's entries", () => {
    const policy = load({
      TermdbTest: {
        headerKey: 'X-Custom-DS-Header',
        termdb: { 'portal.example.org': jwt(), 'lab.example.edu': jwt({ headerKey: 'x-lab' }) },
      },
      Other: { termdb: { '*': jwt() } },
    });
    expect(policy.entries.map((e) => (e.type === 'jwt' ? e.headerKey : ''))).toEqual([
      'x-custom-ds-header',
      'x-lab',
      'x-ds-access-token',
    ]);
  });

  it('refuses a dataset-level headerKey a page cannot send', () => {
    expect(problemsOf({ T: { headerKey: 'Cookie', termdb: { '*': jwt() } } })).toEqual([
      {
        path: 'dsCredentials.T.headerKey',
        message:
          'a header that browsers do not let a page set; use a custom name such as x-ds-access-token (the header of every entry of this dataset without one)',
      },
    ]);
  });

  it('accepts dsnames items with members of their own (role, sites), which grant nothing', () => {
    const policy = load({
      T: {
        termdb: { '*': jwt({ dsnames: [{ id: 'ABC', label: 'ABC cohort', role: 'admin', sites: [1, 2] }] }) },
      },
    });
    expect(policy.entries[0]).toMatchObject({ dsnames: [{ id: 'ABC', label: 'ABC cohort' }] });
  });

  it.each([
    [{ ipCheck: 'none' }, 'none'],
    [{ ipCheck: 'loose' }, 'loose'],
    [{ ipCheck: 'strict' }, 'strict'],
    [{ looseIpCheck: true }, 'loose'],
    [{ looseIpCheck: false }, 'strict'],
  ])('reads %j as ipCheck %s', (fields, ipCheck) => {
    expect(load({ T: { termdb: { '*': jwt(fields) } } }).entries[0]).toMatchObject({ ipCheck });
  });

  it('refuses ipCheck and looseIpCheck together, and an ipCheck ProteinPaint does not have', () => {
    expect(problemsOf({ T: { termdb: { '*': jwt({ ipCheck: 'loose', looseIpCheck: true }) } } })).toEqual([
      {
        path: 'dsCredentials.T.termdb.*',
        message: 'give "ipCheck" or "looseIpCheck" (its older spelling), not both',
      },
    ]);
    expect(problemsOf({ T: { termdb: { '*': jwt({ ipCheck: 'off' }) } } })).toEqual([
      { path: 'dsCredentials.T.termdb.*.ipCheck', message: 'expected "strict", "loose", "none"' },
    ]);
  });

  it('refuses the legacy {type: "jwt", embedders} shape with the rewritten form, never printing the secret', () => {
    const secret = newSecret();
    const problems = problemsOf({
      ds0: {
        type: 'jwt',
        embedders: { localhost: { secret, dsnames: [{ id: 'ds0', label: 'D' }] } },
        headerKey: 'x-ds-token',
      },
    });
    expect(problems).toEqual([
      {
        path: 'dsCredentials.ds0',
        message:
          'ProteinPaint\'s legacy {"type": "jwt", "embedders": …} shape, which pp-embed does not read; write it as {"termdb": {"localhost": {"type": "jwt", "secret": "<secret>", "dsnames": [{"id": "ds0", "label": "D"}], "headerKey": "x-ds-token"}}} (`pp-token migrate-config` rewrites the file)',
      },
    ]);
    expect(JSON.stringify(problems)).not.toContain(secret);
  });

  it('refuses the legacy {type: "login"} shape with the rewritten form, never printing the password', () => {
    const problems = problemsOf({ ds1: { type: 'login', password: 'hunter2-is-the-password' } });
    expect(problems).toEqual([
      {
        path: 'dsCredentials.ds1',
        message:
          'ProteinPaint\'s legacy {"type": "login", "password": …} shape, which pp-embed does not read; write it as {"*": {"*": {"type": "basic", "passwordHash": "<pp-token hash-password>", "tokenSecret": {"env": "PP_DS_TOKEN_SECRET"}}}} (`pp-token migrate-config` rewrites the file)',
      },
    ]);
    expect(JSON.stringify(problems)).not.toContain('hunter2');
  });

  it("refuses ProteinPaint-only fields with ProteinPaint's reason, not as unknown", () => {
    const problems = problemsOf({
      T: {
        termdb: {
          '*': jwt({ demoToken: { roles: ['user'], referers: ['/demo'] }, cookieMode: 'set-cookie' }),
        },
      },
    });
    expect(problems).toEqual([
      {
        path: 'dsCredentials.T.termdb.*.demoToken',
        message:
          "ProteinPaint's demo-token route is not part of pp-embed; mint a demo user's token with `pp-token mint`",
      },
      {
        path: 'dsCredentials.T.termdb.*.cookieMode',
        message: 'pp-embed never sets a cookie: tokens travel in the headerKey header',
      },
    ]);
  });
});

describe('served datasets', () => {
  it('refuses a dataset key that names no served dataset, suggesting the label it most likely meant', () => {
    expect(
      problemsOf({ termdbtest: { termdb: { '*': jwt() } } }, { datasets: ['TermdbTest', 'PPDemo'] }),
    ).toEqual([
      {
        path: 'dsCredentials.termdbtest',
        message:
          'names no dataset this server serves; did you mean "TermdbTest"? (labels are compared exactly)',
      },
    ]);
  });

  it('names the served datasets when no label is close', () => {
    expect(
      problemsOf({ SJLife: { termdb: { '*': jwt() } } }, { datasets: ['TermdbTest', 'PPDemo'] }),
    ).toEqual([
      {
        path: 'dsCredentials.SJLife',
        message: 'names no dataset this server serves ("TermdbTest", "PPDemo"); use "*" for every dataset',
      },
    ]);
  });

  it('takes "*" and comments for what they are', () => {
    expect(() =>
      load({ '*': { termdb: { '*': jwt() } }, '#old': { x: 1 } }, { datasets: ['TermdbTest'] }),
    ).not.toThrow();
  });
});

describe('entry defaults and extensions', () => {
  it('defaults headerKey to x-ds-access-token, ipCheck to strict and dsnames to the dataset label', () => {
    const entry = tokenEntry(load({ TermdbTest: { '*': { '*': jwt() } } }));
    expect(entry).toMatchObject({
      headerKey: 'x-ds-access-token',
      ipCheck: 'strict',
      dsnames: undefined,
      maxTokenAge: 86_400,
    });
  });

  it('stores headerKey in lowercase, as header names compare case-insensitively (RFC 9110 §5.1)', () => {
    const policy = load({ TermdbTest: { '*': { '*': jwt({ headerKey: 'X-Portal-Token' }) } } });
    expect(tokenEntry(policy).headerKey).toBe('x-portal-token');
    expect(policy.headerKeys()).toEqual(['x-portal-token']);
  });

  it('reads a secret from an environment variable', async () => {
    const secret = newSecret();
    const policy = load(
      { TermdbTest: { '*': { '*': { type: 'jwt', secret: { env: 'PP_SECRET' } } } } },
      { env: { PP_SECRET: secret } },
    );
    const claims = await keyOf(tokenEntry(policy)).verify(
      signerFor(secret)({ datasets: ['TermdbTest'], email: 'a@b.org' }),
    );
    expect(claims.datasets).toEqual(['TermdbTest']);
  });

  describe('with files', () => {
    const scratch = scratchDir();
    afterAll(scratch.remove);

    it('reads a secret file relative to the config directory', async () => {
      const secret = newSecret();
      writeFileSync(join(scratch.dir, 'pp.secret'), `${secret}\n`);
      const policy = load(
        { TermdbTest: { '*': { '*': { type: 'jwt', secret: { file: 'pp.secret' } } } } },
        { baseDir: scratch.dir },
      );
      const claims = await keyOf(tokenEntry(policy)).verify(
        signerFor(secret)({ datasets: ['TermdbTest'], email: 'a@b.org' }),
      );
      expect(claims.email).toBe('a@b.org');
    });

    it('reads a public key file and a JWKS file relative to the config directory', () => {
      const pair = generateKeyPair('ES256');
      writeFileSync(
        join(scratch.dir, 'portal.pem'),
        createPublicKey(pair.privateKeyPem).export({ format: 'pem', type: 'spki' }),
      );
      writeFileSync(join(scratch.dir, 'portal.jwks.json'), JSON.stringify(pair.jwks));
      const policy = load(
        {
          A: { '*': { '*': { type: 'jwt', publicKey: 'portal.pem' } } },
          B: { '*': { '*': { type: 'jwt', jwks: 'portal.jwks.json', algorithms: ['ES256'] } } },
        },
        { baseDir: scratch.dir },
      );
      expect(policy.entries.map((e) => e.type === 'jwt' && [e.keySource, e.verifier?.algorithms])).toEqual([
        ['publicKey', ['ES256']],
        ['jwks', ['ES256']],
      ]);
    });
  });

  it('accepts a PEM public key written into the config', () => {
    const pem = createPublicKey(generateKeyPair('RS256').privateKeyPem)
      .export({ format: 'pem', type: 'spki' })
      .toString();
    const policy = load({ TermdbTest: { '*': { '*': { type: 'jwt', publicKey: pem } } } });
    expect(tokenEntry(policy).verifier?.algorithms).toEqual(['RS256']);
  });

  it('accepts a JWKS https URL without fetching it at load', () => {
    const fetch = (): never => {
      throw new Error('no fetch at load');
    };
    const policy = load(
      {
        TermdbTest: {
          '*': { '*': { type: 'jwt', jwks: 'https://portal.example.org/.well-known/jwks.json' } },
        },
      },
      { remoteJwks: { fetch } },
    );
    expect(tokenEntry(policy).keySource).toBe('jwks');
  });

  it('applies issuer, audience and maxTokenAge to verification', async () => {
    const secret = newSecret();
    const policy = load({
      TermdbTest: {
        '*': {
          '*': {
            type: 'jwt',
            secret,
            issuer: 'https://portal.example.org',
            audience: ['viz'],
            maxTokenAge: 300,
          },
        },
      },
    });
    const entry = tokenEntry(policy);
    expect(entry).toMatchObject({
      issuer: ['https://portal.example.org'],
      audience: ['viz'],
      maxTokenAge: 300,
    });
    const token = signerFor(secret)({ datasets: ['TermdbTest'], email: 'a@b.org' });
    await expect(keyOf(entry).verify(token)).rejects.toBeInstanceOf(TokenError);
  });
});

describe('validation', () => {
  const E = 'dsCredentials.TermdbTest.*.portal.example.org';
  const at = (entry: unknown): unknown => ({ TermdbTest: { '*': { 'portal.example.org': entry } } });

  it('reports values JSON cannot hold, with their paths, as a ConfigError', () => {
    const raw = {
      '#note': Number.NaN,
      TermdbTest: { '*': { 'portal.example.org': { type: 'open', extra: () => 1 } } },
    };
    expect(() => loadPolicy(raw, { baseDir: '/' })).toThrow(ConfigError);
    try {
      loadPolicy(raw, { baseDir: '/' });
    } catch (error) {
      expect((error as ConfigError).problems.map((p) => p.path)).toEqual([
        'dsCredentials.#note',
        `${E}.extra`,
      ]);
    }
  });

  it.each<[string, unknown, string, string]>([
    [
      'an unknown type',
      at({ type: 'login', password: 'x' }),
      `${E}.type`,
      'unknown type "login"; expected "type" to be "jwt", "basic", "open" or "forbidden"',
    ],
    ['a missing type', at({ secret: newSecret() }), `${E}.type`, 'missing; expected "type" to be'],
    ['an entry that is not an object', at('jwt'), E, 'expected an entry such as {"type": "jwt"'],
    [
      'a jwt entry with no key',
      at({ type: 'jwt' }),
      E,
      'a "jwt" entry needs a key ("secret", "publicKey" or "jwks") or "issuers"',
    ],
    [
      'two key sources',
      at({ type: 'jwt', secret: newSecret(), jwks: 'keys.json' }),
      E,
      'give one key source, not "secret" and "jwks"',
    ],
    [
      'a short secret',
      at({ type: 'jwt', secret: 'abcdefghijkl' }),
      `${E}.secret`,
      '12 bytes, HS256 needs at least 32',
    ],
    [
      'a low-entropy secret',
      at({ type: 'jwt', secret: 'a'.repeat(40) }),
      `${E}.secret`,
      'too few distinct characters',
    ],
    [
      'an empty secret',
      at({ type: 'jwt', secret: '' }),
      `${E}.secret`,
      'expected a secret, not an empty string',
    ],
    [
      'a secret of the wrong type',
      at({ type: 'jwt', secret: 42 }),
      `${E}.secret`,
      'expected the secret itself, {"env": "NAME"} or {"file": "path"}, got a whole number',
    ],
    [
      'a secret with env and file',
      at({ type: 'jwt', secret: { env: 'A', file: 'b' } }),
      `${E}.secret`,
      'expected the secret itself',
    ],
    [
      'an unset secret variable',
      at({ type: 'jwt', secret: { env: 'PP_UNSET' } }),
      `${E}.secret`,
      'environment variable PP_UNSET is not set',
    ],
    [
      'a missing secret file',
      at({ type: 'jwt', secret: { file: 'no-such.secret' } }),
      `${E}.secret`,
      'cannot read secret file',
    ],
    [
      'a missing public key file',
      at({ type: 'jwt', publicKey: 'no-such.pem' }),
      `${E}.publicKey`,
      'cannot read key file',
    ],
    [
      'a plain-http JWKS URL',
      at({ type: 'jwt', jwks: 'http://portal.example.org/jwks.json' }),
      `${E}.jwks`,
      'jwks URL must use https',
    ],
    [
      'an algorithm that does not fit the key',
      at(jwt({ algorithms: ['RS256'] })),
      `${E}.algorithms`,
      'algorithm RS256 does not fit a shared secret',
    ],
    [
      'an unknown algorithm',
      at(jwt({ algorithms: ['none'] })),
      `${E}.algorithms[0]`,
      'expected one of HS256',
    ],
    [
      'an empty algorithm list',
      at(jwt({ algorithms: [] })),
      `${E}.algorithms`,
      'expected at least one algorithm',
    ],
    ['an empty issuer list', at(jwt({ issuer: [] })), `${E}.issuer`, 'expected at least one issuer'],
    [
      'an audience of the wrong type',
      at(jwt({ audience: 5 })),
      `${E}.audience`,
      'expected an audience or a non-empty list of them',
    ],
    [
      'a fractional maxTokenAge',
      at(jwt({ maxTokenAge: 1.5 })),
      `${E}.maxTokenAge`,
      'expected a whole number of seconds',
    ],
    [
      'a maxTokenAge over a year',
      at(jwt({ maxTokenAge: 400 * 86_400 })),
      `${E}.maxTokenAge`,
      'expected at most 31622400 seconds',
    ],
    [
      'a headerKey with a space',
      at(jwt({ headerKey: 'x ds token' })),
      `${E}.headerKey`,
      'not a valid header name (RFC 9110',
    ],
    [
      'a headerKey with a colon',
      at(jwt({ headerKey: 'x-token:' })),
      `${E}.headerKey`,
      'not a valid header name',
    ],
    ['an empty headerKey', at(jwt({ headerKey: '' })), `${E}.headerKey`, 'not a valid header name'],
    [
      'a headerKey a page cannot set',
      at(jwt({ headerKey: 'Cookie' })),
      `${E}.headerKey`,
      'browsers do not let a page set',
    ],
    [
      'a sec- headerKey',
      at(jwt({ headerKey: 'Sec-Token' })),
      `${E}.headerKey`,
      'browsers do not let a page set',
    ],
    [
      'a looseIpCheck that is not a boolean',
      at(jwt({ looseIpCheck: 'false' })),
      `${E}.looseIpCheck`,
      'expected true or false, got a string',
    ],
    ['an empty dsnames', at(jwt({ dsnames: [] })), `${E}.dsnames`, 'expected at least one {"id", "label"}'],
    [
      'a dsnames item without id',
      at(jwt({ dsnames: [{ label: 'x' }] })),
      `${E}.dsnames[0].id`,
      'missing; expected a dataset id',
    ],
    [
      'an unknown field',
      at(jwt({ colour: 'blue' })),
      `${E}.colour`,
      'unknown field; a "jwt" entry takes "type", "secret"',
    ],
    [
      'a misspelt field, with the field it meant',
      at(jwt({ headerkey: 'x-token' })),
      `${E}.headerkey`,
      'unknown field; did you mean "headerKey"? (a "jwt" entry takes "type", "secret"',
    ],
    [
      'a jwt field on an open entry',
      at({ type: 'open', secret: newSecret() }),
      `${E}.secret`,
      'has no effect on an "open" entry',
    ],
    [
      'an unknown field on a forbidden entry',
      at({ type: 'forbidden', why: 'x' }),
      `${E}.why`,
      'unknown field; a "forbidden" entry takes "type"',
    ],
    [
      'an embedder URL with a scheme',
      { T: { '*': { 'https://portal.example.org': open() } } },
      'dsCredentials.T.*.https://portal.example.org',
      'not a URL: write "portal.example.org"',
    ],
    [
      'an embedder with a path',
      { T: { '*': { 'portal.example.org/app': open() } } },
      'dsCredentials.T.*.portal.example.org/app',
      'without a path',
    ],
    [
      'an embedder with a default port',
      { T: { '*': { 'portal.example.org:443': open() } } },
      'dsCredentials.T.*.portal.example.org:443',
      'never carries a default port',
    ],
    [
      'an embedder pattern',
      { T: { '*': { '*.example.org': open() } } },
      'dsCredentials.T.*.*.example.org',
      'patterns are not supported',
    ],
    [
      'one embedder written twice',
      { T: { '*': { 'portal.example.org': open(), 'PORTAL.example.org': open() } } },
      'dsCredentials.T.*.PORTAL.example.org',
      'the same embedder as "portal.example.org"',
    ],
    [
      'a route pattern',
      { T: { 'termdb/*': { '*': open() } } },
      'dsCredentials.T.termdb/*',
      'patterns are not supported',
    ],
    [
      'a dataset pattern',
      { 'SJ*': { '*': { '*': open() } } },
      'dsCredentials.SJ*',
      'patterns are not supported',
    ],
    [
      'an empty dataset key',
      { '': { '*': { '*': open() } } },
      'dsCredentials[""]',
      'an empty key; expected a dataset label or "*"',
    ],
    [
      'a __proto__ key',
      JSON.parse('{"__proto__": {"*": {"*": {"type": "open"}}}}'),
      'dsCredentials.__proto__',
      '"__proto__" cannot be used as a dataset label',
    ],
    [
      'a control character in a route',
      { T: { 'a\nb': { '*': open() } } },
      'dsCredentials.T["a\\nb"]',
      'must not contain control characters',
    ],
    ['a dataset with no routes', { T: { '#': 'todo' } }, 'dsCredentials.T', 'has no route keys'],
    ['a route with no embedders', { T: { termdb: {} } }, 'dsCredentials.T.termdb', 'has no embedder keys'],
    [
      'a dataset that is not an object',
      { T: 'jwt' },
      'dsCredentials.T',
      'expected an object whose keys are route names, "termdb" or "*", got a string',
    ],
    [
      'a route block that is a list',
      { T: { '*': [] } },
      'dsCredentials.T.*',
      'expected an object whose keys are portal hosts or "*", got a list',
    ],
    [
      'a block that is null',
      null,
      'dsCredentials',
      'expected an object whose keys are dataset labels or "*", got null',
    ],
    [
      'ProteinPaint\'s legacy "secrets" indirection',
      { secrets: 'secrets.json' },
      'dsCredentials.secrets',
      'expected an object whose keys are route names',
    ],
  ])('reports %s with its path', (_name, raw, path, message) => {
    const problems = problemsOf(raw);
    expect(problems).toContainEqual({ path, message: expect.stringContaining(message) as string });
  });

  it.each([
    [
      '__proto__ dataset',
      JSON.parse('{"__proto__": {"*": {"*": {"type": "jwt", "secret": 5, "algorithms": 7}}}}'),
      'dsCredentials.__proto__',
    ],
    [
      'empty dataset',
      { '': { '*': { '*': { type: 'jwt', secret: 5, algorithms: 7 } } } },
      'dsCredentials[""]',
    ],
    ['empty route', { A: { '': { '*': { type: 'jwt', secret: 5, algorithms: 7 } } } }, 'dsCredentials.A[""]'],
    [
      'empty embedder',
      { A: { '*': { '': { type: 'jwt', secret: 5, algorithms: 7 } } } },
      'dsCredentials.A.*[""]',
    ],
  ])('reports a key the shape check cannot see (%s) without reading what it holds', (_name, raw, path) => {
    expect(problemsOf(raw).map((p) => p.path)).toEqual([path]);
  });

  it('still checks what a badly written key holds', () => {
    expect(
      problemsOf({ 'SJ*': { '*': { 'https://x.org': { type: 'jwt', secret: 'abcdefghijkl' } } } }),
    ).toEqual([
      {
        path: 'dsCredentials.SJ*',
        message: 'patterns are not supported; write each dataset label exactly, or use "*"',
      },
      {
        path: 'dsCredentials.SJ*.*.https://x.org',
        message: 'a host such as portal.example.org, not a URL: write "x.org"',
      },
      { path: 'dsCredentials.SJ*.*.https://x.org.secret', message: '12 bytes, HS256 needs at least 32' },
    ]);
  });

  it('refuses a route key one slip away from a served route, which would leave that route to broader keys', () => {
    expect(problemsOf({ T: { 'termdb/sample': { '*': jwt() } } })).toEqual([
      {
        path: 'dsCredentials.T.termdb/sample',
        message: 'not a route of this server; did you mean "termdb/samples"?',
      },
    ]);
    expect(problemsOf({ T: { termbd: { '*': jwt() } } })).toEqual([
      { path: 'dsCredentials.T.termbd', message: 'not a route of this server; did you mean "termdb"?' },
    ]);
    expect(() => load({ T: { 'termdb/samples': { '*': jwt() }, termdb: { '*': jwt() } } })).not.toThrow();
  });

  it('loads a route key for a route this server does not serve with a warning, without reading its entries', () => {
    const policy = load({
      T: {
        termdb: { 'portal.example.org': jwt() },
        burden: { 'notlocalhost.example': { type: 'basic', password: 'plaintext' }, '*': forbidden() },
      },
    });
    expect(policy.warnings).toEqual([
      {
        path: 'dsCredentials.T.burden',
        message:
          'is not a route this server serves (its routes: "*", "termdb", "termdb/config", "termdb/terms", "termdb/barchart", "termdb/samples", "termdb/summary", "termdb/survival", "termdb/search", "termdb/export"); its entries are not read',
      },
    ]);
    expect(policy.entries.map((e) => e.path)).toEqual(['dsCredentials.T.termdb.portal.example.org']);
    // Nothing of an unread block reaches CORS either.
    expect(policy.allowsOrigin('https://notlocalhost.example')).toBe(false);
  });

  it('reports every problem at once, in file order', () => {
    const problems = problemsOf({
      A: { '*': { 'portal.example.org': { type: 'jwt', secret: 'abcdefghijkl', headerKey: 'bad key' } } },
      B: { termdb: { 'https://portal.example.org': { type: 'jwt', secret: { env: 'PP_UNSET' } } } },
      C: { '*': { '*': { type: 'login' }, 'x.org': { type: 'open', dsnames: [] } } },
    });
    expect(problems.map((p) => p.path)).toEqual([
      'dsCredentials.A.*.portal.example.org.secret',
      'dsCredentials.A.*.portal.example.org.headerKey',
      'dsCredentials.B.termdb.https://portal.example.org',
      'dsCredentials.B.termdb.https://portal.example.org.secret',
      'dsCredentials.C.*.*.type',
      'dsCredentials.C.*.x.org.dsnames',
    ]);
  });

  it('throws one ConfigError whose message lists every problem', () => {
    let caught: unknown;
    try {
      load({ A: { '*': { '*': { type: 'jwt' } } }, B: { '*': { '*': { type: 'nope' } } } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toBe(
      'dsCredentials has 2 problems:\n' +
        '  dsCredentials.A.*.*: a "jwt" entry needs a key ("secret", "publicKey" or "jwks") or "issuers" (ProteinPaint treats a "jwt" entry without a secret as closed: write {"type": "forbidden"})\n' +
        '  dsCredentials.B.*.*.type: unknown type "nope"; expected "type" to be "jwt", "basic", "open" or "forbidden"',
    );
  });

  it('never repeats a secret in a problem', () => {
    const secret = 'short-but-secret';
    const problems = problemsOf({ A: { '*': { '*': { type: 'jwt', secret, extra: secret } } } });
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) expect(`${p.path} ${p.message}`).not.toContain(secret);
  });

  it('names the config path given by the caller', () => {
    expect(problemsOf({ A: 1 }, { path: 'serverconfig.dsCredentials' })[0]?.path).toBe(
      'serverconfig.dsCredentials.A',
    );
  });
});

describe('loading', () => {
  it('treats a missing block as no credentials: every dataset open', () => {
    const policy = load(undefined);
    expect(policy.entries).toEqual([]);
    expect(policy.resolve('TermdbTest', SAMPLES, ORIGIN)).toEqual({ kind: 'open', entry: undefined });
  });

  it('needs no environment or clock to load a block with literal secrets', () => {
    expect(() => loadPolicy({ A: { '*': { '*': jwt() } } }, { baseDir: '.' })).not.toThrow();
  });

  it('keeps dataset labels that are Object.prototype names as plain labels', () => {
    const policy = load({ constructor: { '*': { '*': forbidden() } }, toString: { '*': { '*': open() } } });
    expect(policy.resolve('constructor', BARCHART, undefined)).toMatchObject({
      kind: 'forbidden',
      code: 'route_forbidden',
    });
    expect(policy.resolve('toString', BARCHART, undefined)).toMatchObject({
      kind: 'open',
      entry: { type: 'open' },
    });
    expect(policy.resolve('valueOf', BARCHART, undefined)).toEqual({ kind: 'open', entry: undefined });
  });

  it('warns when a dataset key drops routes that the "*" dataset block protects', () => {
    const policy = load({
      '*': { '*': { '*': jwt() } },
      TermdbTest: { termdb: { '*': jwt() } },
      Other: { '*': { '*': open() } },
    });
    expect(policy.warnings).toEqual([
      {
        path: 'dsCredentials.TermdbTest',
        message: 'replaces the "*" dataset block for this dataset, so its route keys "*" do not apply here',
      },
    ]);
  });

  it('freezes what it returns', () => {
    const policy = load({ A: { '*': { '*': jwt({ dsnames: [{ id: 'A' }] }) } } });
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.entries)).toBe(true);
    expect(Object.isFrozen(policy.entries[0])).toBe(true);
  });

  it('uses the injected clock for every verifier', async () => {
    const secret = newSecret();
    const token = signerFor(secret)({ datasets: ['A'], email: 'a@b.org', ttlSeconds: 60 });
    const later = load({ A: { '*': { '*': { type: 'jwt', secret } } } }, { now: () => clock() + 3_600_000 });
    const entry = later.entries[0] as TokenEntry;
    await expect(keyOf(entry).verify(token)).rejects.toMatchObject({ code: 'token_expired' });
  });
});
