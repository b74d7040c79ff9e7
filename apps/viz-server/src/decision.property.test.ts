// The server and `explain` make one decision: random dsCredentials, with or without an embedder registry, and
// random requests go through the real app (HTTP status and error code) and through explain (its decision), and
// must come out the same.
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explain, hashPassword } from '@pp-embed/access-policy';
import {
  createRegistry,
  editRegistry,
  type EmbedderCredential,
  type RegistryDraft,
  registryKey,
} from '@pp-embed/embedder-registry';
import { accessRevocations, loadServerConfig } from '@pp-embed/server-config';
import { proxyTrust } from '@pp-embed/client-address';
import { createSigner, generateSecret } from '@pp-embed/dataset-token';
import { ConfigError, silentLogger } from '@pp-embed/server-runtime';
import { DATA_ROUTE_IDS, type DataRouteId, ROUTES } from '@pp-embed/viz-api';
import { RevocationList, type RevocationLookup, subjectHash } from '@pp-embed/revocation';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { demoDataset } from '../test/harness.js';
import { createApp } from './app.js';
import { openDataset } from './termdb/dataset.js';
import { DatasetRegistry } from './termdb/registry.js';

const SECRET = generateSecret();
const OTHER_SECRET = generateSecret();
const NOW = Date.now();
const datasets = new DatasetRegistry(
  new Map([
    ['PPDemo', openDataset({ label: 'PPDemo', genome: 'hg38', file: demoDataset(), minSampleSize: 5 })],
  ]),
  { log: silentLogger, watch: false },
);
afterAll(() => datasets.close());

// "/**" is ProteinPaint's "*"; a key without a port ("lab.test") covers every port of its host.
const ROUTE_KEYS = ['*', '/**', 'termdb', ...DATA_ROUTE_IDS.map((id) => ROUTES[id].name)];
const EMBEDDERS = ['*', 'portal.test:8080', 'lab.test'];
const ORIGINS = [
  'http://new.test',
  'http://portal.test:8080',
  'http://lab.test',
  'http://lab.test:9000',
  'http://evil.test',
  'null',
  undefined,
];
// A dataset password's entry: portal tokens are refused by it, whatever their secret.
const PASSWORD_HASH = await hashPassword('a password', { ln: 14, r: 8, p: 1 });
const HEADERS = ['x-ds-access-token', 'x-portal-token'];

type Entry = Record<string, unknown>;
const entry: fc.Arbitrary<Entry> = fc.oneof(
  fc.record({
    type: fc.constant('jwt'),
    secret: fc.constant(SECRET),
    ipCheck: fc.constantFrom('strict', 'loose', 'none'),
    headerKey: fc.constantFrom(...HEADERS),
  }),
  fc.constant({ type: 'basic', passwordHash: PASSWORD_HASH, tokenSecret: OTHER_SECRET }),
  fc.constant({ type: 'open' }),
  fc.constant({ type: 'forbidden' }),
);
const block = <T>(keys: readonly string[], value: fc.Arbitrary<T>) =>
  fc
    .uniqueArray(fc.constantFrom(...keys), { minLength: 1, maxLength: 3 })
    .chain((chosen) =>
      fc.tuple(...chosen.map(() => value)).map((vs) => Object.fromEntries(chosen.map((k, i) => [k, vs[i]]))),
    );
// "*" and "/**" in one block are one key written twice, which the loader refuses.
const routes = block(ROUTE_KEYS, block(EMBEDDERS, entry)).filter((r) => !('*' in r && '/**' in r));
const config = block(['PPDemo', '*'], routes);

// The registries a server may have: none; one with new.test (PPDemo, sample-level data) in the middle of a key
// rotation (its old and new keys both accepted) and lab.test (every dataset and route); and the same with new.test
// retired.
const ENV = { PP_EMBEDDERS_KEY: generateSecret() };
const KEY = registryKey({ env: 'PP_EMBEDDERS_KEY' }, ENV);
async function registryIn(changes: ((draft: RegistryDraft) => EmbedderCredential | undefined)[]) {
  const dir = mkdtempSync(join(tmpdir(), 'pp-property-registry-'));
  const file = join(dir, 'embedders.json');
  await createRegistry(file, KEY, { by: 'test', now: () => NOW });
  const handed: (EmbedderCredential | undefined)[] = [];
  for (const change of changes) {
    await editRegistry(file, KEY, (draft) => ({ result: handed.push(change(draft)), audit: [] }), {
      by: 'test',
      now: () => NOW,
    });
  }
  return { dir, handed };
}
const addNew = (draft: RegistryDraft) =>
  draft.add({ embedder: 'new.test', datasets: ['PPDemo'], routes: ['termdb'], alg: 'HS256' }).credential;
const addLab = (draft: RegistryDraft) =>
  draft.add({
    embedder: 'lab.test',
    datasets: ['*'],
    routes: ['*'],
    alg: 'HS256',
    rules: { ipCheck: 'none' },
  }).credential;
const rotateNew = (draft: RegistryDraft) => draft.rotate('new.test', { overlapSeconds: 3600 }).credential;
const live = await registryIn([addNew, rotateNew, addLab]);
const retired = await registryIn([addNew, rotateNew, addLab, (draft) => void draft.retire('new.test')]);
const REGISTRIES = { none: undefined, live, retired } as const;

const signer = (secret: string, kid?: string) =>
  createSigner({ algorithm: 'HS256', key: { secret }, now: () => NOW, ...(kid !== undefined && { kid }) });
// Without a registry, a token that names a kid no entry has.
const signedBy = (credential: EmbedderCredential | undefined) =>
  signer(credential?.secret ?? OTHER_SECRET, credential?.kid ?? 'k0').sign({
    datasets: ['PPDemo'],
    email: 'a@b.org',
    ip: '203.0.113.7',
  });
const TOKENS = {
  // The keys of new.test before and after its rotation, and of lab.test, in the live registry and the retired one.
  registeredOld: (registry: keyof typeof REGISTRIES) => signedBy(REGISTRIES[registry]?.handed[0]),
  registeredNew: (registry: keyof typeof REGISTRIES) => signedBy(REGISTRIES[registry]?.handed[1]),
  registeredLab: (registry: keyof typeof REGISTRIES) => signedBy(REGISTRIES[registry]?.handed[2]),
  none: () => undefined,
  good: () => signer(SECRET).sign({ datasets: ['PPDemo'], email: 'a@b.org', ip: '203.0.113.7' }),
  cohort: () =>
    signer(SECRET).sign({
      datasets: ['PPDemo'],
      email: 'a@b.org',
      ip: '203.0.113.7',
      clientAuthResult: { cohorts: ['ALPHA'] },
    }),
  noIp: () => signer(SECRET).sign({ datasets: ['PPDemo'], email: 'a@b.org' }),
  otherDataset: () => signer(SECRET).sign({ datasets: ['Other'], email: 'a@b.org', ip: '203.0.113.7' }),
  otherSecret: () => signer(OTHER_SECRET).sign({ datasets: ['PPDemo'], email: 'a@b.org', ip: '203.0.113.7' }),
  garbage: () => 'not.a.token',
};
// What the feed of the portals (the embedder keys portal.test:8080 and lab.test; none for "*") says: nothing
// configured, a list that withdraws nothing, one that withdraws every token of the user, or a feed past its
// staleness limit.
const REVOCATIONS = ['none', 'clear', 'user', 'unavailable'] as const;
function revocations(
  kind: (typeof REVOCATIONS)[number],
): (RevocationLookup & { health: () => [] }) | undefined {
  if (kind === 'none') return undefined;
  const list = new RevocationList(
    kind === 'user'
      ? [
          {
            type: 'user',
            sub: subjectHash('a@b.org'),
            before: Math.floor(NOW / 1000) + 1,
            at: NOW / 1000,
            reason: 'admin',
          },
        ]
      : [],
  );
  return {
    health: () => [],
    check({ embedder, claims, datasets }) {
      if (embedder === '*') return undefined;
      if (kind === 'unavailable')
        return { state: 'unavailable', feed: 'portal', lastSyncAt: undefined, maxStaleSeconds: 60 };
      const revocation = list.match(claims, datasets);
      return revocation === undefined
        ? { state: 'clear', feed: 'portal', seq: 1 }
        : { state: 'revoked', feed: 'portal', revocation };
    },
  };
}

const request = fc.record({
  registry: fc.constantFrom(...(Object.keys(REGISTRIES) as (keyof typeof REGISTRIES)[])),
  revocations: fc.constantFrom(...REVOCATIONS),
  route: fc.constantFrom(...DATA_ROUTE_IDS),
  origin: fc.constantFrom(...ORIGINS),
  token: fc.constantFrom(...(Object.keys(TOKENS) as (keyof typeof TOKENS)[])),
  ip: fc.constantFrom('203.0.113.7', '203.0.113.99', '198.51.100.1'),
  header: fc.constantFrom(...HEADERS),
});

type Config = typeof config extends fc.Arbitrary<infer C> ? C : never;
type Request = typeof request extends fc.Arbitrary<infer R> ? R : never;

const QUERY: Record<DataRouteId, string> = {
  config: '',
  terms: '',
  barchart: '&term=sex',
  samples: '&term=sex',
};

describe('the server and explain, for random configs and requests', () => {
  it('answer with the same status and code', async () => {
    let refused = 0;
    let allowed = 0;
    let registeredAllowed = 0;
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(config, request, async (raw, r) => {
        const registry = REGISTRIES[r.registry];
        const dir = registry?.dir ?? mkdtempSync(join(tmpdir(), 'pp-property-'));
        writeFileSync(
          join(dir, 'serverconfig.json'),
          JSON.stringify({
            datasets: [{ label: 'PPDemo', genome: 'hg38', file: 'PPDemo.db' }],
            dsCredentials: raw,
            ...(registry !== undefined && {
              embedderRegistry: { file: 'embedders.json', key: { env: 'PP_EMBEDDERS_KEY' } },
            }),
          }),
        );
        let loaded;
        try {
          loaded = loadServerConfig(join(dir, 'serverconfig.json'), { env: ENV, now: () => NOW });
        } catch (error) {
          // A registry entry in the very place of a dsCredentials entry: refused at start, nothing to serve.
          if (error instanceof ConfigError) return fc.pre(false);
          throw error;
        }
        const policy = loaded.policy;
        const lookup = accessRevocations(loaded.registry, revocations(r.revocations));
        const app = createApp({
          datasets,
          access: { policy, revocations: lookup },
          proxies: proxyTrust([]),
          bundle: undefined,
          log: silentLogger,
          audit: () => undefined,
          now: () => NOW,
        });
        const token = TOKENS[r.token](r.registry);
        const headers: Record<string, string> = {};
        if (r.origin !== undefined) headers.origin = r.origin;
        if (token !== undefined) headers[r.header] = token;
        const incoming = { socket: { remoteAddress: r.ip } } as unknown as IncomingMessage;
        const path = `${ROUTES[r.route].path}?dslabel=PPDemo${QUERY[r.route]}`;
        const res = await app.request(path, { headers }, { incoming });
        const body = (await res.json()) as { error?: { code: string } };

        const { decision } = await explain(
          policy,
          {
            dataset: 'PPDemo',
            route: ROUTES[r.route],
            origin: r.origin,
            clientIp: r.ip,
            now: NOW,
            tokenHeader: r.header,
            revocations: lookup,
          },
          token,
        );
        if (decision.outcome === 'allowed') {
          allowed++;
          if (r.token.startsWith('registered') && r.route === 'samples') registeredAllowed++;
          expect({ status: res.status, body }).toMatchObject({ status: 200 });
        } else {
          refused++;
          codes.set(decision.code, (codes.get(decision.code) ?? 0) + 1);
          expect({ status: res.status, code: body.error?.code }).toEqual({
            status: decision.status,
            code: decision.code,
          });
        }
      }),
      {
        numRuns: 300,
        // Always among the cases: a registered portal's token, in the live registry and in the retired one.
        examples: (['live', 'retired'] as const).map((registry): [Config, Request] => [
          { PPDemo: { '*': { 'portal.test:8080': { type: 'open' } } } },
          {
            registry,
            revocations: 'none',
            route: 'samples',
            origin: 'http://new.test',
            token: 'registeredNew',
            ip: '203.0.113.7',
            header: 'x-ds-access-token',
          },
        ]),
      },
    );
    // Not vacuous: both outcomes occur, and registered portals are allowed and refused as retired.
    expect(allowed).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(20);
    expect(codes.get('embedder_retired')).toBeGreaterThan(0);
    expect(registeredAllowed).toBeGreaterThan(0);
  });
});
