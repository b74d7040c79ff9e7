/**
 * Property-based fuzzing of the two parsers that face untrusted or hand-written input: the dsCredentials loader
 * (operators write it by hand, with mistakes of every kind) and the token verifier (anyone on the internet
 * writes its input). The invariant is the same for both: every input ends in success or in the package's own
 * error with a stable code, never in another exception, and nothing leaks onto Object.prototype.
 *
 * Shared by the bounded CI tests (security/fuzz/*.test.ts) and the long runs of bench/fuzz.ts.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicy, type AccessPolicy, type RouteRef } from '@pp-embed/access-policy';
import { ConfigError } from '@pp-embed/server-runtime';
import { ROUTES as API_ROUTES } from '@pp-embed/viz-api';
import {
  ALGORITHMS,
  createVerifier,
  generateSecret,
  publicJwk,
  TOKEN_ERROR_CODES,
  TokenError,
  TokenSetupError,
  type Verifier,
  type VerifierOptions,
} from '@pp-embed/dataset-token';
import fc from 'fast-check';
import { b64u, type ForgeAlgorithm, forge, jsonSegment } from '../jws.js';

/** A fixed clock, so that a counterexample replays the same way: 2026-11-23T12:00:00Z. */
export const NOW_MS = Date.UTC(2026, 10, 23, 12, 0, 0);
const NOW = NOW_MS / 1000;

/** Outcome counts, so that a run can show it was not vacuous (some inputs succeed, some are refused). */
export type Tally = Record<string, number>;

/** How a run ended; `report` is fast-check's account of the counterexample, shrunk, when there is one. */
export interface FuzzResult {
  failed: boolean;
  numRuns: number;
  seed: number;
  path: string | undefined;
  report: string;
}

/** One property, runnable with a number of runs (and a seed to replay a counterexample). */
export interface FuzzProperty {
  name: string;
  tally: Tally;
  run(numRuns: number, seed?: number): Promise<FuzzResult>;
}

function result<T>(details: fc.RunDetails<T>): FuzzResult {
  return {
    failed: details.failed,
    numRuns: details.numRuns,
    seed: details.seed,
    path: details.counterexamplePath ?? undefined,
    report: details.failed ? (fc.defaultReportMessage(details) ?? 'failed') : '',
  };
}

function count(tally: Tally, outcome: string): void {
  tally[outcome] = (tally[outcome] ?? 0) + 1;
}

/** Thrown when an input breaks the invariant; fast-check shrinks and reports it. */
class InvariantBroken extends Error {
  override readonly name = 'InvariantBroken';
}

// ------------------------------------------------------------------------------------------------------------
// Key material, files and environment, made fresh for each context

export interface FuzzContext {
  dir: string;
  env: Record<string, string>;
  secret: string;
  rsa: { privateKey: KeyObject; publicPem: string };
  ec: { privateKey: KeyObject; publicPem: string };
  jwksKid: string;
  cleanup(): void;
}

export function fuzzContext(): FuzzContext {
  const dir = mkdtempSync(join(tmpdir(), 'pp-security-fuzz-'));
  const secret = generateSecret();
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const ed = generateKeyPairSync('ed25519');
  const pem = (key: KeyObject) => key.export({ format: 'pem', type: 'spki' }).toString();
  const jwksKid = 'fuzz-key';
  writeFileSync(join(dir, 'secret.txt'), `${secret}\n`);
  writeFileSync(join(dir, 'weak.txt'), 'changeme\n');
  writeFileSync(join(dir, 'empty.txt'), '');
  writeFileSync(join(dir, 'rsa.pub.pem'), pem(rsa.publicKey));
  writeFileSync(join(dir, 'ec.pub.pem'), pem(ec.publicKey));
  writeFileSync(join(dir, 'rsa.key.pem'), rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(join(dir, 'rsa1024.pub.pem'), pem(weakRsa.publicKey));
  writeFileSync(join(dir, 'ed25519.pub.pem'), pem(ed.publicKey));
  writeFileSync(
    join(dir, 'jwks.json'),
    JSON.stringify({ keys: [publicJwk(ec.publicKey, 'ES256', jwksKid)] }),
  );
  writeFileSync(join(dir, 'secret-jwks.json'), JSON.stringify({ keys: [{ kty: 'oct', k: b64u(secret) }] }));
  writeFileSync(join(dir, 'not-json.json'), '{"keys": [');
  return {
    dir,
    env: { PP_FUZZ_SECRET: secret, PP_FUZZ_WEAK: 'changeme', PP_FUZZ_EMPTY: '' },
    secret,
    rsa: { privateKey: rsa.privateKey, publicPem: pem(rsa.publicKey) },
    ec: { privateKey: ec.privateKey, publicPem: pem(ec.publicKey) },
    jwksKid,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// ------------------------------------------------------------------------------------------------------------
// Arbitraries shared by both properties

const PROTO_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
];

/** Any JSON-ish value, including the ones a JavaScript caller could pass that JSON cannot hold. */
const weird: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  fc.constantFrom(undefined, null, Number.NaN, Infinity, -1, 0, '', ' ', true, false, [], {}),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double(),
);

/**
 * An object from (key, value) pairs: `Object.fromEntries` defines `__proto__` as an own member, as JSON.parse does,
 * which is what a config file or a token payload can hold.
 */
function objectOf(key: fc.Arbitrary<string>, value: fc.Arbitrary<unknown>, maxKeys: number) {
  return fc.array(fc.tuple(key, value), { maxLength: maxKeys }).map((pairs) => Object.fromEntries(pairs));
}

function prototypeIsClean(): boolean {
  return (
    Object.getOwnPropertyNames(Object.prototype).length === PROTOTYPE_NAMES &&
    Object.getPrototypeOf({}) === Object.prototype &&
    Object.keys({}).length === 0
  );
}
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype).length;

// ------------------------------------------------------------------------------------------------------------
// The config loader

const fileName = fc.oneof(
  fc.constantFrom(
    'secret.txt',
    'weak.txt',
    'empty.txt',
    'missing.txt',
    'rsa.pub.pem',
    'ec.pub.pem',
    'rsa.key.pem',
    'rsa1024.pub.pem',
    'ed25519.pub.pem',
    'jwks.json',
    'secret-jwks.json',
    'not-json.json',
    '.',
    '..',
  ),
  // Relative names only (no "/"), so that a random path can never name a device such as /dev/zero.
  fc.string({ maxLength: 12 }).map((s) => s.replace(/[/\\]/g, '_')),
);

function secretSource(ctx: FuzzContext): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constant(ctx.secret),
    fc.constantFrom('secret', 'changeme', '<my-secret>', 'short', 'a'.repeat(64), ''),
    fc.string({ minLength: 0, maxLength: 70 }),
    fc.record({
      env: fc.constantFrom(
        'PP_FUZZ_SECRET',
        'PP_FUZZ_WEAK',
        'PP_FUZZ_EMPTY',
        'PP_FUZZ_UNSET',
        '',
        ...PROTO_KEYS,
      ),
    }),
    fc.record({ file: fileName }),
    fc.record({ env: fc.constant('PP_FUZZ_SECRET'), file: fc.constant('secret.txt') }),
    weird,
  );
}

function jwtEntry(ctx: FuzzContext): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(
    {
      type: fc.oneof(
        { weight: 6, arbitrary: fc.constant('jwt') },
        fc.constantFrom('JWT', 'open', 'forbidden', 'none', ''),
        weird,
      ),
      secret: secretSource(ctx),
      publicKey: fc.oneof(
        fileName,
        fc.constant(ctx.rsa.publicPem),
        fc.constant(`  ${ctx.ec.publicPem}`),
        fc.constant('-----BEGIN PUBLIC KEY-----\njunk\n-----END PUBLIC KEY-----'),
        weird,
      ),
      jwks: fc.oneof(
        fileName,
        fc.constantFrom(
          'https://jwks.example.org/keys',
          'http://jwks.example.org/keys',
          'http://127.0.0.1:9/jwks',
          'https://user:pass@jwks.example.org/',
          'ftp://x/',
          'https://',
        ),
        weird,
      ),
      algorithms: fc.oneof(
        fc.array(fc.constantFrom(...ALGORITHMS, 'none', 'hs256', 'HS1', ''), { maxLength: 4 }),
        weird,
      ),
      issuer: fc.oneof(
        fc.string({ maxLength: 10 }),
        fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
        weird,
      ),
      audience: fc.oneof(
        fc.string({ maxLength: 10 }),
        fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
        weird,
      ),
      maxTokenAge: fc.oneof(fc.integer({ min: -10, max: 40_000_000 }), weird),
      dsnames: fc.oneof(
        fc.array(
          fc.record(
            { id: fc.oneof(fc.constantFrom('TermdbTest', ''), weird), label: weird },
            { requiredKeys: ['id'] },
          ),
          { maxLength: 3 },
        ),
        weird,
      ),
      headerKey: fc.oneof(
        fc.constantFrom(
          'x-ds-access-token',
          'X-Portal-Token',
          'cookie',
          'Origin',
          'sec-fetch-mode',
          'proxy-authorization',
          'bad header',
          '',
          'a'.repeat(300),
        ),
        weird,
      ),
      looseIpCheck: fc.oneof(fc.boolean(), weird),
      '#note': weird,
      extra: weird,
    },
    { requiredKeys: ['type'] },
  );
}

/** A `jwt` entry that loads: one good key source and nothing else wrong. */
function goodEntry(ctx: FuzzContext): fc.Arbitrary<Record<string, unknown>> {
  return fc.oneof(
    fc.constantFrom<Record<string, unknown>>(
      { type: 'jwt', secret: ctx.secret },
      { type: 'jwt', secret: { env: 'PP_FUZZ_SECRET' } },
      { type: 'jwt', secret: { file: 'secret.txt' }, looseIpCheck: true },
      { type: 'jwt', publicKey: 'rsa.pub.pem', algorithms: ['RS256', 'PS256'] },
      { type: 'jwt', publicKey: ctx.ec.publicPem },
      { type: 'jwt', jwks: 'jwks.json', headerKey: 'X-Portal-Token' },
      { type: 'jwt', jwks: 'https://jwks.example.org/keys' },
      { type: 'open' },
      { type: 'forbidden' },
    ),
  );
}

function withPrototypeKeys(
  entry: fc.Arbitrary<Record<string, unknown>>,
): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(entry, fc.array(fc.tuple(fc.constantFrom(...PROTO_KEYS), weird), { maxLength: 2 }))
    .map(([e, extra]) => Object.fromEntries([...Object.entries(e), ...extra]));
}

export function dsCredentialsArbitrary(ctx: FuzzContext): fc.Arbitrary<unknown> {
  const entry = fc.oneof(
    { weight: 3, arbitrary: goodEntry(ctx) },
    { weight: 3, arbitrary: withPrototypeKeys(jwtEntry(ctx)) },
    {
      weight: 1,
      arbitrary: fc.record(
        { type: fc.constantFrom('open', 'forbidden'), extra: weird },
        { requiredKeys: ['type'] },
      ),
    },
    { weight: 1, arbitrary: weird },
  );
  const embedderKey = fc.oneof(
    fc.constantFrom(
      'portal.example.org',
      'localhost:5173',
      '[::1]:8080',
      '*',
      'Portal.Example.org',
      'portal.example.org:443',
      'https://portal.example.org',
      '*.example.org',
      'a b',
      '#comment',
      '',
      ...PROTO_KEYS,
    ),
    fc.domain(),
    fc.string({ maxLength: 12 }),
  );
  const routeKey = fc.oneof(
    fc.constantFrom(
      '*',
      'termdb',
      'termdb/samples',
      'termdb/barchart',
      'samples',
      'termdb/*',
      '#',
      '',
      ...PROTO_KEYS,
    ),
    fc.string({ maxLength: 12 }),
  );
  const datasetKey = fc.oneof(
    fc.constantFrom('TermdbTest', 'PPDemo', '*', 'Ds?', 'Ds\n', '#comment', '', ...PROTO_KEYS),
    fc.string({ maxLength: 12 }),
  );
  const embedders = fc.oneof({ weight: 5, arbitrary: objectOf(embedderKey, entry, 3) }, weird);
  const routes = fc.oneof({ weight: 5, arbitrary: objectOf(routeKey, embedders, 3) }, weird);
  return fc.oneof({ weight: 8, arbitrary: objectOf(datasetKey, routes, 3) }, weird);
}

const ROUTES: readonly RouteRef[] = Object.values(API_ROUTES);
const probeOrigin = fc.oneof(
  fc.constantFrom(
    undefined,
    null,
    '',
    'null',
    'https://portal.example.org',
    'http://localhost:5173',
    'http://[::1]:8080',
    'https://evil.example',
  ),
  fc.webUrl(),
  fc.string({ maxLength: 30 }),
);
const probeDataset = fc.oneof(
  fc.constantFrom('TermdbTest', 'PPDemo', '*', '__proto__', ''),
  fc.string({ maxLength: 12 }),
);

function exercise(
  policy: AccessPolicy,
  probes: readonly [string, number, string | null | undefined][],
): void {
  policy.headerKeys();
  for (const [dataset, routeIndex, origin] of probes) {
    const route = ROUTES[routeIndex % ROUTES.length] ?? ROUTES[0];
    if (route === undefined) continue;
    const decision = policy.resolve(dataset, route, origin);
    if (!['open', 'forbidden', 'needs-token'].includes(decision.kind))
      throw new InvariantBroken(`resolve gave ${decision.kind}`);
    policy.allowsOrigin(origin);
    policy.tokenRequirements(dataset, ROUTES, origin);
  }
}

/**
 * loadPolicy on random and mutated dsCredentials: a policy whose every method answers, or a ConfigError
 * listing problems that each have a `dsCredentials…` path and a message. Nothing else, and no pollution.
 */
export function configLoaderProperty(ctx: FuzzContext): FuzzProperty {
  const tally: Tally = {};
  const probes = fc.array(fc.tuple(probeDataset, fc.nat(), probeOrigin), { maxLength: 4 });
  const property = fc.property(dsCredentialsArbitrary(ctx), probes, (raw, probe) => {
    let policy: AccessPolicy;
    try {
      policy = loadPolicy(raw, {
        baseDir: ctx.dir,
        env: ctx.env,
        now: () => NOW_MS,
        remoteJwks: { fetch: () => Promise.reject(new Error('no network in the fuzzer')) },
      });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      if (error.problems.length === 0) throw new InvariantBroken('ConfigError with no problems');
      for (const p of error.problems) {
        if (
          typeof p.path !== 'string' ||
          !p.path.startsWith('dsCredentials') ||
          typeof p.message !== 'string' ||
          p.message.trim() === ''
        ) {
          throw new InvariantBroken(`problem without a path and a message: ${JSON.stringify(p)}`);
        }
      }
      count(tally, 'refused');
      if (!prototypeIsClean()) throw new InvariantBroken('Object.prototype changed');
      return;
    }
    exercise(policy, probe);
    count(tally, 'loaded');
    if (!prototypeIsClean()) throw new InvariantBroken('Object.prototype changed');
  });
  return {
    name: 'loadPolicy: random and mutated dsCredentials',
    tally,
    run: async (numRuns, seed) =>
      result(fc.check(property, { numRuns, ...(seed !== undefined && { seed }) })),
  };
}

// ------------------------------------------------------------------------------------------------------------
// The token verifier

type KeyKind = 'hs' | 'rs' | 'es' | 'jwks';
const KINDS: readonly KeyKind[] = ['hs', 'rs', 'es', 'jwks'];
const SIGN_WITH: Record<KeyKind, ForgeAlgorithm> = { hs: 'HS256', rs: 'RS256', es: 'ES256', jwks: 'ES256' };

function verifiers(ctx: FuzzContext): Record<KeyKind, Verifier> {
  const common = { now: () => NOW_MS, cacheSize: 0 };
  return {
    hs: createVerifier({ key: { secret: ctx.secret }, ...common }),
    rs: createVerifier({ key: { publicKey: ctx.rsa.publicPem }, ...common }),
    es: createVerifier({ key: { publicKey: ctx.ec.publicPem }, ...common }),
    jwks: createVerifier({
      key: { jwks: { keys: [publicJwk(ctx.ec.privateKey, 'ES256', ctx.jwksKid)] } },
      ...common,
    }),
  };
}

function signingKey(ctx: FuzzContext, kind: KeyKind): KeyObject | string {
  return kind === 'hs' ? ctx.secret : kind === 'rs' ? ctx.rsa.privateKey : ctx.ec.privateKey;
}

function validToken(ctx: FuzzContext, kind: KeyKind, claims: Record<string, unknown> = {}): string {
  return forge({
    header: { alg: SIGN_WITH[kind], typ: 'JWT', ...(kind === 'jwks' && { kid: ctx.jwksKid }) },
    payload: {
      datasets: ['TermdbTest'],
      email: 'ana@example.org',
      ip: '203.0.113.7',
      iat: NOW - 10,
      exp: NOW + 300,
      ...claims,
    },
    signWith: SIGN_WITH[kind],
    key: signingKey(ctx, kind),
  });
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** One edit of a token string. */
const mutation = fc.oneof(
  fc.record({
    op: fc.constant('replace' as const),
    at: fc.nat(),
    char: fc.oneof(
      fc.constantFrom(...B64URL, '.', '=', '+', '/', ' ', '\u0000', 'é'),
      fc.string({ maxLength: 1 }),
    ),
  }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 20 }) }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(fc.constantFrom('.', '..', '=', 'eyJ', ','), fc.string({ maxLength: 8 })),
  }),
  fc.record({
    op: fc.constant('segment' as const),
    index: fc.nat(2),
    value: fc.oneof(
      fc.jsonValue({ maxDepth: 2 }).map(jsonSegment),
      fc.base64String({ maxLength: 40 }),
      fc.constant(''),
    ),
  }),
  fc.record({ op: fc.constant('swap' as const), a: fc.nat(2), b: fc.nat(2) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(token: string, m: Mutation): string {
  const at = (n: number) => (token.length === 0 ? 0 : n % (token.length + 1));
  switch (m.op) {
    case 'replace':
      return token.slice(0, at(m.at)) + m.char + token.slice(at(m.at) + 1);
    case 'delete':
      return token.slice(0, at(m.at)) + token.slice(at(m.at) + m.length);
    case 'insert':
      return token.slice(0, at(m.at)) + m.text + token.slice(at(m.at));
    case 'segment': {
      const parts = token.split('.');
      parts[m.index] = m.value;
      return parts.join('.');
    }
    case 'swap': {
      const parts = token.split('.');
      const a = parts[m.a];
      parts[m.a] = parts[m.b] ?? '';
      parts[m.b] = a ?? '';
      return parts.join('.');
    }
  }
}

const jsonish = fc.jsonValue({ maxDepth: 3 });
const headerArb = fc.oneof(
  fc.record(
    {
      alg: fc.oneof(fc.constantFrom(...ALGORITHMS, 'none', 'None', 'NONE', 'hs256', ''), jsonish),
      typ: fc.oneof(fc.constantFrom('JWT', 'jwt', 'at+jwt'), jsonish),
      kid: fc.oneof(
        fc.constantFrom('fuzz-key', '../../dev/null', "' OR 1=1 --", '__proto__', ''),
        fc.string({ maxLength: 300 }),
        jsonish,
      ),
      crit: jsonish,
      jku: fc.webUrl(),
      jwk: jsonish,
      cty: fc.constantFrom('JWT', 'json'),
    },
    { requiredKeys: [] },
  ),
  jsonish,
);
const numericDate = fc.oneof(
  fc.integer({ min: NOW - 100_000, max: NOW + 100_000 }),
  fc.double(),
  fc.constantFrom(NOW, NOW - 5, NOW + 5, 0, -1, Number.MAX_SAFE_INTEGER),
  jsonish,
);
const claimsArb = fc.oneof(
  fc.record(
    {
      datasets: fc.oneof(
        fc.constant(['TermdbTest']),
        fc.array(fc.string({ maxLength: 12 }), { maxLength: 3 }),
        jsonish,
      ),
      email: fc.oneof(
        fc.constant('ana@example.org'),
        fc.string({ maxLength: 40 }),
        fc.string({ minLength: 320, maxLength: 330 }),
        jsonish,
      ),
      ip: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 20 }), jsonish),
      iat: numericDate,
      exp: numericDate,
      nbf: numericDate,
      iss: jsonish,
      aud: jsonish,
      jti: fc.oneof(fc.uuid(), fc.string({ maxLength: 300 }), jsonish),
      clientAuthResult: fc.oneof(fc.record({ role: fc.string(), cohorts: fc.array(fc.string()) }), jsonish),
    },
    { requiredKeys: [] },
  ),
  jsonish,
);
/** Claims with prototype-named members beside them, as own members (what JSON.parse makes of them). */
const claimsWithPrototypeKeys = fc
  .tuple(claimsArb, fc.array(fc.tuple(fc.constantFrom(...PROTO_KEYS), jsonish), { maxLength: 2 }))
  .map(([claims, extra]) =>
    typeof claims === 'object' && claims !== null && !Array.isArray(claims)
      ? Object.fromEntries([...Object.entries(claims), ...extra])
      : claims,
  );

/** Payload text with a member named twice (a second parser would read it differently). */
const duplicated = fc
  .tuple(fc.constantFrom('datasets', 'exp', 'email', 'ip', 'iat', '\\u0065xp'), jsonish, jsonish)
  .map(
    ([name, a, b]) =>
      `{"datasets":["TermdbTest"],"email":"ana@example.org","iat":${NOW - 10},"exp":${NOW + 300},"${name}":${JSON.stringify(a)},"${name}":${JSON.stringify(b)}}`,
  );

export function tokenArbitrary(ctx: FuzzContext): fc.Arbitrary<unknown> {
  const kind = fc.constantFrom(...KINDS);
  return fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 120 }),
    fc
      .tuple(
        fc.base64String({ maxLength: 60 }),
        fc.base64String({ maxLength: 200 }),
        fc.base64String({ maxLength: 90 }),
      )
      .map((p) => p.join('.')),
    fc.constantFrom(undefined, null, '', '.', '..', '...', 'eyJ.eyJ.', 'Bearer x.y.z'),
    fc.oneof(fc.integer(), fc.object(), fc.array(fc.string())),
    // A valid token of some kind, edited.
    fc
      .tuple(kind, fc.array(mutation, { minLength: 1, maxLength: 4 }))
      .map(([k, ms]) => ms.reduce(mutate, validToken(ctx, k))),
    // Random header and claims, signed with a real key (so that the claims checks are reached).
    fc.tuple(kind, headerArb, claimsWithPrototypeKeys).map(([k, header, payload]) =>
      forge({
        header: header as Record<string, unknown>,
        payload,
        signWith: SIGN_WITH[k],
        key: signingKey(ctx, k),
      }),
    ),
    fc.tuple(kind, duplicated).map(([k, text]) =>
      forge({
        header: { alg: SIGN_WITH[k], kid: ctx.jwksKid },
        payloadText: text,
        signWith: SIGN_WITH[k],
        key: signingKey(ctx, k),
      }),
    ),
    // Valid signatures and claims with the times moved around every boundary (leeway, lifetime, nbf).
    fc
      .tuple(
        kind,
        fc.record(
          {
            iat: fc.integer({ min: -90_000, max: 90 }),
            exp: fc.integer({ min: -90, max: 90_000 }),
            nbf: fc.integer({ min: -90, max: 90 }),
          },
          { requiredKeys: [] },
        ),
      )
      .map(([k, shift]) =>
        validToken(ctx, k, {
          ...(shift.iat !== undefined && { iat: NOW + shift.iat }),
          ...(shift.exp !== undefined && { exp: NOW + shift.exp }),
          ...(shift.nbf !== undefined && { nbf: NOW + shift.nbf }),
        }),
      ),
    // Valid claims: the property must also see successes.
    fc
      .tuple(kind, fc.integer({ min: -400, max: 400 }))
      .map(([k, shift]) => validToken(ctx, k, { exp: NOW + 300 + shift })),
  );
}

/**
 * createVerifier().verify on random, mutated and forged tokens, for every kind of key: claims with a `datasets`
 * list, or a TokenError with one of the four codes whose message does not repeat the token.
 */
export function verifierProperty(ctx: FuzzContext): FuzzProperty {
  const tally: Tally = {};
  const byKind = verifiers(ctx);
  const property = fc.asyncProperty(fc.constantFrom(...KINDS), tokenArbitrary(ctx), async (kind, token) => {
    const verifier = byKind[kind];
    try {
      const claims = await verifier.verify(token as string);
      if (!Array.isArray(claims.datasets) || claims.datasets.length === 0)
        throw new InvariantBroken('claims without datasets');
      count(tally, 'verified');
    } catch (error) {
      if (error instanceof InvariantBroken) throw error;
      if (!(error instanceof TokenError)) throw error;
      if (!TOKEN_ERROR_CODES.includes(error.code))
        throw new InvariantBroken(`unknown code ${String(error.code)}`);
      if (typeof token === 'string' && token.length > 12 && error.message.includes(token)) {
        throw new InvariantBroken('the error message repeats the token');
      }
      count(tally, error.code);
    }
    if (!prototypeIsClean()) throw new InvariantBroken('Object.prototype changed');
  });
  return {
    name: 'verify: random, mutated and forged tokens',
    tally,
    run: async (numRuns, seed) =>
      result(await fc.check(property, { numRuns, ...(seed !== undefined && { seed }) })),
  };
}

/**
 * createVerifier with random options of the declared types: a verifier (which then answers a valid and a junk
 * token within the invariant) or a TokenSetupError with a stable code.
 */
export function verifierOptionsProperty(ctx: FuzzContext): FuzzProperty {
  const tally: Tally = {};
  const noNetwork = () => Promise.reject(new Error('no network in the fuzzer'));
  const key = fc.oneof(
    fc.constantFrom<VerifierOptions['key']>(
      { secret: ctx.secret },
      { secret: 'changeme' },
      { secret: 'short' },
      { secret: { env: 'PP_FUZZ_SECRET' } },
      { secret: { env: 'PP_FUZZ_UNSET' } },
      { secret: { file: join(ctx.dir, 'secret.txt') } },
      { secret: { file: join(ctx.dir, 'missing.txt') } },
      { publicKey: ctx.rsa.publicPem },
      { publicKey: ctx.ec.publicPem },
      { publicKey: 'not a key' },
      { publicKeyFile: join(ctx.dir, 'rsa1024.pub.pem') },
      { publicKeyFile: join(ctx.dir, 'ed25519.pub.pem') },
      { publicKeyFile: join(ctx.dir, 'rsa.key.pem') },
      { jwksFile: join(ctx.dir, 'jwks.json') },
      { jwksFile: join(ctx.dir, 'secret-jwks.json') },
      { jwksFile: join(ctx.dir, 'not-json.json') },
      { jwks: { keys: [] } },
      { jwksUrl: 'http://jwks.example.org/keys', options: { fetch: noNetwork } },
      { jwksUrl: 'https://jwks.example.org/keys', options: { fetch: noNetwork } },
      { jwksUrl: 'not a url', options: { fetch: noNetwork } },
    ),
    fc.string({ maxLength: 80 }).map((secret) => ({ secret })),
    fc.uint8Array({ maxLength: 80 }).map((secret) => ({ secret })),
  );
  // Mostly in range, so that verifiers get built; sometimes anything a number can be.
  const number = (min: number, max: number) =>
    fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min, max }) },
      fc.integer({ min: -10, max: 100_000_000 }),
      fc.double(),
      fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, min - 1, max + 1),
    );
  const options = fc.record(
    {
      key,
      algorithms: fc.array(fc.oneof(fc.constantFrom(...ALGORITHMS, 'none'), fc.string({ maxLength: 6 })), {
        maxLength: 4,
      }),
      issuer: fc.oneof(fc.string({ maxLength: 8 }), fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 })),
      audience: fc.oneof(
        fc.string({ maxLength: 8 }),
        fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
      ),
      leewaySeconds: number(0, 60),
      maxTokenAgeSeconds: number(1, 366 * 86_400),
      cacheSize: number(0, 10_000),
    },
    { requiredKeys: ['key'] },
  );
  const property = fc.asyncProperty(options, fc.constantFrom(...KINDS), async (opts, kind) => {
    let verifier: Verifier;
    try {
      verifier = createVerifier({ ...opts, now: () => NOW_MS, env: ctx.env });
    } catch (error) {
      if (!(error instanceof TokenSetupError)) throw error;
      count(tally, `setup:${error.code}`);
      return;
    }
    count(tally, 'built');
    for (const token of [validToken(ctx, kind), 'junk.junk.junk']) {
      try {
        await verifier.verify(token);
      } catch (error) {
        if (!(error instanceof TokenError) || !TOKEN_ERROR_CODES.includes(error.code)) throw error;
      }
    }
  });
  return {
    name: 'createVerifier: random options',
    tally,
    run: async (numRuns, seed) =>
      result(await fc.check(property, { numRuns, ...(seed !== undefined && { seed }) })),
  };
}
