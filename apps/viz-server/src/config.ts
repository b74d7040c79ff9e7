import { loadServerConfig, type ServerConfig } from '@pp-embed/server-config';
import type { Logger } from '@pp-embed/server-runtime';
import { openDataset, type TermdbDataset } from './termdb/dataset.js';

/** A configuration ready to serve: every dataset open, the policy built, the trusted proxies parsed. */
export type LoadedConfig = ServerConfig<TermdbDataset>;

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  /** Where the revocation feeds log, and how they fetch (tests). */
  revocation?: { logger?: Logger; fetch?: typeof fetch };
}

/**
 * Reads serverconfig.json with the shared loader (the one `pp-token explain --config` uses) and opens every
 * dataset it declares. Throws a `ConfigError` listing every problem with its JSON path, a dataset file that
 * cannot be served included; nothing is left open when it throws.
 *
 * @example
 * const config = loadConfig('serverconfig.json');
 * serve({ fetch: createApp({ ...config, bundle, log, audit }).fetch, port: config.port });
 */
export function loadConfig(file: string, options: LoadOptions = {}): LoadedConfig {
  return loadServerConfig<TermdbDataset>(file, {
    ...options,
    datasets: {
      open: (d) =>
        openDataset({ label: d.label, genome: d.genome, file: d.file, minSampleSize: d.minSampleSize }),
      close: (dataset) => dataset.close(),
    },
  });
}
