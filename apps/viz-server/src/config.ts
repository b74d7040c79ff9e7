import type { IssuerEvent, JwksEvent } from '@pp-embed/dataset-token';
import { loadServerConfig, type ServerConfig } from '@pp-embed/server-config';
import type { Logger } from '@pp-embed/server-runtime';
import { openDataset, type TermdbDataset } from './termdb/dataset.js';

/** A configuration ready to serve: every dataset open, the policy built, the trusted proxies parsed. */
export type LoadedConfig = ServerConfig<TermdbDataset>;

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  /** Where key sets fetched from JWKS URLs report fetches, failures and ignored keys, and the revocation feeds log. */
  log?: Logger;
}

/**
 * The log line of each event of a key set fetched from a JWKS URL: a failure is a warning with the URL, its
 * cause and the age of the keys still in use.
 *
 * @example
 * new RemoteJwks(url, { onEvent: logJwksEvent(log) });
 */
export function logJwksEvent(log: Logger): (event: JwksEvent) => void {
  return ({ type, ...fields }) => {
    if (type === 'fetched') log.info('jwks_fetched', fields);
    else if (type === 'fetch_failed') log.warn('jwks_fetch_failed', fields);
    else log.warn('jwks_key_ignored', fields);
  };
}

/**
 * The log line of each event of a trusted issuer's keys: its discovery document read or failing (with the
 * issuer's name and the cause), and its key set's events as for a JWKS URL, with the issuer.
 *
 * @example
 * new IssuerKeys(issuer, { onEvent: logIssuerEvent(log) });
 */
export function logIssuerEvent(log: Logger): (event: IssuerEvent) => void {
  const jwks = logJwksEvent(log);
  return (event) => {
    if (event.type === 'discovered')
      log.info('issuer_discovered', { issuer: event.issuer, jwksUri: event.jwksUri });
    else if (event.type === 'discovery_failed') {
      const { type: _type, ...fields } = event;
      log.warn('issuer_discovery_failed', fields);
    } else jwks(event);
  };
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
  const { log, ...rest } = options;
  return loadServerConfig<TermdbDataset>(file, {
    ...rest,
    ...(log !== undefined && {
      remoteJwks: { onEvent: logJwksEvent(log) },
      issuerKeys: { onEvent: logIssuerEvent(log) },
      revocation: { logger: log },
    }),
    datasets: {
      open: (d) => openDataset({ label: d.label, genome: d.genome, file: d.file, disclosure: d.disclosure }),
      close: (dataset) => dataset.close(),
    },
  });
}
