/**
 * `@pp-embed/embedder-registry`: the visualization server's registry of embedding portals, kept beside
 * serverconfig.json. Each entry becomes a credential entry like one of dsCredentials; secrets are encrypted at rest
 * (AES-256-GCM envelope encryption under a key-encryption key from the environment or a file), the whole file is
 * authenticated, and every change is written atomically, owner-only, under a lock, with an audit trail. A portal
 * reads the credential file that `pp-token embedder add` prints.
 *
 * @example
 * import { readRegistry, registryKey } from '@pp-embed/embedder-registry';
 * const registry = readRegistry('/etc/pp/embedders.json', registryKey({ env: 'PP_EMBEDDERS_KEY' }));
 * for (const entry of registry.entries) console.log(entry.id, entry.embedder, entry.datasets);
 * @module
 */
export {
  REGISTRY_KEY_BYTES,
  type RegistryKey,
  RegistryKeyError,
  registryKey,
  registryKeyFromBytes,
} from './crypto.js';
export {
  LockedError,
  type LockHolder,
  type LockOptions,
  OWNER_ONLY,
  withLock,
  writeFileAtomic,
} from './files.js';
export {
  ENTRY_ID,
  type EmbedderEntry,
  type EntryKey,
  type NewEmbedder,
  parseRegistry,
  readRegistry,
  REGISTRY_ALGORITHMS,
  REGISTRY_FORMAT,
  type Registry,
  type RegistryAlgorithm,
  RegistryDraft,
  RegistryEditError,
  type Stamp,
} from './registry.js';
export { type AuditRecord, companionFiles, createRegistry, editRegistry, type EditOptions } from './edit.js';
export { type KeyUse, type Observation, readSeen, recordSeen, SEEN_FORMAT, type SeenKeys } from './seen.js';
export {
  CREDENTIAL_FORMAT,
  credentialText,
  type EmbedderCredential,
  readCredentialFile,
} from './credential.js';
