import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AccessPolicy, decide } from '@pp-embed/access-policy';
import { createSigner, generateSecret } from '@pp-embed/dataset-token';
import { createRegistry, editRegistry, type NewEmbedder, registryKey } from '@pp-embed/embedder-registry';
import { ConfigError } from '@pp-embed/server-runtime';
import { ROUTES } from '@pp-embed/viz-api';
import { describe, expect, it } from 'vitest';
import { accessRevocations, type LoadedRegistry } from './embedder-registry.js';
import { loadServerConfig } from './load.js';

const KEY = generateSecret();
const env = { PP_EMBEDDERS_KEY: KEY, PP_DS_SECRET: generateSecret() };
const key = registryKey({ env: 'PP_EMBEDDERS_KEY' }, env);
const by = 'ops@viz-1';
const LABEL = 'embedderRegistry(embedders.json)';

async function setup(dsCredentials?: unknown) {
  const dir = mkdtempSync(join(tmpdir(), 'pp-config-registry-'));
  const file = join(dir, 'serverconfig.json');
  writeFileSync(
    file,
    JSON.stringify({
      datasets: [{ label: 'TermdbTest', genome: 'hg38', file: 'TermdbTest.db' }],
      embedderRegistry: { file: 'embedders.json', key: { env: 'PP_EMBEDDERS_KEY' } },
      ...(dsCredentials !== undefined && { dsCredentials }),
    }),
  );
  const registry = join(dir, 'embedders.json');
  await createRegistry(registry, key, { by });
  return { dir, file, registry };
}

async function add(registry: string, spec: Partial<NewEmbedder> = {}) {
  const { result } = await editRegistry(
    registry,
    key,
    (draft) => ({
      result: draft.add({
        embedder: 'portal.example.org',
        datasets: ['TermdbTest'],
        routes: ['termdb'],
        alg: 'HS256',
        ...spec,
      }),
      audit: [],
    }),
    { by },
  );
  return result;
}

const retire = (registry: string, name: string) =>
  editRegistry(registry, key, (draft) => ({ result: draft.retire(name), audit: [] }), { by });

function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

function tokenFor(credential: { secret?: string; kid: string } | undefined): string {
  return createSigner({
    algorithm: 'HS256',
    key: { secret: credential?.secret ?? '' },
    kid: credential?.kid,
  }).sign({ datasets: ['TermdbTest'], email: 'ana@example.org', ip: '203.0.113.7' });
}

async function ask(policy: AccessPolicy, registry: LoadedRegistry | undefined, token: string) {
  return decide(policy, {
    dataset: 'TermdbTest',
    route: ROUTES.samples,
    origin: 'https://portal.example.org',
    clientIp: '203.0.113.7',
    header: (name) => (name === 'x-ds-access-token' ? token : undefined),
    revocations: accessRevocations(registry, undefined),
  });
}

describe('serverconfig.json with an embedder registry', () => {
  it('serves the registered portals as credential entries of the one policy', async () => {
    const s = await setup();
    const { credential } = await add(s.registry);
    const config = loadServerConfig(s.file, { env });
    expect(config.registry?.registry.version).toBe(2);
    expect(await ask(config.policy, config.registry, tokenFor(credential))).toMatchObject({
      allowed: true,
      entry: { path: `${LABEL}.embedders.portal.example.org` },
      kid: credential?.kid,
    });
    expect(config.registry?.entryId(`${LABEL}.embedders.portal.example.org`)).toBe('portal.example.org');
  });

  it('stops the server at start naming the registry problem: a missing key, a tampered file', async () => {
    const s = await setup();
    await add(s.registry);
    expect(problems(() => loadServerConfig(s.file, { env: { PP_DS_SECRET: 'x' } }))).toEqual([
      'embedderRegistry.key: environment variable PP_EMBEDDERS_KEY is not set',
    ]);
    const doc = JSON.parse(readFileSync(s.registry, 'utf8')) as {
      embedders: Record<string, { routes: string[] }>;
    };
    (doc.embedders['portal.example.org'] as { routes: string[] }).routes = ['*'];
    writeFileSync(s.registry, JSON.stringify(doc));
    expect(problems(() => loadServerConfig(s.file, { env }))).toEqual([
      `${LABEL}.mac: does not match the contents: the file was changed outside \`pp-token embedder\``,
      `${LABEL}.embedders.portal.example.org.keys[0].secret: the authentication tag does not match: the value was changed, or belongs to another entry`,
    ]);
  });

  it('stops the server at start when dsCredentials and the registry name the same place, naming both', async () => {
    const s = await setup({
      TermdbTest: { termdb: { 'portal.example.org': { type: 'jwt', secret: { env: 'PP_DS_SECRET' } } } },
    });
    await add(s.registry);
    expect(problems(() => loadServerConfig(s.file, { env }))).toEqual([
      `${LABEL}.embedders.portal.example.org: conflicts with dsCredentials.TermdbTest.termdb.portal.example.org: both name TermdbTest.termdb.portal.example.org; keep one of them`,
      `dsCredentials.TermdbTest.termdb.portal.example.org: conflicts with ${LABEL}.embedders.portal.example.org: both name TermdbTest.termdb.portal.example.org; keep one of them`,
    ]);
  });
});

describe('reloading the registry', () => {
  it('builds the next policy with the same loader, keeping the verifiers of what did not change', async () => {
    const s = await setup({
      TermdbTest: { '*': { 'lab.example.org': { type: 'jwt', secret: { env: 'PP_DS_SECRET' } } } },
    });
    const config = loadServerConfig(s.file, { env });
    const loaded = config.registry as LoadedRegistry;
    expect(loaded.reload(config.policy)).toBe('unchanged');
    const { credential } = await add(s.registry);
    const next = loaded.reload(config.policy);
    if (next === 'unchanged') throw new Error('expected a new policy');
    expect(next.registry.registry.version).toBe(2);
    expect(await ask(next.policy, next.registry, tokenFor(credential))).toMatchObject({ allowed: true });
    const lab = (p: AccessPolicy) => p.resolve('TermdbTest', ROUTES.samples, 'https://lab.example.org');
    const verifierOf = (p: AccessPolicy) => {
      const r = lab(p);
      return r.kind === 'needs-token' ? r.entry.verifier : undefined;
    };
    expect(verifierOf(next.policy)).toBe(verifierOf(config.policy));
  });

  it('refuses an older copy of the file, and a tampered one, naming why', async () => {
    const s = await setup();
    await add(s.registry);
    const backup = join(s.dir, 'backup.json');
    copyFileSync(s.registry, backup);
    await add(s.registry, { embedder: 'lab.example.org' });
    const config = loadServerConfig(s.file, { env });
    copyFileSync(backup, s.registry);
    expect(problems(() => config.registry?.reload(config.policy))).toEqual([
      `${LABEL}.version: is 2, not newer than version 3 in force: an older copy is not loaded while the server runs`,
    ]);
    writeFileSync(s.registry, readFileSync(backup, 'utf8').slice(0, 100));
    expect(problems(() => config.registry?.reload(config.policy))).toEqual([
      `${LABEL}: not valid JSON: cut short while written, or edited by hand`,
    ]);
  });

  it('refuses every token of a retired entry with embedder_retired, once the retirement is loaded', async () => {
    const s = await setup();
    const { credential } = await add(s.registry);
    const config = loadServerConfig(s.file, { env });
    const token = tokenFor(credential);
    expect(await ask(config.policy, config.registry, token)).toMatchObject({ allowed: true });
    await retire(s.registry, 'portal.example.org');
    const next = config.registry?.reload(config.policy);
    if (next === undefined || next === 'unchanged') throw new Error('expected a new policy');
    expect(await ask(next.policy, next.registry, token)).toMatchObject({
      allowed: false,
      status: 403,
      code: 'embedder_retired',
    });
    // Its dataset does not open: another site is still refused.
    expect(next.policy.resolve('TermdbTest', ROUTES.samples, 'https://other.example.org')).toMatchObject({
      code: 'embedder_not_allowed',
    });
  });
});
