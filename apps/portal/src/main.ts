#!/usr/bin/env node
/**
 * pp-portal: starts the reference portal. Reads the configuration (see `--help`), opens the database, loads the
 * signing keys, and serves on 127.0.0.1:3000 unless told otherwise.
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDatasetTokenError } from '@pp-embed/dataset-token';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { Institution } from './auth/institution.js';
import { appSecret, DatabaseError, openDatabase } from './db/database.js';
import { openStores } from './db/stores.js';
import { seedDemo } from './demo.js';
import { jsonLogger, Lifecycle, RateLimitedLog } from '@pp-embed/server-runtime';
import { listen } from './server.js';
import { createTokenKeys } from './tokens/keys.js';

async function main(): Promise<number> {
  let loaded;
  try {
    loaded = loadConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n\nRun pp-portal --help for the settings.\n`);
    return 2;
  }
  if ('help' in loaded) {
    process.stdout.write(`${loaded.help}\n`);
    return 0;
  }
  const { config } = loaded;
  const logger = jsonLogger();

  let db;
  let keys;
  try {
    db = openDatabase(config.databasePath);
    keys = createTokenKeys(config.signing, { db, ttlSeconds: config.tokenTtlSeconds, logger });
  } catch (error) {
    if (!(error instanceof DatabaseError) && !isDatasetTokenError(error)) throw error;
    const setting = error instanceof DatabaseError ? 'PP_PORTAL_DB' : 'PP_PORTAL_KEYS_DIR';
    process.stderr.write(`${setting}: ${error.message}\n`);
    return 2;
  }
  const stores = openStores(db, {
    maxAgeMs: config.sessionMaxAgeSeconds * 1000,
    idleMs: config.sessionIdleSeconds * 1000,
  });

  if (config.seedDemo) {
    const logins = await seedDemo(db);
    process.stdout.write('Demo logins (new passwords on every start):\n');
    for (const l of logins) process.stdout.write(`  ${l.email.padEnd(18)} ${l.password}   ${l.access}\n`);
  }

  // dist/public from both dist/main.js and src/main.ts: the page script is always built by vite.
  const assetsDir = fileURLToPath(new URL('../dist/public/', import.meta.url));
  if (!existsSync(join(assetsDir, 'dataset-page.js'))) {
    logger.warn('assets_missing', {
      message: 'dataset pages will not load the viewer: run `pnpm --filter @pp-embed/portal build` first',
    });
  }

  const lifecycle = new Lifecycle({ log: logger, drainMs: config.drainSeconds * 1000 });
  const refusals = new RateLimitedLog(logger);
  const institution =
    config.institution === undefined
      ? undefined
      : new Institution(config.institution, { stateKey: appSecret(db, 'institution-state') });
  const app = createApp({ config, stores, keys, logger, refusals, assetsDir, lifecycle, institution });
  const purge = setInterval(() => stores.sessions.purge(Date.now()), 10 * 60_000);
  purge.unref();
  // The database is closed only once the requests in flight are answered.
  lifecycle.exitOnSignals(() => {
    clearInterval(purge);
    refusals.flush();
    db.close();
  });
  const running = await listen(app, { host: config.host, port: config.port, lifecycle });
  logger.info('listening', {
    url: running.url,
    vizServer: config.vizServerUrl,
    signing: keys.algorithm,
    tokenIp: config.tokenIp,
  });

  // A new key is published at once on SIGHUP (by itself within a minute), and signs after the rotation wait.
  process.on('SIGHUP', () => keys.reload());
  return 0;
}

process.exitCode = await main();
