import { accessTable } from '@pp-embed/access-policy';
import type { Logger } from '@pp-embed/server-runtime';
import type { LoadedConfig } from './config.js';

/**
 * Writes the access table of the configuration to the log at start, one `access` line per row: for each served
 * dataset and each class of its routes, which embedders may use it and with which kind of key (never the key),
 * then one `open_to_everyone` line naming the datasets that answer every origin without a token. The same
 * table, as text, is what `pp-token explain --config serverconfig.json` prints.
 *
 * @example
 * const config = loadConfig('serverconfig.json');
 * logAccessTable(config, jsonLogger());
 * // {"level":"info","event":"access","dataset":"TermdbTest","routes":"sample-level (termdb/samples)","embedder":"portal.example.org (any port)","needs":"a token signed with the shared secret (HS256), in x-ds-access-token; strict address check",…}
 */
export function logAccessTable(config: Pick<LoadedConfig, 'policy' | 'datasets'>, log: Logger): void {
  const table = accessTable(config.policy, [...config.datasets.keys()]);
  for (const row of table.rows) {
    log.info('access', {
      dataset: row.dataset,
      routes: row.routes,
      embedder: row.embedder,
      needs: row.needs,
      entry: row.path ?? null,
    });
  }
  log.info('open_to_everyone', { datasets: table.openToEveryone });
}
