import { appendFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { RegistryKey } from './crypto.js';
import { type LockOptions, OWNER_ONLY, withLock, writeFileAtomic } from './files.js';
import {
  dataKeysOf,
  parseRegistry,
  readRegistry,
  type Registry,
  RegistryDraft,
  rememberDataKeys,
  serializeRegistry,
} from './registry.js';

/**
 * Options of {@link editRegistry} and {@link createRegistry}.
 *
 * @example
 * const options: EditOptions = { by: 'ops@viz-1', check: (next) => loadServerConfig(file, { registry: next }) };
 */
export interface EditOptions {
  /** Who makes the change (`user@host`), for the entry and the audit trail. */
  by: string;
  now?: () => number;
  /**
   * Checks the registry as it would be written, and throws to refuse it: the server's loader, so that a change
   * the server would refuse (a conflict with dsCredentials, a bad rule) is refused before it is written.
   */
  check?: (next: Registry) => void;
  lock?: LockOptions;
}

/**
 * One change of the registry, as the audit trail records it: never a secret or a key, only what changed and who
 * changed it.
 *
 * @example
 * const line: AuditRecord = { time, by: 'ops@viz-1', action: 'retire', id: 'portal.example.org', version: 7 };
 */
export interface AuditRecord {
  readonly time: string;
  readonly by: string;
  readonly action: 'init' | 'add' | 'rotate' | 'finish-rotation' | 'retire';
  readonly version: number;
  readonly id?: string;
  readonly embedder?: string;
  readonly datasets?: readonly string[];
  readonly routes?: readonly string[];
  readonly alg?: string;
  /** Key ids added or dropped by the change. */
  readonly kids?: readonly string[];
}

/**
 * The files kept beside a registry: its audit trail (one JSON line per change) and the record of when each key
 * was last used, which the servers write and `pp-token embedder list` reads.
 *
 * @example
 * companionFiles('/etc/pp/embedders.json'); // { audit: '/etc/pp/embedders.audit.jsonl', seen: '/etc/pp/embedders.seen.json' }
 */
export function companionFiles(file: string): { audit: string; seen: string } {
  const base = basename(file).replace(/\.json$/i, '');
  return {
    audit: join(dirname(file), `${base}.audit.jsonl`),
    seen: join(dirname(file), `${base}.seen.json`),
  };
}

/**
 * Changes a registry: under its lock, reads it (authenticated and decrypted), applies `change` to a draft, writes
 * the result as the next version (atomically, owner-only), and appends the audit records `change` returns to
 * the audit trail. The new file is read back and `check`ed before it replaces the old one; a refused change
 * leaves the file as it was.
 *
 * @throws ConfigError when the registry cannot be read; RegistryEditError for a change it refuses; whatever
 *   `check` throws; LockedError when another command holds the lock.
 * @example
 * const { result } = await editRegistry(file, key, (draft) => draft.retire('portal.example.org'), { by });
 */
export async function editRegistry<R>(
  file: string,
  key: RegistryKey,
  change: (draft: RegistryDraft) => {
    result: R;
    audit: readonly Omit<AuditRecord, 'time' | 'by' | 'version'>[];
  },
  options: EditOptions,
): Promise<{ registry: Registry; result: R }> {
  const now = options.now ?? Date.now;
  return withLock(
    file,
    async () => {
      const current = readRegistry(file, key);
      const at = now();
      const draft = new RegistryDraft(current.entries, { by: options.by, now: at });
      draft.prune();
      const { result, audit } = change(draft);
      const version = current.version + 1;
      const { text, dataKeys } = serializeRegistry(draft.entries, {
        version,
        key,
        now: at,
        dataKeys: dataKeysOf(current),
      });
      const next = parseRegistry(text, key, file);
      rememberDataKeys(next, dataKeys);
      options.check?.(next);
      await writeFileAtomic(file, text);
      await appendAudit(
        file,
        audit.map((record) => ({ time: new Date(at).toISOString(), by: options.by, version, ...record })),
      );
      return { registry: next, result };
    },
    options.lock,
  );
}

/**
 * Creates an empty registry (version 1) written with `key`; an existing file is never overwritten.
 *
 * @throws Error with code EEXIST when the file exists.
 * @example
 * await createRegistry('/etc/pp/embedders.json', key, { by: 'ops@viz-1' });
 */
export async function createRegistry(
  file: string,
  key: RegistryKey,
  options: EditOptions,
): Promise<Registry> {
  const now = (options.now ?? Date.now)();
  return withLock(
    file,
    async () => {
      const { text } = serializeRegistry([], { version: 1, key, now });
      await writeFileAtomic(file, text, { exclusive: true });
      await appendAudit(file, [
        { time: new Date(now).toISOString(), by: options.by, version: 1, action: 'init' },
      ]);
      return parseRegistry(text, key, file);
    },
    options.lock,
  );
}

async function appendAudit(file: string, records: readonly AuditRecord[]): Promise<void> {
  if (records.length === 0) return;
  const text = records.map((r) => `${JSON.stringify(r)}\n`).join('');
  await appendFile(companionFiles(file).audit, text, { mode: OWNER_ONLY });
}
