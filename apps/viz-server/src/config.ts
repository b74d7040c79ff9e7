import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  type AccessPolicy,
  dsCredentialsJsonSchema,
  loadPolicy,
  PolicyConfigError,
} from '@pp-embed/access-policy';
import * as z from 'zod';
import { clientAddressResolver } from './http/client-ip.js';
import { ROUTE_REFS } from './routes/catalog.js';
import { openDataset } from './termdb/dataset.js';
import { TermdbError } from './termdb/errors.js';
import type { TermdbDataset } from './termdb/dataset.js';

/** One mistake in serverconfig.json: where, and what was expected. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/**
 * serverconfig.json cannot be used. Carries every problem found, so an operator fixes the file in one pass; the
 * server prints them and exits non-zero.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];

  constructor(file: string, problems: readonly ConfigProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`${file} has ${count}:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    this.problems = problems;
  }
}

const LABEL = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

const datasetSchema = z
  .strictObject({
    label: z.string().regex(LABEL, { error: 'expected a dataset label: letters, digits, "_", "." or "-"' }),
    genome: z.string().min(1, { error: 'expected a genome build such as "hg38"' }),
    file: z.string().min(1, { error: 'expected the path of a termdb SQLite file' }),
    name: z.string().min(1).optional().meta({ description: 'A display name; the label by default.' }),
    minSampleSize: z.number().int().min(1).max(10_000).optional().meta({
      description: 'Aggregated counts below this are suppressed for callers without a verified token.',
    }),
    optional: z
      .boolean()
      .optional()
      .meta({ description: 'Skip this dataset, with a warning, when its file is missing.' }),
  })
  .meta({ title: 'A termdb dataset' });

const origin = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
    } catch {
      return false;
    }
  },
  { error: 'expected an origin such as "https://portal.example.org" (scheme, host, optional port; no path)' },
);

/** serverconfig.json, except dsCredentials, which the access-policy package reads and checks. */
export const serverConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    host: z.string().min(1).optional().meta({ description: 'Address to listen on. Default 127.0.0.1.' }),
    port: z.number().int().min(0).max(65_535).optional().meta({ description: 'Port. Default 3001.' }),
    datasets: z.array(datasetSchema).min(1, { error: 'expected at least one dataset' }),
    dsCredentials: z.unknown().optional(),
    trustProxy: z.array(z.string()).optional().meta({
      description: 'Addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is believed.',
    }),
    corsOrigins: z
      .array(origin)
      .optional()
      .meta({ description: 'Origins allowed by CORS besides the embedders named in dsCredentials.' }),
    tokenLeeway: z
      .number()
      .int()
      .min(0)
      .max(60)
      .optional()
      .meta({ description: 'Clock skew tolerated on token times, in seconds. Default 5.' }),
  })
  .meta({ title: 'pp-embed visualization server configuration' });

export type ServerConfigInput = z.infer<typeof serverConfigSchema>;

/**
 * The JSON Schema of the whole serverconfig.json, for editors. dsCredentials is the access-policy package's.
 *
 * @example
 * writeFileSync('serverconfig.schema.json', JSON.stringify(serverConfigJsonSchema(), null, 2));
 */
export function serverConfigJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(serverConfigSchema, { target: 'draft-2020-12', unrepresentable: 'any' }) as {
    properties: Record<string, unknown>;
  };
  const { $schema: _ignored, ...credentials } = dsCredentialsJsonSchema();
  schema.properties.dsCredentials = credentials;
  return schema;
}

/** A configuration ready to serve: datasets open, policy built, addresses parsed. */
export interface LoadedConfig {
  file: string;
  host: string;
  port: number;
  datasets: ReadonlyMap<string, TermdbDataset>;
  policy: AccessPolicy;
  corsOrigins: ReadonlySet<string>;
  clientAddress: ReturnType<typeof clientAddressResolver>;
  /** Legal but worth a look; printed at start. */
  warnings: readonly string[];
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

function formatZodPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    out +=
      typeof segment === 'number' ? `[${segment}]` : out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * Reads, checks and opens everything serverconfig.json names. Throws a {@link ConfigError} listing every problem
 * with its JSON path (the file itself, each dataset, and every dsCredentials entry); nothing is half-loaded.
 *
 * @example
 * const config = loadConfig('serverconfig.json');
 * serve({ fetch: createApp({ ...config, bundle, log, audit }).fetch, port: config.port });
 */
export function loadConfig(file: string, options: LoadOptions = {}): LoadedConfig {
  const path = resolve(file);
  const baseDir = dirname(path);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const message = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : 'not valid JSON';
    throw new ConfigError(file, [{ path: '(root)', message }]);
  }
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  // "#" keys are comments at the top level too, as in ProteinPaint's serverconfig.json.
  const input =
    typeof raw === 'object' && raw !== null && !Array.isArray(raw)
      ? Object.fromEntries(Object.entries(raw).filter(([key]) => !key.startsWith('#')))
      : raw;
  // Each setting, and each dataset, is checked on its own so that one mistake does not hide the others.
  const record: Record<string, unknown> =
    typeof input === 'object' && input !== null && !Array.isArray(input)
      ? (input as Record<string, unknown>)
      : {};
  if (record !== input) problems.push({ path: '(root)', message: 'expected a JSON object' });
  const shape = serverConfigSchema.shape;
  const check = <K extends keyof typeof shape>(key: K): z.infer<(typeof shape)[K]> | undefined => {
    const result = shape[key].safeParse(record[key]);
    if (result.success) return result.data as z.infer<(typeof shape)[K]>;
    for (const issue of result.error.issues)
      problems.push({ path: formatZodPath([key, ...issue.path]), message: issue.message });
    return undefined;
  };
  for (const key of Object.keys(record)) {
    if (!Object.hasOwn(shape, key)) problems.push({ path: key, message: 'is not a known setting' });
  }
  const host = check('host');
  const port = check('port');
  const trustProxy = check('trustProxy');
  const corsOrigins = check('corsOrigins');
  const tokenLeeway = check('tokenLeeway');
  const datasetEntries: (z.infer<typeof datasetSchema> | undefined)[] = [];
  if (!Array.isArray(record.datasets) || record.datasets.length === 0) {
    problems.push({ path: 'datasets', message: 'expected at least one dataset' });
  } else {
    record.datasets.forEach((entry: unknown, i) => {
      const result = datasetSchema.safeParse(entry);
      if (result.success) datasetEntries.push(result.data);
      else {
        datasetEntries.push(undefined);
        for (const issue of result.error.issues) {
          const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
          for (const key of keys) {
            problems.push({
              path: formatZodPath(['datasets', i, ...issue.path, ...(key === undefined ? [] : [key])]),
              message: key === undefined ? issue.message : 'is not a known setting',
            });
          }
        }
      }
    });
  }

  let policy: AccessPolicy | undefined;
  try {
    policy = loadPolicy(record.dsCredentials, {
      baseDir,
      routes: ROUTE_REFS,
      ...(options.env !== undefined && { env: options.env }),
      ...(options.now !== undefined && { now: options.now }),
      ...(tokenLeeway !== undefined && { leewaySeconds: tokenLeeway }),
    });
    for (const warning of policy.warnings) warnings.push(`${warning.path}: ${warning.message}`);
  } catch (error) {
    if (!(error instanceof PolicyConfigError)) throw error;
    problems.push(...error.problems);
  }

  let clientAddress: LoadedConfig['clientAddress'] | undefined;
  try {
    clientAddress = clientAddressResolver(trustProxy ?? []);
  } catch (error) {
    problems.push({ path: 'trustProxy', message: (error as Error).message });
  }

  const datasets = new Map<string, TermdbDataset>();
  {
    datasetEntries.forEach((entry, i) => {
      if (entry === undefined) return;
      const where = `datasets[${i}]`;
      if (datasets.has(entry.label)) {
        problems.push({ path: `${where}.label`, message: `"${entry.label}" is used by another dataset` });
        return;
      }
      const datasetFile = isAbsolute(entry.file) ? entry.file : resolve(baseDir, entry.file);
      if (!existsSync(datasetFile)) {
        if (entry.optional === true)
          warnings.push(`${where}.file: ${datasetFile} not found; ${entry.label} is skipped`);
        else problems.push({ path: `${where}.file`, message: `${datasetFile} not found` });
        return;
      }
      try {
        datasets.set(
          entry.label,
          openDataset({
            label: entry.label,
            genome: entry.genome,
            file: datasetFile,
            minSampleSize: entry.minSampleSize ?? null,
          }),
        );
      } catch (error) {
        if (!(error instanceof TermdbError)) throw error;
        problems.push({ path: `${where}.file`, message: error.message });
      }
    });
    if (problems.length === 0 && datasets.size === 0) {
      problems.push({ path: 'datasets', message: 'none of the datasets could be opened' });
    }
  }

  if (problems.length > 0 || policy === undefined || clientAddress === undefined) {
    for (const dataset of datasets.values()) dataset.close();
    throw new ConfigError(file, problems);
  }
  return {
    file: path,
    host: host ?? '127.0.0.1',
    port: port ?? 3001,
    datasets,
    policy,
    corsOrigins: new Set(corsOrigins ?? []),
    clientAddress,
    warnings,
  };
}
