import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  type AccessPolicy,
  type DatasetDisclosure,
  dsCredentialsJsonSchema,
  loadPolicy,
  loadTrustedIssuers,
  passportsSchema,
  type TrustedIssuer,
  trustedIssuerSchema,
} from '@pp-embed/access-policy';
import type { IssuerKeysOptions, RemoteJwksOptions } from '@pp-embed/dataset-token';
import { proxyTrust, type ProxyTrust, trustedProxyProblems } from '@pp-embed/client-address';
import { closestName, ConfigError, type ConfigProblem, formatPath } from '@pp-embed/server-runtime';
import { DATASET_LABEL, DATASET_LABEL_RULE } from '@pp-embed/viz-api';
import * as z from 'zod';
import type { RevocationFeeds } from '@pp-embed/revocation';
import type { Logger } from '@pp-embed/server-runtime';
import { disclosureSchema, readDisclosure } from './disclosure.js';
import { readRevocationFeeds, reportIssues, revocationFeedsSchema } from './revocation-feeds.js';
import {
  embedderRegistrySchema,
  type LoadedRegistry,
  loadedRegistry,
  readRegistrySettings,
  registeredCredentials,
  registryProblems,
} from './embedder-registry.js';
import { readRegistry, type Registry } from '@pp-embed/embedder-registry';
import { readConfigFile } from './read.js';

const datasetSchema = z
  .strictObject({
    label: z.string().regex(DATASET_LABEL, { error: `expected ${DATASET_LABEL_RULE}` }),
    genome: z.string().min(1, { error: 'expected a genome build such as "hg38"' }),
    file: z.string().min(1, { error: 'expected the path of a termdb SQLite file' }),
    name: z.string().min(1).optional().meta({ description: 'A display name; the label by default.' }),
    minSampleSize: z.number().int().min(1).max(10_000).optional().meta({
      description:
        'Short for disclosure: {"anonymous": {"threshold": N}}: every tier hides aggregated counts below N, with complementary suppression (callers who may read the rows see exact counts).',
    }),
    // Checked by readDisclosure, which names each mistake with its path; the JSON Schema takes disclosureSchema.
    disclosure: z.unknown().optional(),
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

/** The longest clock skew an operator may allow on token times, in seconds. */
const MAX_LEEWAY = 60;
/** The longest drain an operator may ask for, in seconds: an orchestrator's own kill timeout is rarely longer. */
const MAX_DRAIN = 300;

/** serverconfig.json, except dsCredentials, which the access-policy package reads and checks. */
export const serverConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    host: z.string().min(1).optional().meta({ description: 'Address to listen on. Default 127.0.0.1.' }),
    port: z
      .int({ error: 'expected a port number from 0 to 65535' })
      .min(0, { error: 'expected a port number from 0 to 65535' })
      .max(65_535, { error: 'expected a port number from 0 to 65535' })
      .optional()
      .meta({ description: 'Port. Default 3001.' }),
    datasets: z.array(datasetSchema).min(1, { error: 'expected at least one dataset' }),
    dsCredentials: z.unknown().optional().meta({
      description:
        'Access to datasets per route and embedding portal (ProteinPaint dsCredentials), or the path of a JSON file that holds it, relative to this file.',
    }),
    trustedIssuers: z.unknown().optional(),
    passports: z.unknown().optional(),
    trustProxy: z.array(z.string()).optional().meta({
      description:
        'Addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is believed: the client is the right-most hop that is not one of them. The portal takes the same list.',
    }),
    corsOrigins: z
      .array(origin)
      .optional()
      .meta({ description: 'Origins allowed by CORS besides the embedders named in dsCredentials.' }),
    tokenLeeway: z
      .int({ error: `expected a whole number of seconds from 0 to ${MAX_LEEWAY}` })
      .min(0, { error: `expected a whole number of seconds from 0 to ${MAX_LEEWAY}` })
      .max(MAX_LEEWAY, { error: `expected a whole number of seconds from 0 to ${MAX_LEEWAY}` })
      .optional()
      .meta({ description: 'Clock skew tolerated on token times, in seconds. Default 5.' }),
    drainSeconds: z
      .int({ error: `expected a whole number of seconds from 0 to ${MAX_DRAIN}` })
      .min(0, { error: `expected a whole number of seconds from 0 to ${MAX_DRAIN}` })
      .max(MAX_DRAIN, { error: `expected a whole number of seconds from 0 to ${MAX_DRAIN}` })
      .optional()
      .meta({
        description:
          'On SIGTERM, how long the server waits for requests in flight before it closes their connections and exits. Default 10.',
      }),
    revocationFeeds: revocationFeedsSchema.optional(),
    embedderRegistry: embedderRegistrySchema.optional(),
  })
  .meta({ title: 'pp-embed visualization server configuration' });

/**
 * The JSON Schema of the whole serverconfig.json, for editors; dsCredentials is the access-policy package's.
 *
 * @example
 * writeFileSync('serverconfig.schema.json', JSON.stringify(serverConfigJsonSchema(), null, 2));
 */
export function serverConfigJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(serverConfigSchema, { target: 'draft-2020-12', unrepresentable: 'any' }) as {
    properties: Record<string, unknown>;
  };
  const { $schema: _ignored, title, description, ...credentials } = dsCredentialsJsonSchema();
  schema.properties.dsCredentials = {
    title,
    description,
    anyOf: [
      credentials,
      {
        type: 'string',
        minLength: 1,
        description:
          'The path of a JSON file that holds the block, relative to this file (as in ProteinPaint).',
      },
    ],
  };
  const section = (zod: z.ZodType) => {
    const { $schema: _draft, ...rest } = z.toJSONSchema(zod, { target: 'draft-2020-12' }) as Record<
      string,
      unknown
    >;
    return rest;
  };
  schema.properties.trustedIssuers = {
    type: 'object',
    title: 'Trusted OpenID issuers',
    description:
      'OpenID Providers whose access tokens or GA4GH passports credential entries may accept (their "issuers"), by name.',
    additionalProperties: section(trustedIssuerSchema),
  };
  schema.properties.passports = section(passportsSchema);
  const datasets = schema.properties.datasets as { items: { properties: Record<string, unknown> } };
  datasets.items.properties.disclosure = section(disclosureSchema);
  return schema;
}

/**
 * One dataset serverconfig.json declares, with its file resolved against the config's folder.
 *
 * @example
 * const ds: DatasetDeclaration = { label: 'TermdbTest', genome: 'hg38', file: '/data/TermdbTest.db', disclosure, path: 'datasets[0]' };
 */
export interface DatasetDeclaration {
  readonly label: string;
  readonly genome: string;
  /** Absolute path of the termdb SQLite file. */
  readonly file: string;
  readonly name?: string | undefined;
  /** The disclosure rule of each tier of caller (from `disclosure`, or `minSampleSize`), and `sampleRows`. */
  readonly disclosure: DatasetDisclosure;
  /** Where it sits in the file, for messages: `datasets[0]`. */
  readonly path: string;
}

/**
 * How the server turns a declaration into a served dataset. The loader calls `open` for every declared
 * dataset whose file exists, reports what it throws at `datasets[i].file`, and closes what it opened when the
 * configuration as a whole cannot be used.
 */
export interface DatasetOpener<D> {
  open(declaration: DatasetDeclaration): D;
  close(dataset: D): void;
}

/** A configuration ready to serve. `D` is what the opener makes of each dataset. */
export interface ServerConfig<D = DatasetDeclaration> {
  /** The config file, absolute. */
  readonly file: string;
  readonly host: string;
  readonly port: number;
  /** Label → dataset, in file order; optional datasets whose file is missing are left out. */
  readonly datasets: ReadonlyMap<string, D>;
  readonly policy: AccessPolicy;
  /** The trusted proxies, and the client address that follows from them. */
  readonly proxies: ProxyTrust;
  readonly corsOrigins: ReadonlySet<string>;
  /** Clock skew tolerated on token times, in seconds, as every verifier of `policy` applies it. */
  readonly tokenLeeway: number;
  /** How long a shutdown waits for requests in flight, in seconds. */
  readonly drainSeconds: number;
  /** Legal but worth a look; printed at start. */
  readonly warnings: readonly string[];
  /** The portals' revocation feeds (`revocationFeeds`), not started; undefined when none is configured. */
  readonly revocations: RevocationFeeds | undefined;
  /**
   * The embedder registry (`embedderRegistry`), whose entries are in `policy`; undefined when none is named. Ask
   * every verified token of `policy` about revocation with `accessRevocations(registry, revocations)`.
   */
  readonly registry: LoadedRegistry | undefined;
}

export interface LoadServerConfigOptions<D> {
  /** Environment for `{"env": "NAME"}` secrets. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Clock for every verifier, in milliseconds (tests freeze it). */
  now?: () => number;
  /** Options for `jwks` URLs (timeouts; an injected fetch in tests). */
  remoteJwks?: RemoteJwksOptions;
  /** Options for trusted issuers' discovery documents and key sets, and visa key sets (timeouts, events). */
  issuerKeys?: IssuerKeysOptions;
  /** Opens each dataset. Without it the datasets are their declarations and their files are not looked at. */
  datasets?: DatasetOpener<D>;
  /** Where the revocation feeds log, and (in tests) how they fetch. */
  revocation?: { logger?: Logger; fetch?: typeof fetch };
  /**
   * The embedder registry to load instead of the file serverconfig.json names: `pp-token embedder` checks a
   * change with the server's loader before writing it.
   */
  registry?: Registry;
}

const DEFAULT_LEEWAY = 5;
const DEFAULT_DRAIN = 10;

/**
 * Reads serverconfig.json in one pass: each setting, each dataset, the trusted proxies and the whole
 * dsCredentials block (with `tokenLeeway` applied to every verifier), collecting every problem with its JSON path
 * and throwing them together as one {@link ConfigError}; nothing is half-loaded. The server and
 * `pp-token explain --config` both read a config through here, so they decide alike.
 *
 * @example
 * const config = loadServerConfig('serverconfig.json', { datasets: { open: openDataset, close: (d) => d.close() } });
 * serve({ fetch: createApp({ ...config }).fetch, port: config.port });
 */
export function loadServerConfig<D = DatasetDeclaration>(
  file: string,
  options: LoadServerConfigOptions<D> = {},
): ServerConfig<D> {
  const path = resolve(file);
  const baseDir = dirname(path);
  const raw = readConfigFile(file);
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const report = (segments: readonly PropertyKey[], message: string): void => {
    problems.push({ path: formatPath('', segments), message });
  };
  const isRecord = typeof raw === 'object' && raw !== null && !Array.isArray(raw);
  if (!isRecord) report([], 'expected a JSON object');
  // "#" keys are comments at the top level too, as in ProteinPaint's serverconfig.json.
  const record: Record<string, unknown> = isRecord
    ? Object.fromEntries(
        Object.entries(raw as Record<string, unknown>).filter(([key]) => !key.startsWith('#')),
      )
    : {};
  const shape = serverConfigSchema.shape;
  for (const key of Object.keys(record)) {
    if (!Object.hasOwn(shape, key)) report([key], unknownSetting(key, Object.keys(shape)));
  }
  const check = <K extends keyof typeof shape>(key: K): z.infer<(typeof shape)[K]> | undefined => {
    if (record[key] === undefined) return undefined;
    const result = shape[key].safeParse(record[key]);
    if (result.success) return result.data as z.infer<(typeof shape)[K]>;
    for (const issue of result.error.issues) report([key, ...issue.path], issue.message);
    return undefined;
  };
  const host = check('host');
  const port = check('port');
  const corsOrigins = check('corsOrigins');
  const tokenLeeway = check('tokenLeeway') ?? DEFAULT_LEEWAY;
  const drainSeconds = check('drainSeconds') ?? DEFAULT_DRAIN;

  const trustProxy = check('trustProxy') ?? [];
  for (const { index, message } of trustedProxyProblems(trustProxy)) report(['trustProxy', index], message);

  let issuers: ReadonlyMap<string, TrustedIssuer> = new Map();
  try {
    issuers = loadTrustedIssuers(record.trustedIssuers, record.passports, {
      leewaySeconds: tokenLeeway,
      ...(options.now !== undefined && { now: options.now }),
      ...(options.issuerKeys !== undefined && { keys: options.issuerKeys }),
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }

  const declarations = readDatasets(record.datasets, baseDir, report, warnings);

  const registrySettings = readRegistrySettings(
    record.embedderRegistry,
    { baseDir, env: options.env },
    report,
  );
  let registry: Registry | undefined;
  if (registrySettings?.key !== undefined) {
    try {
      registry = options.registry ?? readRegistry(registrySettings.file, registrySettings.key);
      warnings.push(...registry.warnings);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...registryProblems(registrySettings.label, error));
    }
  }

  let policy: AccessPolicy | undefined;
  const credentials = readCredentials(record.dsCredentials, baseDir, report);
  // The one way a policy is built, at start and when the registry changes: the same block, the same settings.
  const buildPolicy = (
    block: NonNullable<typeof credentials>,
    read: Registry | undefined,
    reuse?: AccessPolicy,
  ) =>
    loadPolicy(block.block, {
      issuers,
      baseDir: block.baseDir,
      path: block.path,
      leewaySeconds: tokenLeeway,
      // Every declared label, so that a key for a dataset left out (an optional one whose file is missing) is
      // no error, but a misspelt one is.
      datasets: Array.isArray(record.datasets)
        ? (record.datasets as unknown[]).flatMap((d) =>
            typeof d === 'object' && d !== null && typeof (d as { label?: unknown }).label === 'string'
              ? [(d as { label: string }).label]
              : [],
          )
        : [],
      corsOrigins: corsOrigins ?? [],
      ...(options.env !== undefined && { env: options.env }),
      ...(options.now !== undefined && { now: options.now }),
      ...(options.remoteJwks !== undefined && { remoteJwks: options.remoteJwks }),
      ...(read !== undefined &&
        registrySettings !== undefined && {
          registered: {
            label: registrySettings.label,
            credentials: registeredCredentials(read, registrySettings.label, options.remoteJwks),
          },
        }),
      ...(reuse !== undefined && { reuse }),
    });
  if (credentials !== undefined) {
    try {
      policy = buildPolicy(credentials, registry);
      for (const warning of policy.warnings) warnings.push(`${warning.path}: ${warning.message}`);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }

  const revocations = readRevocationFeeds(
    record.revocationFeeds,
    policy,
    {
      baseDir,
      leewaySeconds: tokenLeeway,
      ...(options.env !== undefined && { env: options.env }),
      ...(options.now !== undefined && { now: options.now }),
      ...(options.remoteJwks !== undefined && { remoteJwks: options.remoteJwks }),
      ...options.revocation,
    },
    report,
  );

  const datasets = new Map<string, D>();
  const opener = options.datasets;
  for (const declaration of declarations) {
    if (opener !== undefined) {
      if (!existsSync(declaration.file)) {
        if (declaration.optional) {
          warnings.push(
            `${declaration.path}.file: ${declaration.file} not found; ${declaration.label} is skipped`,
          );
        } else report([...pathSegments(declaration), 'file'], `${declaration.file} not found`);
        continue;
      }
      try {
        datasets.set(declaration.label, opener.open(declaration));
      } catch (error) {
        report(
          [...pathSegments(declaration), 'file'],
          error instanceof Error ? error.message : String(error),
        );
      }
    } else {
      datasets.set(declaration.label, declaration as unknown as D);
    }
  }
  if (problems.length === 0 && declarations.length > 0 && datasets.size === 0) {
    report(['datasets'], 'none of the datasets could be opened');
  }

  if (problems.length > 0 || policy === undefined) {
    if (opener !== undefined) for (const dataset of datasets.values()) opener.close(dataset);
    throw new ConfigError(file, problems);
  }
  const loaded =
    registry === undefined || registrySettings?.key === undefined || credentials === undefined
      ? undefined
      : loadedRegistry({ ...registrySettings, key: registrySettings.key }, registry, (next, reuse) =>
          buildPolicy(credentials, next, reuse),
        );
  return {
    file: path,
    host: host ?? '127.0.0.1',
    port: port ?? 3001,
    datasets,
    policy,
    registry: loaded,
    proxies: proxyTrust(trustProxy),
    corsOrigins: new Set(corsOrigins ?? []),
    tokenLeeway,
    drainSeconds,
    warnings,
    revocations,
  };
}

/**
 * The dsCredentials block: inline, or (as ProteinPaint allows) the path of a JSON file holding it, read relative
 * to this file's folder. The block's own relative paths (secret and key files) are read relative to the file
 * that holds it, and its problems are named as `dsCredentials(FILE).…`.
 */
function readCredentials(
  value: unknown,
  baseDir: string,
  report: (segments: readonly PropertyKey[], message: string) => void,
): { block: unknown; baseDir: string; path: string } | undefined {
  if (typeof value !== 'string') return { block: value, baseDir, path: 'dsCredentials' };
  if (value === '') {
    report(['dsCredentials'], 'expected the block, or the path of a JSON file that holds it');
    return undefined;
  }
  const file = resolve(baseDir, value);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    report(['dsCredentials'], code === 'ENOENT' ? `${file} not found` : `${file} cannot be read (${code})`);
    return undefined;
  }
  try {
    return { block: JSON.parse(text) as unknown, baseDir: dirname(file), path: `dsCredentials(${value})` };
  } catch {
    report(['dsCredentials'], `${file} is not valid JSON`);
    return undefined;
  }
}

// What a ProteinPaint serverconfig.json holds that this server does not read, and what to do instead.
const PROTEINPAINT_SETTINGS: Readonly<Record<string, string>> = {
  genomes: 'ProteinPaint\'s genomes: list each termdb dataset in "datasets" ({"label", "genome", "file"})',
  allowedEmbedders:
    'ProteinPaint\'s allowedEmbedders: the embedders of dsCredentials are allowed; list others in "corsOrigins"',
};

/** "is not a known setting", with the setting it most likely meant, or ProteinPaint's equivalent. */
function unknownSetting(key: string, known: readonly string[]): string {
  if (Object.hasOwn(PROTEINPAINT_SETTINGS, key)) return PROTEINPAINT_SETTINGS[key] as string;
  const near = closestName(key, known);
  return near === undefined ? 'is not a known setting' : `is not a known setting; did you mean "${near}"?`;
}

type Declared = DatasetDeclaration & { readonly optional: boolean; readonly index: number };

const pathSegments = (d: Declared): PropertyKey[] => ['datasets', d.index];

/** Each dataset checked on its own, so that one mistake does not hide the others. */
function readDatasets(
  value: unknown,
  baseDir: string,
  report: (segments: readonly PropertyKey[], message: string) => void,
  warnings: string[],
): Declared[] {
  if (!Array.isArray(value) || value.length === 0) {
    report(['datasets'], 'expected at least one dataset');
    return [];
  }
  const out: Declared[] = [];
  const labels = new Set<string>();
  value.forEach((entry: unknown, index) => {
    const result = datasetSchema.safeParse(entry);
    if (!result.success) {
      reportIssues(['datasets', index], result.error.issues, report, (key) =>
        unknownSetting(key, Object.keys(datasetSchema.shape)),
      );
      return;
    }
    const d = result.data;
    if (labels.has(d.label)) {
      report(['datasets', index, 'label'], `"${d.label}" is used by another dataset`);
      return;
    }
    labels.add(d.label);
    const disclosure = readDisclosure(d, ['datasets', index], report, warnings);
    if (disclosure === undefined) return;
    out.push({
      label: d.label,
      genome: d.genome,
      file: isAbsolute(d.file) ? d.file : resolve(baseDir, d.file),
      name: d.name,
      disclosure,
      optional: d.optional === true,
      path: formatPath('', ['datasets', index]),
      index,
    });
  });
  return out;
}
