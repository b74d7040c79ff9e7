// The embedder registry against someone who can write its files but does not hold its key, and the secrets it
// hands out: the built server and the built `pp-token`, as child processes.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createSigner, generateSecret } from '@pp-embed/dataset-token';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChildServer,
  expectCleanLogs,
  expectRefusal,
  generatedDataset,
  LOOPBACK,
  type Reply,
  ROOT,
  samplesPath,
  send,
  VIZ_EVENTS,
  VIZ_MAIN,
} from '../harness.js';

const PP_TOKEN = join(ROOT, 'packages/cli/bin/pp-token.js');
const run = promisify(execFile);
const DATASET = 'RegData';
const PORTAL = 'http://registered.test';

interface Credential {
  id: string;
  kid: string;
  secret: string;
}

const dir = mkdtempSync(join(tmpdir(), 'pp-security-registry-'));
const config = join(dir, 'serverconfig.json');
const registry = join(dir, 'embedders.json');
const env = { PP_EMBEDDERS_KEY: generateSecret() };
/** Everything that must never show in a log, a listing, a reply or a file but the credential handed out. */
const secrets: string[] = [env.PP_EMBEDDERS_KEY];
const tokens = new Set<string>();
const replies: { what: string; reply: Reply }[] = [];
const outputs: string[] = [];
let server: ChildServer;

async function ppToken(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [PP_TOKEN, ...args, '--config', config], {
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function add(host: string): Promise<Credential> {
  const { code, stdout, stderr } = await ppToken(
    'embedder',
    'add',
    host,
    '--dataset',
    DATASET,
    '--route',
    'termdb',
  );
  expect(code, stderr).toBe(0);
  outputs.push(stderr);
  const credential = JSON.parse(stdout) as Credential;
  secrets.push(credential.secret);
  return credential;
}

function tokenOf(credential: Credential): string {
  const token = createSigner({
    algorithm: 'HS256',
    key: { secret: credential.secret },
    kid: credential.kid,
  }).sign({
    datasets: [DATASET],
    email: 'ana@example.org',
    ip: LOOPBACK,
  });
  tokens.add(token);
  return token;
}

async function get(origin: string, token?: string): Promise<Reply> {
  const headers: [string, string][] = [['origin', origin]];
  if (token !== undefined) headers.push(['x-ds-access-token', token]);
  const reply = await send(server.port, { path: samplesPath(DATASET), headers });
  replies.push({ what: `GET samples from ${origin}`, reply });
  return reply;
}

/** Waits for the server to have read the registry as it is now (it looks at least every second). */
async function untilVersion(version: number): Promise<void> {
  const deadline = Date.now() + 3_000;
  for (;;) {
    const health = (await send(server.port, { path: '/healthcheck' })).json as {
      checks: { embedderRegistry: { version: number; status: string } };
    };
    if (health.checks.embedderRegistry.version === version) return;
    if (Date.now() > deadline) throw new Error(`the server did not load version ${version}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until the server has logged a refusal of the registry file that names `path`. */
async function untilRefused(path: string): Promise<void> {
  const deadline = Date.now() + 3_000;
  while (
    !server
      .stderr()
      .split('\n')
      .some((l) => l.includes('embedder_registry_refused') && l.includes(path))
  ) {
    if (Date.now() > deadline) throw new Error(`no refusal naming ${path}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function edit(
  change: (doc: { version: number; embedders: Record<string, Record<string, unknown>> }) => void,
): void {
  const doc = JSON.parse(readFileSync(registry, 'utf8')) as Parameters<typeof change>[0];
  change(doc);
  writeFileSync(registry, JSON.stringify(doc, null, 2));
}

let portal: Credential;

beforeAll(async () => {
  writeFileSync(
    config,
    JSON.stringify({
      datasets: [{ label: DATASET, genome: 'hg38', file: generatedDataset(), minSampleSize: 5 }],
      embedderRegistry: { file: 'embedders.json', key: { env: 'PP_EMBEDDERS_KEY' } },
    }),
  );
  expect((await ppToken('embedder', 'init')).code).toBe(0);
  portal = await add('registered.test');
  server = await ChildServer.start(VIZ_MAIN, {
    args: ['--config', config, '--port', '0', '--host', LOOPBACK],
    env,
    listening: (line) => (line.event === 'listening' && typeof line.url === 'string' ? line.url : undefined),
  });
});

afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the embedder registry (OWASP Key Management and Secrets Management cheat sheets; NIST SP 800-38D)', () => {
  it('serves the registered portal, and no other site', async () => {
    expect((await get(PORTAL, tokenOf(portal))).status).toBe(200);
    expectRefusal(await get('http://unregistered.test', tokenOf(portal)), 403, 'embedder_not_allowed');
  });

  it('refuses a portal added by hand to the file without the key: the file MAC fails, the last good state serves', async () => {
    const good = readFileSync(registry, 'utf8');
    edit((doc) => {
      const copy = structuredClone(doc.embedders['registered.test']) as Record<string, unknown>;
      doc.embedders['intruder.test'] = { ...copy, embedder: 'intruder.test' };
      doc.version += 1;
    });
    await untilRefused('.mac');
    // The copied entry's secret is bound to its own entry: it does not open for the intruder's origin either.
    expectRefusal(await get('http://intruder.test', tokenOf(portal)), 403, 'embedder_not_allowed');
    expect((await get(PORTAL, tokenOf(portal))).status).toBe(200);
    writeFileSync(registry, good);
  });

  it('refuses a JWKS URL swapped for the attacker’s, and a grant widened by hand', async () => {
    await ppToken(
      'embedder',
      'add',
      'keyed.test',
      '--dataset',
      DATASET,
      '--route',
      'termdb',
      '--alg',
      'ES256',
      '--jwks',
      'https://keyed.test/jwks.json',
    );
    await untilVersion(3);
    const good = readFileSync(registry, 'utf8');
    edit(
      (doc) => ((doc.embedders['keyed.test'] as { jwks: string }).jwks = 'https://attacker.test/jwks.json'),
    );
    await untilRefused('.mac');
    writeFileSync(registry, good);
    await untilVersion(3);
    edit(
      (doc) => ((doc.embedders['registered.test'] as { datasets: string[] }).datasets = [DATASET, 'Other']),
    );
    await untilRefused('keys[0].secret');
    writeFileSync(registry, good);
  });

  it('retires a portal on the running server within 2 s (embedder_retired), and a copy from before is not loaded', async () => {
    const before = join(dir, 'before-retire.json');
    copyFileSync(registry, before);
    const token = tokenOf(portal);
    const retired = await ppToken('embedder', 'retire', 'registered.test');
    expect(retired.code, retired.stderr).toBe(0);
    // From the moment the command has written the file.
    const started = Date.now();
    outputs.push(retired.stdout);
    for (;;) {
      const reply = await get(PORTAL, token);
      if (reply.status === 403) {
        expectRefusal(reply, 403, 'embedder_retired');
        break;
      }
      expect(Date.now() - started).toBeLessThan(2_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Putting the old file back (a rollback, to let the portal in again) is refused while the server runs.
    copyFileSync(before, registry);
    await untilRefused('.version');
    expectRefusal(await get(PORTAL, token), 403, 'embedder_retired');
  });

  it('never shows a secret in its listing, its files, the replies or the logs (OWASP Logging cheat sheet; CWE-532)', async () => {
    const listed = await ppToken('embedder', 'list');
    const json = await ppToken('embedder', 'list', '--json');
    await server.stop(); // which writes the record of key use
    const files = ['embedders.json', 'embedders.audit.jsonl', 'embedders.seen.json'].map((f) =>
      readFileSync(join(dir, f), 'utf8'),
    );
    expect(files[2]).toContain(portal.kid);
    const texts = [
      listed.stdout,
      listed.stderr,
      json.stdout,
      ...outputs,
      ...files,
      ...replies.map((r) => r.reply.text),
    ];
    for (const text of texts) for (const secret of secrets) expect(text.includes(secret)).toBe(false);
    expectCleanLogs(
      [
        { stream: 'stdout', text: server.stdout() },
        { stream: 'stderr', text: server.stderr() },
      ],
      { tokens, secrets },
      VIZ_EVENTS,
    );
  });
});
