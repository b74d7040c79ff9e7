// The embedder registry of a running server, over real HTTP on 127.0.0.1, with real files changed as
// `pp-token embedder` changes them: a portal added, rotated and retired without a restart, a bad file refused
// with the last good state kept, and requests under load while the registry changes.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { createSigner, generateSecret } from '@pp-embed/dataset-token';
import {
  companionFiles,
  createRegistry,
  editRegistry,
  type EmbedderCredential,
  type RegistryDraft,
  readSeen,
  registryKey,
} from '@pp-embed/embedder-registry';
import type { Logger } from '@pp-embed/server-runtime';
import type { Health } from '@pp-embed/viz-api';
import { afterEach, describe, expect, it } from 'vitest';
import { demoDataset } from '../test/harness.js';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { EmbedderRegistryWatch } from './embedders.js';
import { DatasetRegistry } from './termdb/registry.js';

const ENV = { PP_EMBEDDERS_KEY: generateSecret(), PP_DS_SECRET: generateSecret() };
const KEY = registryKey({ env: 'PP_EMBEDDERS_KEY' }, ENV);
const SAMPLES = '/termdb/samples?dslabel=PPDemo&term=sex';

interface Running {
  base: string;
  registry: string;
  embedders: EmbedderRegistryWatch;
  logs: { event: string; fields: Record<string, unknown> }[];
  change<R>(edit: (draft: RegistryDraft) => R): Promise<R>;
  get(path: string, origin: string, token?: string): Promise<{ status: number; code: string | undefined }>;
  close(): Promise<void>;
}

const running: Running[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

/** A server as main.ts starts it, with a registry beside its serverconfig.json and `lab.test` in dsCredentials. */
async function start(): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'pp-viz-embedders-'));
  const registry = join(dir, 'embedders.json');
  await createRegistry(registry, KEY, { by: 'test' });
  writeFileSync(
    join(dir, 'serverconfig.json'),
    JSON.stringify({
      datasets: [{ label: 'PPDemo', genome: 'hg38', file: demoDataset(), minSampleSize: 5 }],
      dsCredentials: { PPDemo: { termdb: { 'lab.test': { type: 'jwt', secret: { env: 'PP_DS_SECRET' } } } } },
      embedderRegistry: { file: 'embedders.json', key: { env: 'PP_EMBEDDERS_KEY' } },
    }),
  );
  const logs: Running['logs'] = [];
  const log: Logger = {
    info: (event, fields) => logs.push({ event, fields: fields ?? {} }),
    warn: (event, fields) => logs.push({ event, fields: fields ?? {} }),
    error: (event, fields) => logs.push({ event, fields: fields ?? {} }),
  };
  const config = loadConfig(join(dir, 'serverconfig.json'), { env: ENV, log });
  const datasets = new DatasetRegistry(config.datasets, { log, watch: false });
  const embedders = new EmbedderRegistryWatch(
    config.registry as NonNullable<typeof config.registry>,
    { policy: config.policy, feeds: undefined },
    { log, flushMs: 200 },
  );
  const app = createApp({
    ...config,
    access: () => embedders.current(),
    embedderRegistry: embedders,
    keyUse: (path, kid) => embedders.noteKeyUse(path, kid),
    datasets,
    bundle: undefined,
    log,
    audit: () => undefined,
  });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const r: Running = {
    base,
    registry,
    embedders,
    logs,
    async change(edit) {
      const { result } = await editRegistry(registry, KEY, (draft) => ({ result: edit(draft), audit: [] }), {
        by: 'test',
      });
      return result;
    },
    async get(path, origin, token) {
      const res = await fetch(`${base}${path}`, {
        headers: { origin, ...(token !== undefined && { 'x-ds-access-token': token }) },
      });
      const body = (await res.json()) as { error?: { code: string } };
      return { status: res.status, code: body.error?.code };
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await embedders.close();
      datasets.close();
    },
  };
  running.push(r);
  return r;
}

const tokenOf = (credential: EmbedderCredential | undefined, secret?: string) =>
  createSigner({
    algorithm: 'HS256',
    key: { secret: secret ?? credential?.secret ?? '' },
    ...(credential !== undefined && { kid: credential.kid }),
  }).sign({ datasets: ['PPDemo'], email: 'ana@example.org', ip: '127.0.0.1' });

const addPortal = (draft: RegistryDraft, embedder = 'portal.test') =>
  draft.add({ embedder, datasets: ['PPDemo'], routes: ['termdb'], alg: 'HS256' }).credential;

/** Polls until `check` holds, and says how long it took; fails after `withinMs`. */
async function within(withinMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > withinMs) throw new Error(`not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the embedder registry of a running server', () => {
  it('serves a portal added to the file within 2 s, and says so in the health check', async () => {
    const s = await start();
    expect(await s.get(SAMPLES, 'http://portal.test')).toMatchObject({
      status: 403,
      code: 'embedder_not_allowed',
    });
    const credential = await s.change((draft) => addPortal(draft));
    const ms = await within(
      2_000,
      async () => (await s.get(SAMPLES, 'http://portal.test', tokenOf(credential))).status === 200,
    );
    expect(ms).toBeLessThan(2_000);
    const health = (await (await fetch(`${s.base}/healthcheck`)).json()) as Health;
    expect(health.checks.embedderRegistry).toMatchObject({
      status: 'ok',
      version: 2,
      entries: 1,
      retired: 0,
    });
    expect(s.logs.find((l) => l.event === 'embedder_registry_loaded')?.fields).toMatchObject({
      version: 2,
      previous: 1,
      added: ['portal.test'],
    });
    // The portal of dsCredentials is served as before.
    const lab = tokenOf(undefined, ENV.PP_DS_SECRET);
    expect((await s.get(SAMPLES, 'http://lab.test', lab)).status).toBe(200);
  });

  it('accepts both keys of a rotation during its overlap, and only the new one once it is finished', async () => {
    const s = await start();
    const first = await s.change((draft) => addPortal(draft));
    await s.embedders.check();
    const second = await s.change(
      (draft) => draft.rotate('portal.test', { overlapSeconds: 3600 }).credential,
    );
    await s.embedders.check();
    expect((await s.get(SAMPLES, 'http://portal.test', tokenOf(first))).status).toBe(200);
    expect((await s.get(SAMPLES, 'http://portal.test', tokenOf(second))).status).toBe(200);
    await s.change((draft) => draft.finishRotation('portal.test'));
    await s.embedders.check();
    expect(await s.get(SAMPLES, 'http://portal.test', tokenOf(first))).toMatchObject({
      status: 401,
      code: 'token_invalid',
    });
    expect((await s.get(SAMPLES, 'http://portal.test', tokenOf(second))).status).toBe(200);

    // Which key checked tokens is written for `pp-token embedder list`, a few seconds later, never per request.
    await s.embedders.flush();
    const seen = await readSeen(companionFiles(s.registry).seen);
    expect([...(seen.get('portal.test')?.keys() ?? [])].sort()).toEqual([first?.kid, second?.kid].sort());
  });

  it('writes every key use it noted, even when its writes overlap', async () => {
    const s = await start();
    await s.change((draft) => addPortal(draft));
    await s.embedders.check();
    const path = 'embedderRegistry(embedders.json).embedders.portal.test';
    s.embedders.noteKeyUse(path, 'k-a');
    const first = s.embedders.flush();
    s.embedders.noteKeyUse(path, 'k-b');
    s.embedders.noteKeyUse('dsCredentials.PPDemo.termdb.lab.test', 'k-c');
    await Promise.all([first, s.embedders.flush()]);
    const seen = await readSeen(companionFiles(s.registry).seen);
    expect([...seen.keys()]).toEqual(['portal.test']);
    expect([...(seen.get('portal.test')?.keys() ?? [])].sort()).toEqual(['k-a', 'k-b']);
  });

  it('refuses every token of a retired portal within 2 s with embedder_retired, and keeps its dataset closed', async () => {
    const s = await start();
    const credential = await s.change((draft) => addPortal(draft));
    await s.embedders.check();
    const token = tokenOf(credential);
    expect((await s.get(SAMPLES, 'http://portal.test', token)).status).toBe(200);
    await s.change((draft) => draft.retire('portal.test'));
    const ms = await within(
      2_000,
      async () => (await s.get(SAMPLES, 'http://portal.test', token)).code === 'embedder_retired',
    );
    expect(ms).toBeLessThan(2_000);
    expect(await s.get(SAMPLES, 'http://portal.test', token)).toEqual({
      status: 403,
      code: 'embedder_retired',
    });
    expect((await s.get(SAMPLES, 'http://other.test', token)).code).toBe('embedder_not_allowed');
    expect((await s.get(SAMPLES, 'http://lab.test', tokenOf(undefined, ENV.PP_DS_SECRET))).status).toBe(200);
  });

  it('refuses a file cut short or tampered with, keeps the last good state, and heals with a good file', async () => {
    const s = await start();
    const credential = await s.change((draft) => addPortal(draft));
    await s.embedders.check();
    const good = readFileSync(s.registry, 'utf8');
    const token = tokenOf(credential);

    // Written in place and cut short, as a failed copy would leave it.
    writeFileSync(s.registry, good.slice(0, good.length / 2));
    await within(2_000, async () => s.embedders.health().status === 'stale');
    expect((await s.get(SAMPLES, 'http://portal.test', token)).status).toBe(200);
    const health = (await (await fetch(`${s.base}/healthcheck`)).json()) as Health;
    expect(health.status).toBe('degraded');
    expect(health.checks.embedderRegistry).toMatchObject({ status: 'stale', version: 2 });
    expect(JSON.stringify(health)).not.toContain(s.registry);
    const refused = s.logs.find((l) => l.event === 'embedder_registry_refused');
    expect(refused?.fields).toMatchObject({
      serving: 2,
      problems: [
        {
          path: 'embedderRegistry(embedders.json)',
          message: 'not valid JSON: cut short while written, or edited by hand',
        },
      ],
    });

    // A grant widened by hand: the file's MAC and the secret's tag fail.
    const widened = JSON.parse(good) as { embedders: Record<string, { routes: string[] }> };
    (widened.embedders['portal.test'] as { routes: string[] }).routes = ['*'];
    writeFileSync(s.registry, JSON.stringify(widened));
    await within(2_000, async () =>
      s.logs.some(
        (l) => l.event === 'embedder_registry_refused' && JSON.stringify(l.fields).includes('.mac'),
      ),
    );
    expect((await s.get('/termdb/barchart?dslabel=PPDemo&term=sex', 'http://portal.test')).status).toBe(200);
    expect(s.logs.map((l) => JSON.stringify(l)).join('\n')).not.toContain(credential?.secret);

    // The good file back: served again, healthy.
    writeFileSync(s.registry, good);
    await within(2_000, async () => s.embedders.health().status === 'ok');
  });

  it('drops no request while the registry changes under load', async () => {
    const s = await start();
    const credential = await s.change((draft) => addPortal(draft));
    await s.embedders.check();
    const token = tokenOf(credential);
    const lab = tokenOf(undefined, ENV.PP_DS_SECRET);
    let stop = false;
    const outcomes = new Map<string, number>();
    const client = async () => {
      while (!stop) {
        for (const [origin, t] of [
          ['http://portal.test', token],
          ['http://lab.test', lab],
        ] as const) {
          const { status } = await s.get(SAMPLES, origin, t);
          outcomes.set(String(status), (outcomes.get(String(status)) ?? 0) + 1);
        }
      }
    };
    const clients = Array.from({ length: 6 }, client);
    // Ten changes: other portals added and retired, and the portal's entry rotated (its old key still accepted).
    for (let i = 0; i < 5; i++) {
      await s.change((draft) => addPortal(draft, `other-${i}.test`));
      await s.embedders.check();
      await s.change((draft) => draft.retire(`other-${i}.test`));
      await s.embedders.check();
    }
    await s.change((draft) => draft.rotate('portal.test', { overlapSeconds: 3600 }));
    await s.embedders.check();
    stop = true;
    await Promise.all(clients);
    expect(s.embedders.health().version).toBe(13);
    expect([...outcomes.keys()]).toEqual(['200']);
    expect(outcomes.get('200')).toBeGreaterThan(100);
  });
});
