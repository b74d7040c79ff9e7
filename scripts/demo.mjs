#!/usr/bin/env node
// Starts the whole demo: the visualization server (demo config: generated PPDemo dataset, and TermdbTest when it
// is beside the checkout) and the reference portal on another port, so the two are separate origins. Ctrl-C stops
// both. Run it after the workspace build: `pnpm demo` does both.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const demoDir = join(root, '.demo');
const vizPort = Number(process.env.PP_DEMO_VIZ_PORT ?? 3001);
const portalPort = Number(process.env.PP_DEMO_PORTAL_PORT ?? 3000);
const vizUrl = `http://127.0.0.1:${vizPort}`;
const portalUrl = `http://127.0.0.1:${portalPort}`;

for (const main of ['apps/viz-server/dist/main.js', 'apps/portal/dist/main.js']) {
  if (!existsSync(join(root, main))) {
    console.error(`${main} is missing: run the workspace build first (npx -y pnpm@10 run build).`);
    process.exit(1);
  }
}

const children = [];
function start(name, args, env) {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
    // Its own process group: Ctrl-C reaches this script only, which sends each server one SIGTERM (a second
    // signal would make a server skip its drain).
    detached: true,
  });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} stopped (${signal ?? code}); stopping the demo.`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  const running = children.filter((child) => child.exitCode === null && child.signalCode === null);
  for (const child of running) child.kill('SIGTERM');
  // The servers drain (10 s at most), then exit; so does the demo.
  Promise.all(running.map((child) => new Promise((resolve) => child.once('exit', resolve)))).then(() =>
    process.exit(code),
  );
  setTimeout(() => process.exit(code), 15_000).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

async function waitFor(url) {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer`);
}

// The visualization server makes .demo/ (dataset and shared secret) on its first start.
start('visualization server', ['apps/viz-server/dist/main.js', '--port', String(vizPort)], {});
await waitFor(`${vizUrl}/healthcheck`);
start('portal', ['apps/portal/dist/main.js'], {
  PORT: String(portalPort),
  PP_VIZ_SERVER_URL: vizUrl,
  PP_PORTAL_DB: join(demoDir, 'portal.db'),
  PP_DS_SECRET_FILE: join(demoDir, 'ds-secret'),
  PP_PORTAL_TOKEN_IP: 'client',
  PP_PORTAL_SEED_DEMO: 'true',
});
await waitFor(portalUrl);
console.log(`
  pp-embed demo
    portal                ${portalUrl}   (sign in with a demo login printed above)
    visualization server  ${vizUrl}   (serves /bin/proteinpaint.js and the datasets)
  Ctrl-C stops both.
`);
