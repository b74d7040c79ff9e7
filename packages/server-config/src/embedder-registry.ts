import { dirname, resolve } from 'node:path';
import type { AccessPolicy, RegisteredCredential } from '@pp-embed/access-policy';
import type { RemoteJwksOptions } from '@pp-embed/dataset-token';
import {
  type EmbedderEntry,
  parseRegistry,
  type Registry,
  type RegistryKey,
  registryKey,
  RegistryKeyError,
} from '@pp-embed/embedder-registry';
import { firstRevocation, type RevocationLookup } from '@pp-embed/revocation';
import { ConfigError, type ConfigProblem, formatPath } from '@pp-embed/server-runtime';
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { readConfigFile } from './read.js';

/** Where serverconfig.json names the registry's key: an environment variable or a file, never the key itself. */
const keySource = z
  .union(
    [
      z.strictObject({ env: z.string().min(1, { error: 'expected an environment variable name' }) }),
      z.strictObject({ file: z.string().min(1, { error: 'expected a file path' }) }),
    ],
    { error: 'expected {"env": "NAME"} or {"file": "path"}: the key is never written in this file' },
  )
  .meta({
    description:
      'The key-encryption key of the registry: 32 random bytes in base64url (`pp-token secret`), in an environment variable ({"env": "NAME"}) or a file ({"file": "path"}, relative to this file, mode 600).',
  });

/** serverconfig.json's `embedderRegistry`. */
export const embedderRegistrySchema = z
  .strictObject({
    file: z.string().min(1, { error: 'expected the path of the registry file' }).meta({
      description: 'The registry file, relative to this file; `pp-token embedder init` creates it.',
    }),
    key: keySource,
  })
  .meta({
    title: 'The embedder registry',
    description:
      'Portals registered with `pp-token embedder add`: each entry is a credential entry like one of dsCredentials, its secrets encrypted with the key. The server reloads the file within 2 s of a change.',
  });

/**
 * Where the registry of a serverconfig.json is, and its key, once read.
 *
 * @example
 * const { file, key } = registrySettings('/etc/pp/serverconfig.json', { env: process.env });
 */
export interface RegistrySettings {
  /** The registry file, absolute. */
  readonly file: string;
  /** As written in serverconfig.json, for messages: `embedderRegistry(embedders.json)`. */
  readonly label: string;
  readonly key: RegistryKey;
  /** Where the key comes from, with a file made absolute (`pp-token embedder init` may create it). */
  readonly keySource: { readonly env: string } | { readonly file: string };
}

/**
 * Reads `embedderRegistry` of serverconfig.json: the registry file and its key. Problems are reported with their
 * JSON path; nothing else is read.
 *
 * @example
 * const settings = readRegistrySettings(record.embedderRegistry, { baseDir, env }, report);
 */
export function readRegistrySettings(
  raw: unknown,
  options: { baseDir: string; env?: NodeJS.ProcessEnv | undefined; keyOptional?: boolean },
  report: (segments: readonly PropertyKey[], message: string) => void,
): (Omit<RegistrySettings, 'key'> & { key: RegistryKey | undefined }) | undefined {
  if (raw === undefined) return undefined;
  const parsed = embedderRegistrySchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) report(['embedderRegistry', ...issue.path], issue.message);
    return undefined;
  }
  const { file, key } = parsed.data;
  const keySource = 'env' in key ? { env: key.env } : { file: resolve(options.baseDir, key.file) };
  let read: RegistryKey | undefined;
  try {
    read = registryKey(keySource, options.env);
  } catch (error) {
    if (!(error instanceof RegistryKeyError)) throw error;
    if (options.keyOptional !== true) report(['embedderRegistry', 'key'], error.message);
  }
  return {
    file: resolve(options.baseDir, file),
    label: `embedderRegistry(${file})`,
    key: read,
    keySource,
  };
}

/**
 * The registry settings of a serverconfig.json, for `pp-token embedder`: the file and its key, without loading the
 * rest. `keyOptional` lets `pp-token embedder init` learn where a key file should be before it exists.
 *
 * @throws ConfigError when serverconfig.json names no registry, or names it wrongly.
 * @example
 * const { file, key } = registrySettings('serverconfig.json', { env: process.env });
 */
export function registrySettings(
  configFile: string,
  options: { env?: NodeJS.ProcessEnv; keyOptional?: boolean } = {},
): Omit<RegistrySettings, 'key'> & { key: RegistryKey | undefined } {
  const path = resolve(configFile);
  const raw = readConfigFile(configFile);
  const problems: { path: string; message: string }[] = [];
  const setting = (raw as { embedderRegistry?: unknown } | null)?.embedderRegistry;
  if (setting === undefined) {
    throw new ConfigError(configFile, [
      {
        path: 'embedderRegistry',
        message:
          'is not set; add "embedderRegistry": {"file": "embedders.json", "key": {"env": "PP_EMBEDDERS_KEY"}}',
      },
    ]);
  }
  const settings = readRegistrySettings(
    setting,
    { baseDir: dirname(path), env: options.env, keyOptional: options.keyOptional },
    (segments, message) => problems.push({ path: formatPath('', segments), message }),
  );
  if (settings === undefined || problems.length > 0) throw new ConfigError(configFile, problems);
  return settings;
}

/**
 * The embedder registry a server serves from: the file as last read and accepted, the revocation lookup of its
 * retired entries, and how to read it again.
 *
 * @example
 * const next = config.registry?.reload(currentPolicy); // throws a ConfigError for a file it refuses
 */
export interface LoadedRegistry {
  readonly file: string;
  /** How messages and entry paths name the registry: `embedderRegistry(embedders.json)`. */
  readonly label: string;
  readonly registry: Registry;
  /** Answers `retired` for the tokens a retired entry's keys verify. */
  readonly retired: RevocationLookup;
  /** The registry entry id behind a credential entry's path; undefined for an entry of dsCredentials. */
  entryId(path: string): string | undefined;
  /**
   * Reads the file again and builds the policy it gives with the same loader, the same dsCredentials and the same
   * settings, taking over `current`'s verifiers where nothing changed. `unchanged` when the file is the one loaded.
   *
   * @throws ConfigError naming each problem: the file (cut short, another key, tampered with), an older version
   *   than this one, or what the loader refuses (a conflict with dsCredentials, a bad rule).
   */
  reload(current: AccessPolicy): { policy: AccessPolicy; registry: LoadedRegistry } | 'unchanged';
}

/**
 * The path that names a registry entry, in the policy, `explain` and the logs.
 *
 * @example
 * registryEntryPath('embedderRegistry(embedders.json)', 'portal.example.org');
 * // 'embedderRegistry(embedders.json).embedders.portal.example.org'
 */
export function registryEntryPath(label: string, id: string): string {
  return formatPath(label, ['embedders', id]);
}

/**
 * The entries of a registry as credentials the policy loads: each key with its kid and, for the old key of a
 * rotation, the time it stops checking tokens.
 *
 * @example
 * loadPolicy(block, { ...options, registered: { label, credentials: registeredCredentials(registry, label) } });
 */
export function registeredCredentials(
  registry: Registry,
  label: string,
  remoteJwks?: RemoteJwksOptions,
): RegisteredCredential[] {
  return registry.entries.map((entry) => ({
    path: registryEntryPath(label, entry.id),
    embedder: entry.embedder,
    datasets: entry.datasets,
    routes: entry.routes,
    key: keyOf(entry, remoteJwks),
    keySource: entry.alg.startsWith('HS') ? 'secret' : entry.jwks !== undefined ? 'jwks' : 'publicKey',
    algorithms: [entry.alg],
    rules: entry.rules,
    retired: entry.retired !== undefined,
  }));
}

function keyOf(entry: EmbedderEntry, remoteJwks: RemoteJwksOptions | undefined): RegisteredCredential['key'] {
  if (entry.jwks !== undefined) {
    return { jwksUrl: entry.jwks, ...(remoteJwks !== undefined && { options: remoteJwks }) };
  }
  return {
    keys: entry.keys.map((k) => ({
      kid: k.kid,
      ...(k.notAfter !== undefined && { notAfter: Date.parse(k.notAfter) }),
      ...(k.secret !== undefined ? { secret: k.secret.reveal() } : { publicKey: k.publicKey ?? {} }),
    })),
  };
}

/** A registry's problems as serverconfig.json's, under the registry's label. */
export function registryProblems(label: string, error: ConfigError): ConfigProblem[] {
  return error.problems.map((p) => ({
    path: p.path === '(root)' ? label : `${label}.${p.path}`,
    message: p.message,
  }));
}

/**
 * Makes the `LoadedRegistry` of a registry read and accepted, given how a policy is built from one.
 *
 * @internal
 */
export function loadedRegistry(
  settings: { file: string; label: string; key: RegistryKey },
  registry: Registry,
  build: (registry: Registry, reuse: AccessPolicy) => AccessPolicy,
): LoadedRegistry {
  const paths = new Map(registry.entries.map((e) => [registryEntryPath(settings.label, e.id), e]));
  const retired = new Map(
    [...paths].filter(([, e]) => e.retired !== undefined).map(([path, e]) => [path, e]),
  );
  const loaded: LoadedRegistry = {
    file: settings.file,
    label: settings.label,
    registry,
    retired: {
      check({ entry }) {
        const found = retired.get(entry);
        return found?.retired === undefined
          ? undefined
          : { state: 'retired', entry: found.id, at: found.retired.at, by: found.retired.by };
      },
    },
    entryId: (path) => paths.get(path)?.id,
    reload(current) {
      let text: string;
      try {
        text = readFileSync(settings.file, 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new ConfigError(settings.file, [
          {
            path: settings.label,
            message: code === 'ENOENT' ? 'file not found' : `cannot be read (${code})`,
          },
        ]);
      }
      let next: Registry;
      try {
        next = parseRegistry(text, settings.key, settings.file);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        throw new ConfigError(settings.file, registryProblems(settings.label, error));
      }
      if (next.mac === registry.mac) return 'unchanged';
      if (next.version <= registry.version) {
        // A copy older than the one in force (a backup put back, a replay): refused, as a rollback of a
        // retirement would let a withdrawn portal in again. A restart reads whatever the file holds.
        throw new ConfigError(settings.file, [
          {
            path: `${settings.label}.version`,
            message: `is ${next.version}, not newer than version ${registry.version} in force: an older copy is not loaded while the server runs`,
          },
        ]);
      }
      const policy = build(next, current);
      return { policy, registry: loadedRegistry(settings, next, build) };
    },
  };
  return Object.freeze(loaded);
}

/**
 * What the access decision asks about every verified token: the registry's retired entries, then the portals'
 * revocation feeds. The server and `pp-token explain --config` ask the same.
 *
 * @example
 * decide(policy, { ...facts, revocations: accessRevocations(config.registry, config.revocations) });
 */
export function accessRevocations(
  registry: Pick<LoadedRegistry, 'retired'> | undefined,
  feeds: RevocationLookup | undefined,
): RevocationLookup | undefined {
  return firstRevocation([registry?.retired, feeds]);
}
