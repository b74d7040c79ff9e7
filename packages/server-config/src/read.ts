import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '@pp-embed/server-runtime';

/**
 * The JSON of serverconfig.json, or a `ConfigError` saying it is missing or not JSON.
 *
 * @example
 * const raw = readConfigFile('serverconfig.json');
 */
export function readConfigFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(resolve(file), 'utf8'));
  } catch (error) {
    const message = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : 'not valid JSON';
    throw new ConfigError(file, [{ path: '(root)', message }]);
  }
}
