import { dirname, resolve } from 'node:path';
import { type RegistryKey, registryKey, RegistryKeyError } from '@pp-embed/embedder-registry';
import { ConfigError, formatPath } from '@pp-embed/server-runtime';
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
