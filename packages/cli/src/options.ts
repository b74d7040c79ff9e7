import { UsageError } from './io.js';

/** The options of one command line, as `parseArgs` gives them. */
export type Values = Record<string, string | boolean | string[] | undefined>;

/**
 * A string option, or undefined.
 *
 * @example
 * str(values, 'origin'); // 'https://portal.example.org'
 */
export function str(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * A string option that must be given.
 *
 * @throws UsageError when it is missing or empty.
 * @example
 * const file = required(values, 'config');
 */
export function required(values: Values, name: string): string {
  const value = str(values, name);
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

/**
 * A repeatable option, each value also split at commas: `--dataset A --dataset B,C` is A, B and C.
 *
 * @example
 * list(values, 'dataset'); // ['A', 'B', 'C']
 */
export function list(values: Values, name: string): string[] {
  const value = values[name];
  const items = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
  return items
    .flatMap((item) => item.split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

const UNITS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/**
 * A duration option in seconds: a number, or a number with s, m, h or d.
 *
 * @throws UsageError for anything else.
 * @example
 * seconds({ ttl: '10m' }, 'ttl'); // 600
 */
export function seconds(values: Values, name: string): number | undefined {
  const value = str(values, name);
  if (value === undefined) return undefined;
  const match = /^(\d+)(s|m|h|d)?$/.exec(value);
  if (match === null) {
    throw new UsageError(`--${name} takes seconds, or a number with s, m, h or d (e.g. 10m)`);
  }
  return Number(match[1]) * UNITS[(match[2] ?? 's') as keyof typeof UNITS];
}
