#!/usr/bin/env node
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { getRequestListener } from '@hono/node-server';
import { ConfigError, jsonLogger, Lifecycle, RateLimitedLog } from '@pp-embed/server-runtime';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { DEMO_CONFIG, ensureDemoAssets } from './demo.js';
import { jsonAudit } from './http/audit.js';
import { readBundle } from './http/bundle.js';
import { logAccessTable } from './startup.js';
import { DatasetRegistry } from './termdb/registry.js';
import { accessAtLoad, EmbedderRegistryWatch } from './embedders.js';

const USAGE = `pp-viz-server: serve termdb datasets behind dsCredentials

usage: pp-viz-server [--config serverconfig.json] [--port N] [--host ADDRESS]

Without --config the demo configuration is used (a generated dataset, and TermdbTest when present).`;

const log = jsonLogger();

function bundlePath(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('@pp-embed/viewer/proteinpaint.js');
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  // `pnpm start -- --config x` hands the script a literal "--" first.
  const args = process.argv.slice(2);
  if (args[0] === '--') args.shift();
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  if (values.port !== undefined && !/^\d{1,5}$/.test(values.port)) {
    console.error(`--port must be a number\n\n${USAGE}`);
    return 2;
  }
  // A relative path is the caller's: pnpm and npm run scripts in the package's folder but say where they were
  // started in INIT_CWD.
  let file =
    values.config === undefined ? undefined : resolve(process.env.INIT_CWD ?? process.cwd(), values.config);
  if (file === undefined) {
    const { created } = ensureDemoAssets();
    for (const path of created) log.info('demo_asset_created', { path });
    file = DEMO_CONFIG;
  }
  let config;
  try {
    config = loadConfig(file, { log });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
  for (const warning of config.warnings) log.warn('config_warning', { warning });
  logAccessTable(config, log);
  // A JWKS that cannot be fetched now is logged by its key set (jwks_fetch_failed) and retried soon.
  await config.policy.ready().catch(() => undefined);
  const revocations = config.revocations;
  if (revocations !== undefined) {
    // Until a feed is read, tokens of its embedders are refused (fail closed); the loop keeps trying.
    const unread = await revocations.syncOnce();
    if (unread.length > 0) log.warn('revocation_feeds_unread_at_start', { feeds: unread });
    revocations.start();
  }
  const path = bundlePath();
  const bundle = path === undefined ? undefined : readBundle(path);
  if (bundle === undefined)
    log.warn('bundle_missing', { message: 'proteinpaint.js is not built; /bin/proteinpaint.js answers 404' });
  const datasets = new DatasetRegistry(config.datasets, { log });
  const lifecycle = new Lifecycle({ log, drainMs: config.drainSeconds * 1000 });
  const refusals = new RateLimitedLog(log);
  // The registry's portals are read again within 2 s of a change; without a registry the state is the one loaded.
  const embedders =
    config.registry === undefined
      ? undefined
      : new EmbedderRegistryWatch(config.registry, { policy: config.policy, feeds: revocations }, { log });
  const app = createApp({
    ...config,
    access: embedders === undefined ? accessAtLoad(config) : () => embedders.current(),
    revocationFeeds: revocations,
    embedderRegistry: embedders,
    keyUse: embedders === undefined ? undefined : (path, kid) => embedders.noteKeyUse(path, kid),
    datasets,
    bundle,
    log,
    refusals,
    audit: jsonAudit(),
    lifecycle,
  });
  const port = values.port === undefined ? config.port : Number(values.port);
  const hostname = values.host ?? config.host;
  // Datasets are closed, the revocation feeds stopped and the key use written only once the requests in flight
  // are answered.
  lifecycle.exitOnSignals(async () => {
    refusals.flush();
    datasets.close();
    await Promise.all([revocations?.stop(), embedders?.close()]);
  });
  const { url } = await lifecycle.listen(getRequestListener(app.fetch), { hostname, port });
  log.info('listening', {
    url,
    datasets: datasets.labels,
    embedderRegistry: embedders === undefined ? null : embedders.health().version,
  });
  return 0;
}

main().then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 2;
  },
);
