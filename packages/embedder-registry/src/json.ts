import { ConfigError, type ConfigProblem, formatPath } from '@pp-embed/server-runtime';
import type * as z from 'zod';

/**
 * Reads a JSON document of a known shape: every problem named by its JSON path (an unknown member as such), all
 * thrown together as one `ConfigError` about `file`. `notJson` says what text that is not JSON most likely is.
 *
 * @example
 * const doc = readJsonDocument(text, file, fileSchema, { notJson: 'cut short while written', what: 'a registry file' });
 */
export function readJsonDocument<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  words: { notJson: string; what: string },
): z.infer<S> {
  if (text.trim() === '') throw new ConfigError(file, [{ path: '(root)', message: 'the file is empty' }]);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ConfigError(file, [{ path: '(root)', message: `not valid JSON: ${words.notJson}` }]);
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems: ConfigProblem[] = [];
  for (const issue of parsed.error.issues) {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    for (const key of keys) {
      problems.push({
        path: formatPath('', [...issue.path, ...(key === undefined ? [] : [key])]),
        message: key === undefined ? issue.message : `is not a member of ${words.what}`,
      });
    }
  }
  throw new ConfigError(file, problems);
}
