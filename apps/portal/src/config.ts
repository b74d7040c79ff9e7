/**
 * The portal's configuration: the one module that reads `process.env` and the command line, once, at start.
 * Every setting has an environment variable and a flag (the flag wins); every mistake is reported with both
 * names, all at once, before the server opens a port.
 * @module
 */
import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type ProxyTrust, proxyTrust, trustedProxyProblems } from '@pp-embed/client-address';
import { createSigner, readSecret, secretProblem } from '@pp-embed/dataset-token';
import { readCredentialFile } from '@pp-embed/embedder-registry';
import { ConfigError, type ConfigProblem, Secret } from '@pp-embed/server-runtime';
import { DATASET_LABEL } from '@pp-embed/viz-api';
import * as z from 'zod';
import { type InstitutionConfig, readInstitution } from './auth/institution.js';
import { MAX_TOKEN_TTL_SECONDS } from './db/revocations.js';
import type { StoreLocation } from './db/store.js';

export { ConfigError, Secret };

/**
 * Which client address goes into the token's `ip` claim: `client` pins the token to the address the request came
 * from; `none` leaves the claim out.
 *
 * @example
 * const mode: TokenIpMode = 'client';
 */
export type TokenIpMode = 'client' | 'none';

/**
 * How tokens are signed: HS256 with the secret shared with the visualization server, ES256 with the private
 * keys in a directory (one PEM per key; the last in name order signs, the others are published until the tokens
 * they signed have expired), or with the credential file the visualization server's `pp-token embedder add`
 * printed (`registered`: its algorithm, its `kid` in every token's header, its secret or private key).
 *
 * @example
 * const signing: SigningConfig = { algorithm: 'ES256', keysDir: '/etc/pp-portal/keys' };
 */
export type SigningConfig =
  | { algorithm: 'HS256'; secret: Secret }
  | { algorithm: 'ES256'; keysDir: string }
  | { algorithm: 'registered'; credential: RegisteredCredential };

/**
 * What the portal signs with when it was registered with `pp-token embedder add`: the registry entry it is, and
 * its key, kept as a {@link Secret} (the HS256 secret's bytes, or the private key's PEM).
 *
 * @example
 * const credential: RegisteredCredential = { id: 'portal.example.org', alg: 'HS256', kid: '20260523-k3x9qa', key };
 */
export interface RegisteredCredential {
  readonly id: string;
  readonly alg: 'HS256' | 'ES256' | 'RS256';
  readonly kid: string;
  readonly key: Secret;
}

/**
 * A dataset the portal offers a page for.
 *
 * @example
 * const demo: DatasetEntry = { label: 'PPDemo', genome: 'hg38' };
 */
export interface DatasetEntry {
  label: string;
  /** Shown beside the dataset and passed to the widget; the visualization server's value when absent. */
  genome?: string | undefined;
}

/**
 * The parsed, checked configuration.
 *
 * @example
 * const config = loadConfig(process.argv.slice(2), process.env);
 * if ('config' in config) console.log(config.config.port);
 */
export interface PortalConfig {
  host: string;
  port: number;
  /** The visualization server the pages load the widget from, without a trailing slash. */
  vizServerUrl: string;
  /** Where users, grants, sessions and revocations live: the SQLite file, or PostgreSQL when a URL is set. */
  store: StoreLocation;
  signing: SigningConfig;
  tokenTtlSeconds: number;
  tokenIp: TokenIpMode;
  /**
   * The reverse proxies in front: the client is the right-most `X-Forwarded-For` hop that is not one of them, and
   * their `X-Forwarded-Proto` and `-Host` are believed. The visualization server's `trustProxy` reads the same way,
   * so a token is pinned to the address the server will check.
   */
  proxies: ProxyTrust;
  /** The origin browsers use to reach the portal, when it differs from what the request says (a proxy). */
  publicUrl: string | undefined;
  datasets: readonly DatasetEntry[];
  sessionIdleSeconds: number;
  sessionMaxAgeSeconds: number;
  /** Create the demo users at start and print their logins. */
  seedDemo: boolean;
  /** On SIGTERM, how long requests in flight may run before their connections are closed, in seconds. */
  drainSeconds: number;
  /** The institution users may sign in with (`--institution`), read and checked. */
  institution: InstitutionConfig | undefined;
}

interface Setting {
  env: string;
  flag: string;
  boolean?: true;
  help: string;
}

const SETTINGS = {
  host: { env: 'PP_PORTAL_HOST', flag: 'host', help: 'Address to listen on. Default 127.0.0.1.' },
  port: { env: 'PORT', flag: 'port', help: 'Port to listen on; 0 picks a free one. Default 3000.' },
  vizServerUrl: {
    env: 'PP_VIZ_SERVER_URL',
    flag: 'viz-server',
    help: 'The visualization server. Default http://127.0.0.1:3001.',
  },
  databasePath: {
    env: 'PP_PORTAL_DB',
    flag: 'db',
    help: 'SQLite file for users, grants, sessions and revocations. Default portal.db.',
  },
  databaseUrl: {
    env: 'PP_PORTAL_DATABASE_URL',
    flag: 'database-url',
    help: 'PostgreSQL instead of SQLite, shared by several portal replicas: postgres://user@host/db.',
  },
  algorithm: { env: 'PP_PORTAL_SIGNING', flag: 'signing', help: 'HS256 (default) or ES256.' },
  secret: { env: 'PP_DS_SECRET', flag: '', help: 'HS256: the secret shared with the visualization server.' },
  secretFile: {
    env: 'PP_DS_SECRET_FILE',
    flag: 'secret-file',
    help: 'HS256: a file holding the shared secret instead.',
  },
  credentialFile: {
    env: 'PP_PORTAL_CREDENTIAL_FILE',
    flag: 'credential-file',
    help: 'The credential file the visualization server printed (pp-token embedder add): how to sign, instead of --signing and its keys.',
  },
  keysDir: {
    env: 'PP_PORTAL_KEYS_DIR',
    flag: 'keys-dir',
    help: 'ES256: directory of private keys, one PEM each; the last in name order signs.',
  },
  tokenTtlSeconds: {
    env: 'PP_PORTAL_TOKEN_TTL',
    flag: 'token-ttl',
    help: 'Token lifetime in seconds, 60 to 3600. Default 600.',
  },
  tokenIp: {
    env: 'PP_PORTAL_TOKEN_IP',
    flag: 'token-ip',
    help: 'client (default: pin tokens to the client address) or none.',
  },
  trustProxy: {
    env: 'PP_PORTAL_TRUST_PROXY',
    flag: 'trust-proxy',
    help: 'Reverse proxies in front, addresses or CIDR ranges separated by commas (e.g. 10.0.0.0/8): the client is the right-most X-Forwarded-For hop that is not one of them.',
  },
  publicUrl: {
    env: 'PP_PORTAL_PUBLIC_URL',
    flag: 'public-url',
    help: 'The origin browsers use, e.g. https://portal.example.org (https gives Secure cookies).',
  },
  datasets: {
    env: 'PP_PORTAL_DATASETS',
    flag: 'datasets',
    help: 'Datasets with a page, label[:genome] separated by commas. Default PPDemo:hg38,TermdbTest:hg38.',
  },
  sessionIdleSeconds: {
    env: 'PP_PORTAL_SESSION_IDLE',
    flag: 'session-idle',
    help: 'Seconds without a request after which a session ends. Default 1800.',
  },
  sessionMaxAgeSeconds: {
    env: 'PP_PORTAL_SESSION_MAX_AGE',
    flag: 'session-max-age',
    help: 'Seconds after sign-in at which a session ends regardless. Default 43200.',
  },
  drainSeconds: {
    env: 'PP_PORTAL_DRAIN_SECONDS',
    flag: 'drain-seconds',
    help: 'On SIGTERM, how long requests in flight may run before the portal closes them and exits, 0 to 300. Default 10.',
  },
  institution: {
    env: 'PP_PORTAL_INSTITUTION',
    flag: 'institution',
    help: 'A JSON file naming an OpenID Provider users may sign in with, and what its groups and visas grant.',
  },
  seedDemo: {
    env: 'PP_PORTAL_SEED_DEMO',
    flag: 'seed-demo',
    boolean: true,
    help: 'Create the demo users and grants at start and print their logins.',
  },
} as const satisfies Record<string, Setting>;

type SettingName = keyof typeof SETTINGS;

const SUBJECT = 'The portal configuration';

function wholeNumber(min: number, max: number, fallback: number) {
  const message = `expected a whole number from ${min} to ${max}`;
  return z
    .string()
    .trim()
    .regex(/^\d{1,9}$/, { error: message })
    .transform(Number)
    .pipe(z.number().min(min, { error: message }).max(max, { error: message }))
    .default(fallback);
}

const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' })
    .transform((v) => v === 'true' || v === '1' || v === 'yes')
    .default(fallback);

function httpUrl(what: string, originOnly: boolean) {
  return z.string().transform((value, ctx) => {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      ctx.addIssue({ code: 'custom', message: `expected an http(s) URL for ${what}` });
      return z.NEVER;
    }
    if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
      ctx.addIssue({ code: 'custom', message: 'expected a URL without credentials, query or fragment' });
      return z.NEVER;
    }
    if (originOnly && url.pathname !== '/') {
      ctx.addIssue({ code: 'custom', message: 'expected an origin, e.g. https://portal.example.org' });
      return z.NEVER;
    }
    return originOnly ? url.origin : url.href.replace(/\/+$/, '');
  });
}

const datasetList = z.string().transform((value, ctx) => {
  const entries: DatasetEntry[] = [];
  for (const item of value.split(',').map((s) => s.trim())) {
    const [label = '', genome, extra] = item.split(':');
    if (
      !DATASET_LABEL.test(label) ||
      extra !== undefined ||
      (genome !== undefined && !/^[\w.-]{1,50}$/.test(genome))
    ) {
      ctx.addIssue({ code: 'custom', message: `"${item}" is not label[:genome], e.g. PPDemo:hg38` });
      return z.NEVER;
    }
    if (entries.some((e) => e.label === label)) {
      ctx.addIssue({ code: 'custom', message: `${label} is listed twice` });
      return z.NEVER;
    }
    entries.push(genome === undefined ? { label } : { label, genome });
  }
  return entries;
});

const schema = z.object({
  host: z.string().trim().min(1, { error: 'expected an address such as 127.0.0.1' }).default('127.0.0.1'),
  port: wholeNumber(0, 65_535, 3000),
  vizServerUrl: httpUrl('the visualization server', false).default('http://127.0.0.1:3001'),
  databasePath: z.string().min(1, { error: 'expected a file path' }).default('portal.db'),
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\/./, { error: 'expected a PostgreSQL URL, postgres://user@host:port/database' })
    .optional(),
  algorithm: z.enum(['HS256', 'ES256'], { error: 'expected HS256 or ES256' }).default('HS256'),
  secret: z.string().optional(),
  secretFile: z.string().min(1).optional(),
  credentialFile: z.string().min(1).optional(),
  keysDir: z.string().min(1).optional(),
  tokenTtlSeconds: wholeNumber(60, MAX_TOKEN_TTL_SECONDS, 600),
  tokenIp: z.enum(['client', 'none'], { error: 'expected client or none' }).default('client'),
  trustProxy: z
    .string()
    .transform((value, ctx) => {
      const ranges = value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      for (const { index, message } of trustedProxyProblems(ranges)) {
        ctx.addIssue({ code: 'custom', message: `"${ranges[index]}": ${message}` });
      }
      return ranges;
    })
    .default([]),
  publicUrl: httpUrl('the portal', true).optional(),
  datasets: datasetList.default([
    { label: 'PPDemo', genome: 'hg38' },
    { label: 'TermdbTest', genome: 'hg38' },
  ]),
  sessionIdleSeconds: wholeNumber(60, 7 * 86_400, 1800),
  sessionMaxAgeSeconds: wholeNumber(300, 30 * 86_400, 43_200),
  seedDemo: flag(false),
  drainSeconds: wholeNumber(0, 300, 10),
  institution: z.string().min(1).optional(),
});

function names(setting: SettingName): string {
  const s: Setting = SETTINGS[setting];
  return s.flag === '' ? s.env : `${s.env} (--${s.flag})`;
}

/**
 * The text of `--help`.
 *
 * @example
 * console.log(configHelp());
 */
export function configHelp(): string {
  const rows = Object.values(SETTINGS).map((s: Setting) => {
    const left = s.flag === '' ? s.env : `--${s.flag}${s.boolean ? '' : ' VALUE'}, ${s.env}`;
    return `  ${left.padEnd(44)} ${s.help}`;
  });
  return ['pp-portal: the reference portal', '', 'Settings (flag or environment variable):', ...rows].join(
    '\n',
  );
}

/**
 * Reads the configuration from the command line and the environment. Returns `{ help }` for `--help`; throws a
 * {@link ConfigError} listing every problem otherwise. The HS256 secret is read (from `PP_DS_SECRET` or the
 * file) and checked for strength here, so a weak one stops the portal before it starts.
 *
 * @example
 * const result = loadConfig(process.argv.slice(2), process.env);
 * if ('help' in result) console.log(result.help);
 * else serve(result.config);
 */
export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd: string = process.cwd(),
): { help: string } | { config: PortalConfig } {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const s of Object.values(SETTINGS) as Setting[]) {
    if (s.flag !== '') options[s.flag] = { type: s.boolean ? 'boolean' : 'string' };
  }
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Record<
      string,
      string | boolean | undefined
    >;
  } catch (error) {
    throw new ConfigError(SUBJECT, [{ path: 'command line', message: (error as Error).message }]);
  }
  if (flags.help === true) return { help: configHelp() };

  const raw: Partial<Record<SettingName, string>> = {};
  for (const [name, s] of Object.entries(SETTINGS) as [SettingName, Setting][]) {
    const fromFlag = s.flag === '' ? undefined : flags[s.flag];
    const fromEnv = env[s.env];
    if (fromFlag !== undefined) raw[name] = String(fromFlag);
    else if (fromEnv !== undefined && fromEnv !== '') raw[name] = fromEnv;
  }

  const parsed = schema.safeParse(raw);
  const problems: ConfigProblem[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path[0];
      const setting =
        typeof key === 'string' && key in SETTINGS ? names(key as SettingName) : 'configuration';
      // Never echoed: the secret, and a database URL, which may carry a password.
      const given =
        typeof key === 'string' && key !== 'secret' && key !== 'databaseUrl'
          ? raw[key as SettingName]
          : undefined;
      problems.push({
        path: setting,
        message: given === undefined ? issue.message : `${issue.message} (got "${given}")`,
      });
    }
  }
  const path = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));

  // Checked even when other values are wrong, so that one run reports every problem.
  const algorithm = parsed.success ? parsed.data.algorithm : (raw.algorithm ?? 'HS256');
  let signing: SigningConfig | undefined;
  if (raw.credentialFile !== undefined) {
    signing = registeredSigning(path(raw.credentialFile), raw, problems);
  } else if (algorithm === 'HS256') {
    if (raw.keysDir !== undefined) {
      problems.push({ path: names('keysDir'), message: 'is for ES256; HS256 signs with PP_DS_SECRET' });
    }
    signing = hsSigning(
      raw.secret,
      raw.secretFile === undefined ? undefined : path(raw.secretFile),
      problems,
    );
  } else if (algorithm === 'ES256') {
    if (raw.secret !== undefined || raw.secretFile !== undefined) {
      problems.push({
        path: raw.secret !== undefined ? names('secret') : names('secretFile'),
        message: 'is for HS256; ES256 signs with the keys in PP_PORTAL_KEYS_DIR',
      });
    }
    if (raw.keysDir === undefined) {
      problems.push({ path: names('keysDir'), message: 'is required with ES256' });
    } else {
      signing = { algorithm: 'ES256', keysDir: path(raw.keysDir) };
    }
  }
  if (!parsed.success || signing === undefined) throw new ConfigError(SUBJECT, problems);
  const v = parsed.data;
  if (v.sessionIdleSeconds > v.sessionMaxAgeSeconds) {
    problems.push({
      path: names('sessionIdleSeconds'),
      message: 'must not be longer than the session max age',
    });
  }
  let institution: InstitutionConfig | undefined;
  if (v.institution !== undefined) {
    try {
      institution = readInstitution(path(v.institution), env as NodeJS.ProcessEnv);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const problem of error.problems) {
        problems.push({ path: `${names('institution')} ${problem.path}`, message: problem.message });
      }
    }
  }
  if (problems.length > 0 || signing === undefined) throw new ConfigError(SUBJECT, problems);

  return {
    config: {
      host: v.host,
      port: v.port,
      vizServerUrl: v.vizServerUrl,
      store:
        v.databaseUrl !== undefined
          ? { kind: 'postgres', url: v.databaseUrl }
          : { kind: 'sqlite', path: v.databasePath === ':memory:' ? v.databasePath : path(v.databasePath) },
      signing,
      tokenTtlSeconds: v.tokenTtlSeconds,
      tokenIp: v.tokenIp,
      proxies: proxyTrust(v.trustProxy),
      publicUrl: v.publicUrl,
      datasets: v.datasets,
      sessionIdleSeconds: v.sessionIdleSeconds,
      sessionMaxAgeSeconds: v.sessionMaxAgeSeconds,
      seedDemo: v.seedDemo,
      drainSeconds: v.drainSeconds,
      institution,
    },
  };
}

/** The credential file of a registered portal; the other ways to sign must not be set beside it. */
function registeredSigning(
  file: string,
  raw: Partial<Record<SettingName, string>>,
  problems: ConfigProblem[],
): SigningConfig | undefined {
  const beside = (['algorithm', 'secret', 'secretFile', 'keysDir'] as const).filter(
    (s) => raw[s] !== undefined,
  );
  for (const setting of beside) {
    problems.push({
      path: names(setting),
      message: `is not used with ${names('credentialFile')}; remove it`,
    });
  }
  let credential;
  try {
    credential = readCredentialFile(file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const p of error.problems) {
      problems.push({ path: `${names('credentialFile')} ${p.path}`, message: p.message });
    }
    return undefined;
  }
  const text = credential.secret ?? credential.privateKey ?? '';
  try {
    // Checked now, so that a weak secret or an unusable key stops the portal before it starts.
    createSigner({
      algorithm: credential.alg,
      key: credential.alg === 'HS256' ? { secret: text } : { privateKey: text },
      kid: credential.kid,
    });
  } catch (error) {
    problems.push({
      path: names('credentialFile'),
      message: `cannot sign with it: ${(error as Error).message}`,
    });
    return undefined;
  }
  if (beside.length > 0) return undefined;
  return {
    algorithm: 'registered',
    credential: {
      id: credential.id,
      alg: credential.alg,
      kid: credential.kid,
      key: new Secret(Buffer.from(text, 'utf8')),
    },
  };
}

function hsSigning(
  value: string | undefined,
  file: string | undefined,
  problems: ConfigProblem[],
): SigningConfig | undefined {
  if (value !== undefined && file !== undefined) {
    problems.push({
      path: names('secretFile'),
      message: 'set PP_DS_SECRET or PP_DS_SECRET_FILE, not both',
    });
    return undefined;
  }
  if (value === undefined && file === undefined) {
    problems.push({
      path: names('secret'),
      message: 'is required with HS256 (or PP_DS_SECRET_FILE); generate one with `pp-token secret`',
    });
    return undefined;
  }
  const setting = file === undefined ? names('secret') : names('secretFile');
  let bytes: Uint8Array;
  try {
    bytes = file === undefined ? Buffer.from(value as string, 'utf8') : readSecret({ file });
  } catch (error) {
    problems.push({ path: setting, message: (error as Error).message });
    return undefined;
  }
  const weak = secretProblem(bytes, 'HS256');
  if (weak !== undefined) {
    problems.push({ path: setting, message: `is not a usable HS256 secret: ${weak}` });
    return undefined;
  }
  return { algorithm: 'HS256', secret: new Secret(bytes) };
}
