/**
 * `@pp-embed/server-config`: the visualization server's `serverconfig.json`, read and checked in one pass by
 * the one loader that the server and `pp-token explain --config` share, and its JSON Schema for editors.
 *
 * @example
 * import { loadServerConfig } from '@pp-embed/server-config';
 * const { policy, tokenLeeway, datasets } = loadServerConfig('/etc/pp/serverconfig.json');
 * @module
 */
export {
  type DatasetDeclaration,
  type DatasetOpener,
  loadServerConfig,
  type LoadServerConfigOptions,
  type ServerConfig,
  serverConfigJsonSchema,
  serverConfigSchema,
} from './load.js';
export {
  accessRevocations,
  type LoadedRegistry,
  registeredCredentials,
  registryEntryPath,
  type RegistrySettings,
  registrySettings,
} from './embedder-registry.js';
