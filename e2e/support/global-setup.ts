import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { generateSecret } from '@pp-embed/dataset-token';
import { freePort } from '../../scripts/free-port.js';
import { type RunningIdp, startIdp } from '@pp-embed/test-idp';
import { systemChromium } from './chromium.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VIZ_MAIN = join(ROOT, 'apps/viz-server/dist/main.js');
const PORTAL_MAIN = join(ROOT, 'apps/portal/dist/main.js');
const GENERATOR = join(ROOT, 'apps/viz-server/dist/termdb/generate-cli.js');
export const TERMDB_TEST = join(ROOT, '../shared/datasets/TermdbTest.db');

async function waitFor(url: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited (${child.exitCode})\n${log()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer\n${log()}`);
}

function start(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

/** A static page server: a page on an origin of its own, with the visualization server's URL filled in. */
function pageServer(pages: Record<string, string>): Promise<{ server: Server; url: string }> {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      const page = pages[new URL(req.url ?? '/', 'http://x').pathname];
      if (page === undefined) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    });
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    );
  });
}

/**
 * Starts the real apps on 127.0.0.1 with three distinct origins: the portal, the visualization server, and a
 * static page server (an embedder named in dsCredentials); plus a fourth origin that is not named anywhere.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  for (const main of [VIZ_MAIN, PORTAL_MAIN]) {
    if (!existsSync(main))
      throw new Error(`${main} is missing: build the workspace first (npx -y pnpm@10 run build).`);
  }
  const executable = systemChromium() ?? chromium.executablePath();
  if (!existsSync(executable)) {
    throw new Error(
      'No Chromium for the end-to-end tests: install Debian\'s "chromium" package, set PP_CHROMIUM to a Chromium binary, or run "npx playwright install chromium" where downloads work.',
    );
  }

  const dir = mkdtempSync(join(tmpdir(), 'pp-e2e-'));
  const dataset = join(dir, 'PPDemo.db');
  const generated = spawnSync(
    process.execPath,
    [GENERATOR, '--out', dataset, '--samples', '3000', '--seed', '11'],
    { encoding: 'utf8' },
  );
  if (generated.status !== 0) throw new Error(`dataset generation failed: ${generated.stderr}`);
  const secretFile = join(dir, 'ds-secret');
  writeFileSync(secretFile, generateSecret(), { mode: 0o600 });

  const [vizPort, portalPort] = [await freePort(), await freePort()];
  const viz = `http://127.0.0.1:${vizPort}`;
  const portal = `http://127.0.0.1:${portalPort}`;
  const script = `${viz}/bin/proteinpaint.js`;
  const embedding = await pageServer({
    '/tag.html': page(
      'Tag',
      `<script src="${script}"></script><script src="${script}"></script>
      <pp-viewer id="tagged" host="${viz}" dslabel="PPDemo" genome="hg38" term="sex"></pp-viewer>`,
    ),
    '/script.html': page(
      'Script',
      `<script src="${script}"></script><div id="holder"></div>
      <script>window.handle = runproteinpaint({ host: ${JSON.stringify(viz)}, holder: document.getElementById('holder'),
        mass: { state: { dslabel: 'PPDemo', genome: 'hg38' } }, getDatasetAccessToken: () => window.ppToken || '' });</script>`,
    ),
  });
  const outsider = await pageServer({
    '/embed.html': page(
      'Outsider',
      `<script src="${script}"></script><div id="holder"></div>
      <script>runproteinpaint({ host: ${JSON.stringify(viz)}, holder: document.getElementById('holder'),
        mass: { state: { dslabel: 'PPDemo', genome: 'hg38' } }, getDatasetAccessToken: () => window.ppToken || '' });</script>`,
    ),
  });

  const embedders = (secret: { file: string }) => ({
    [`127.0.0.1:${portalPort}`]: { type: 'jwt', secret },
    [new URL(embedding.url).host]: { type: 'jwt', secret },
  });
  const config = {
    datasets: [
      { label: 'PPDemo', genome: 'hg38', file: dataset, minSampleSize: 5 },
      { label: 'TermdbTest', genome: 'hg38', file: TERMDB_TEST, minSampleSize: 5, optional: true },
    ],
    dsCredentials: {
      PPDemo: { termdb: embedders({ file: secretFile }) },
      TermdbTest: { termdb: embedders({ file: secretFile }) },
    },
  };
  writeFileSync(join(dir, 'serverconfig.json'), JSON.stringify(config, null, 2));

  // The university's IdP (a real OpenID Provider in its own process) and the portal's registration there. Its
  // users: a group that grants PPDemo, a visa that grants PPDemo for 40 s, a visa for another dataset only.
  const DAC = 'https://dac.example.org/committee';
  const idpClient = {
    client_id: 'portal',
    client_secret: generateSecret(),
    redirect_uris: [`${portal}/login/institution/callback`],
  };
  const idp: RunningIdp = await startIdp({
    audience: viz,
    clients: [idpClient],
    users: {
      'uni-ana': { email: 'ana@university.example.org', groups: ['ppdemo-readers'] },
      'uni-vic': {
        email: 'vic@university.example.org',
        visas: [{ value: 'phs000777.v1.p1', source: DAC, by: 'dac', expiresIn: 40 }],
      },
      'uni-olga': {
        email: 'olga@university.example.org',
        visas: [{ value: 'phs000888.v1.p1', source: DAC, by: 'dac' }],
      },
    },
  });
  const secretEnv = 'PP_E2E_INSTITUTION_SECRET';
  writeFileSync(
    join(dir, 'institution.json'),
    JSON.stringify({
      issuer: idp.url,
      name: 'University',
      clientId: idpClient.client_id,
      clientSecret: { env: secretEnv },
      scope: 'openid email groups ga4gh_passport_v1',
      grants: [{ claim: 'groups', value: 'ppdemo-readers', dataset: 'PPDemo' }],
      passports: {
        visaIssuers: [{ issuer: idp.url, jku: [idp.visaJku] }],
        visas: [
          { value: 'phs000777.v1.p1', source: [DAC], by: ['dac'], dataset: 'PPDemo' },
          { value: 'phs000888.v1.p1', source: [DAC], dataset: 'TermdbTest' },
        ],
      },
    }),
  );

  const vizProcess = start(
    [VIZ_MAIN, '--config', join(dir, 'serverconfig.json'), '--port', String(vizPort)],
    {},
  );
  await waitFor(`${viz}/healthcheck`, vizProcess.child, vizProcess.output);
  const portalProcess = start([PORTAL_MAIN], {
    PORT: String(portalPort),
    PP_VIZ_SERVER_URL: viz,
    PP_PORTAL_DB: join(dir, 'portal.db'),
    PP_DS_SECRET_FILE: secretFile,
    PP_PORTAL_TOKEN_IP: 'client',
    PP_PORTAL_TOKEN_TTL: '60',
    PP_PORTAL_SEED_DEMO: 'true',
    PP_PORTAL_INSTITUTION: join(dir, 'institution.json'),
    [secretEnv]: idpClient.client_secret,
  });
  await waitFor(portal, portalProcess.child, portalProcess.output);

  // The demo seeding prints "email password description" lines.
  const logins: Record<string, string> = {};
  for (const match of portalProcess.output().matchAll(/^\s+(\S+@example\.org)\s+(\S+)\s/gm)) {
    logins[match[1] as string] = match[2] as string;
  }
  if (Object.keys(logins).length < 4)
    throw new Error(`demo logins not found in the portal's output:\n${portalProcess.output()}`);

  Object.assign(process.env, {
    E2E_VIZ: viz,
    E2E_PORTAL: portal,
    E2E_EMBEDDING: embedding.url,
    E2E_OUTSIDER: outsider.url,
    E2E_SECRET_FILE: secretFile,
    E2E_DATASET: dataset,
    E2E_LOGINS: JSON.stringify(logins),
    E2E_TERMDB_TEST: existsSync(TERMDB_TEST) ? TERMDB_TEST : '',
    E2E_IDP: idp.url,
  });

  return async () => {
    vizProcess.child.kill();
    portalProcess.child.kill();
    await idp.stop();
    embedding.server.close();
    outsider.server.close();
  };
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;
}
