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
import { FeedPublisher } from '@pp-embed/revocation';
import { createApp, DEFAULT_LOGIN_LIMITS } from './app.js';
import { DEFAULT_EXCHANGE_LIMITS } from './routes/exchange.js';
import { ConfigError, loadConfig } from './config.js';
import { Institution } from './auth/institution.js';
import { DatabaseError, openStore, type PortalStore, storeSecret } from './db/store.js';
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

  let store: PortalStore | undefined;
  let keys;
  try {
    store = await openStore(
      config.store,
      { maxAgeMs: config.sessionMaxAgeSeconds * 1000, idleMs: config.sessionIdleSeconds * 1000 },
      { logger },
    );
    keys = await createTokenKeys(config.signing, {
      sql: store.sql,
      ttlSeconds: config.tokenTtlSeconds,
      logger,
    });
  } catch (error) {
    await store?.close();
    if (!(error instanceof DatabaseError) && !isDatasetTokenError(error)) throw error;
    const setting =
      error instanceof DatabaseError
        ? config.store.kind === 'postgres'
          ? 'PP_PORTAL_DATABASE_URL'
          : 'PP_PORTAL_DB'
        : 'PP_PORTAL_KEYS_DIR';
    process.stderr.write(`${setting}: ${(error as Error).message}\n`);
    return 2;
  }
  const opened = store;

  if (config.seedDemo) {
    const logins = await seedDemo(opened);
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

  const tokenKeys = keys;
  const feed = new FeedPublisher({
    version: () => opened.revocations.version(),
    snapshot: () => opened.revocations.snapshot(Date.now()),
    signer: () => tokenKeys.signer(),
  });
  // Revocations committed by the other portal replicas on the same store wake the held feed requests too.
  const stopWatching = opened.watchRevocations(() => feed.notify());
  const lifecycle = new Lifecycle({ log: logger, drainMs: config.drainSeconds * 1000 });
  // Held feed requests answer at once when the shutdown starts, rather than holding it to the drain deadline.
  lifecycle.drainSignal.addEventListener('abort', () => feed.close(), { once: true });
  const refusals = new RateLimitedLog(logger);
  // The pending sign-in cookie is signed with a key in the store, so the IdP may send the browser back to any replica.
  const institution =
    config.institution === undefined
      ? undefined
      : new Institution(config.institution, { stateKey: await storeSecret(opened.sql, 'institution-state') });
  const app = createApp({
    config,
    store: opened,
    keys,
    logger,
    refusals,
    assetsDir,
    lifecycle,
    feed,
    institution,
  });
  // The sliding windows of sign-ins and token exchanges share one table: kept as long as the longest of them.
  const longestWindow = Math.max(
    ...[...Object.values(DEFAULT_LOGIN_LIMITS), ...Object.values(DEFAULT_EXCHANGE_LIMITS)].map(
      (l) => l.windowMs,
    ),
  );
  const purge = setInterval(() => {
    const now = Date.now();
    // A store that is away now is purged next time.
    void Promise.all([
      opened.sessions.purge(now),
      opened.loginFailures.purge(now, longestWindow),
      opened.revocations.prune(now),
      opened.apiTokens.purge(now),
    ]).catch((error: unknown) => logger.warn('purge_failed', { message: (error as Error).message }));
  }, 10 * 60_000);
  purge.unref();
  // The store is closed only once the requests in flight are answered.
  lifecycle.exitOnSignals(async () => {
    clearInterval(purge);
    stopWatching();
    refusals.flush();
    await opened.close();
  });
  const running = await listen(app, { host: config.host, port: config.port, lifecycle });
  logger.info('listening', {
    url: running.url,
    vizServer: config.vizServerUrl,
    signing: keys.algorithm,
    // Which registry entry of the visualization server this portal is, when it signs with a credential file.
    registeredAs: config.signing.algorithm === 'registered' ? config.signing.credential.id : null,
    tokenIp: config.tokenIp,
  });

  // A new key is published at once on SIGHUP (by itself within a minute), and signs after the rotation wait.
  process.on('SIGHUP', () => void tokenKeys.reload());
  return 0;
}

process.exitCode = await main();
