import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  type AccessPolicy,
  accessTable,
  describeCount,
  explain,
  formatAccessTable,
  hashPassword,
  migrateDsCredentials,
} from '@pp-embed/access-policy';
import { accessRevocations, loadServerConfig } from '@pp-embed/server-config';
import { ConfigError } from '@pp-embed/server-runtime';
import {
  ACCESS_CLAIMS,
  type AccessClaim,
  type Algorithm,
  createSigner,
  createVerifier,
  generateKeyPair,
  generateSecret,
  isAlgorithm,
  type SecretSource,
  TokenError,
  type VerificationKey,
} from '@pp-embed/dataset-token';
import { type Io, UsageError } from './io.js';
import { scriptCommands } from './scripts.js';
import { list, required, seconds, str, type Values } from './options.js';

export type { Values };

export interface Command {
  summary: string;
  usage: string;
  options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;
  run(values: Values, positionals: string[], io: Io): number | Promise<number>;
}

function secretSource(values: Values): SecretSource | undefined {
  const env = str(values, 'secret-env');
  const file = str(values, 'secret-file');
  if (env !== undefined && file !== undefined)
    throw new UsageError('give --secret-env or --secret-file, not both');
  if (env !== undefined) return { env };
  if (file !== undefined) return { file };
  return undefined;
}

/** Reads the token from the positional argument, or from standard input when it is `-` or absent. */
export function tokenArgument(positionals: string[], io: Io): string {
  const given = positionals[0];
  const token = (given === undefined || given === '-' ? io.stdin() : given).trim();
  if (token === '') throw new UsageError('give the token as an argument or on standard input');
  return token;
}

/** The verification key from --secret-env/--secret-file, --public-key or --jwks. */
export function verificationKey(values: Values): VerificationKey {
  const secret = secretSource(values);
  const publicKey = str(values, 'public-key');
  const jwks = str(values, 'jwks');
  const given = [secret, publicKey, jwks].filter((v) => v !== undefined).length;
  if (given !== 1)
    throw new UsageError('give exactly one of --secret-env, --secret-file, --public-key, --jwks');
  if (secret !== undefined) return { secret };
  if (publicKey !== undefined) return { publicKeyFile: publicKey };
  return /^https?:\/\//.test(jwks as string) ? { jwksUrl: jwks as string } : { jwksFile: jwks as string };
}

const keyOptions = {
  'secret-env': { type: 'string' },
  'secret-file': { type: 'string' },
} as const;

/** A sentence for a refused token: our message, and the moment of expiry when that is the reason. */
export function describeRefusal(error: TokenError, now: number): string {
  const cause = error.cause as { expiredAt?: Date; date?: Date } | undefined;
  const at = cause?.expiredAt ?? cause?.date;
  if (at instanceof Date) {
    const ago = Math.round((now - at.getTime()) / 1000);
    const when = ago >= 0 ? `${ago} s ago` : `in ${-ago} s`;
    return `${error.code}: ${error.message} (${error.claim} ${at.toISOString()}, ${when})`;
  }
  return `${error.code}: ${error.message}`;
}

/**
 * The dsCredentials block a file holds: the file itself, the `dsCredentials` member of a serverconfig.json, or
 * the file that member names (relative to the config's folder, else to the working directory, where
 * ProteinPaint reads it from).
 */
function readCredentialsBlock(file: string): { block: unknown; from: string } {
  const read = (path: string): unknown => {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as unknown;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UsageError(code === 'ENOENT' ? `${path} not found` : `${path} is not valid JSON`);
    }
  };
  const json = read(file);
  if (typeof json !== 'object' || json === null || !Object.hasOwn(json, 'dsCredentials'))
    return { block: json, from: file };
  const inner = (json as { dsCredentials: unknown }).dsCredentials;
  if (typeof inner !== 'string') return { block: inner, from: file };
  const beside = resolve(dirname(file), inner);
  const path = existsSync(beside) ? beside : resolve(inner);
  return { block: read(path), from: path };
}

/** Whether a route needs a token from an origin, in one sentence: the question asked without a token. */
function requirementAnswer(
  policy: AccessPolicy,
  dataset: string,
  name: string,
  origin: string | undefined,
): string {
  const route = policy.route(name) ?? { name, class: 'sample-level' as const };
  const from = origin === undefined ? 'a request without an Origin' : origin;
  const r = policy.resolve(dataset, route, origin);
  if (r.kind === 'open') return `Answer: ${name} of ${dataset} needs no token from ${from}.`;
  if (r.kind === 'forbidden')
    return `Answer: ${name} of ${dataset} is closed to ${from} (${r.code}), token or not.`;
  const what =
    r.entry.type === 'basic' ? 'the token the login route issues for the dataset password' : 'a token';
  const discovery =
    route.class === 'discovery' ? '; without one it answers, less the token-guarded parts' : '';
  return `Answer: ${name} of ${dataset} needs ${what} from ${from}, in the ${r.entry.headerKey} header${discovery}.`;
}

export const commands: Record<string, Command> = {
  secret: {
    summary: 'print a new random HMAC secret',
    usage: 'pp-token secret [--alg HS256|HS384|HS512]',
    options: { alg: { type: 'string' } },
    run(values, _positionals, io) {
      const alg = str(values, 'alg') ?? 'HS256';
      if (alg !== 'HS256' && alg !== 'HS384' && alg !== 'HS512')
        throw new UsageError('--alg must be HS256, HS384 or HS512');
      io.out(generateSecret(alg));
      return 0;
    },
  },

  keygen: {
    summary: 'write a private PEM key and a public JWKS with its kid',
    usage: 'pp-token keygen --alg ES256|RS256 --out DIR',
    options: { alg: { type: 'string' }, out: { type: 'string' } },
    run(values, _positionals, io) {
      const alg = required(values, 'alg');
      if (alg !== 'ES256' && alg !== 'RS256') throw new UsageError('--alg must be ES256 or RS256');
      const dir = required(values, 'out');
      const privatePath = join(dir, 'private.pem');
      const jwksPath = join(dir, 'jwks.json');
      for (const path of [privatePath, jwksPath]) {
        if (existsSync(path)) throw new UsageError(`${path} exists; choose another --out`);
      }
      const { privateKeyPem, jwks, kid } = generateKeyPair(alg);
      mkdirSync(dir, { recursive: true });
      writeFileSync(privatePath, privateKeyPem, { mode: 0o600 });
      writeFileSync(jwksPath, `${JSON.stringify(jwks, null, 2)}\n`);
      io.out(`wrote ${privatePath} (keep it on the portal's server only)`);
      io.out(`wrote ${jwksPath} (publish it, or give it to the visualization server)`);
      io.out(`kid ${kid}`);
      return 0;
    },
  },

  mint: {
    summary: 'sign a dataset token',
    usage:
      'pp-token mint --alg ALG (--secret-env NAME | --secret-file FILE | --key PRIVATE.pem) --dataset LABEL [--dataset LABEL] --email ID [--ip ADDR] [--ttl 10m] [--client-auth-result JSON] [--access signedIn|granted] [--kid KID] [--issuer ISS] [--audience AUD]',
    options: {
      ...keyOptions,
      alg: { type: 'string' },
      key: { type: 'string' },
      dataset: { type: 'string', multiple: true },
      email: { type: 'string' },
      ip: { type: 'string' },
      ttl: { type: 'string' },
      'client-auth-result': { type: 'string' },
      access: { type: 'string' },
      kid: { type: 'string' },
      issuer: { type: 'string' },
      audience: { type: 'string' },
    },
    run(values, _positionals, io) {
      const alg = required(values, 'alg');
      if (!isAlgorithm(alg)) throw new UsageError(`--alg ${alg} is not supported`);
      const secret = secretSource(values);
      const keyFile = str(values, 'key');
      if ((secret === undefined) === (keyFile === undefined)) {
        throw new UsageError('give exactly one of --secret-env, --secret-file, --key');
      }
      let clientAuthResult: Record<string, unknown> | undefined;
      const car = str(values, 'client-auth-result');
      if (car !== undefined) {
        try {
          clientAuthResult = JSON.parse(car) as Record<string, unknown>;
        } catch {
          throw new UsageError('--client-auth-result must be JSON, e.g. \'{"role":"analyst"}\'');
        }
      }
      const access = str(values, 'access');
      if (access !== undefined && !(ACCESS_CLAIMS as readonly string[]).includes(access)) {
        throw new UsageError(`--access must be ${ACCESS_CLAIMS.join(' or ')}`);
      }
      const ttl = seconds(values, 'ttl');
      const signer = createSigner({
        algorithm: alg as Algorithm,
        key: secret !== undefined ? { secret } : { privateKeyFile: keyFile as string },
        env: io.env,
        now: () => io.now(),
        ...(ttl !== undefined && { ttlSeconds: ttl, maxTtlSeconds: Math.max(ttl, 3600) }),
        ...(str(values, 'kid') !== undefined && { kid: str(values, 'kid') }),
        ...(str(values, 'issuer') !== undefined && { issuer: str(values, 'issuer') }),
        ...(str(values, 'audience') !== undefined && { audience: str(values, 'audience') }),
      });
      io.out(
        signer.sign({
          datasets: list(values, 'dataset'),
          email: required(values, 'email'),
          ip: str(values, 'ip'),
          clientAuthResult,
          access: access as AccessClaim | undefined,
        }),
      );
      return 0;
    },
  },

  verify: {
    summary: 'check a token and print its claims, or why it is refused',
    usage:
      'pp-token verify (--secret-env NAME | --secret-file FILE | --public-key PUBLIC.pem | --jwks FILE|URL) [--alg ALG] [--issuer ISS] [--audience AUD] [--leeway S] [TOKEN | -]',
    options: {
      ...keyOptions,
      'public-key': { type: 'string' },
      jwks: { type: 'string' },
      alg: { type: 'string', multiple: true },
      issuer: { type: 'string' },
      audience: { type: 'string' },
      leeway: { type: 'string' },
    },
    async run(values, positionals, io) {
      const algorithms = list(values, 'alg');
      const leeway = seconds(values, 'leeway');
      const verifier = createVerifier({
        key: verificationKey(values),
        env: io.env,
        now: () => io.now(),
        ...(algorithms.length > 0 && { algorithms }),
        ...(leeway !== undefined && { leewaySeconds: leeway }),
        ...(str(values, 'issuer') !== undefined && { issuer: str(values, 'issuer') }),
        ...(str(values, 'audience') !== undefined && { audience: str(values, 'audience') }),
      });
      const token = tokenArgument(positionals, io);
      try {
        const claims = await verifier.verify(token);
        io.out(JSON.stringify(claims, null, 2));
        return 0;
      } catch (error) {
        if (!(error instanceof TokenError)) throw error;
        io.err(describeRefusal(error, io.now()));
        return 1;
      }
    },
  },

  'hash-password': {
    summary: 'print the hash of a dataset password (read from standard input) for a "basic" entry',
    usage: 'pp-token hash-password [--cost 15] < password.txt',
    options: { cost: { type: 'string' } },
    async run(values, _positionals, io) {
      const cost = str(values, 'cost') ?? '15';
      if (!/^\d{2}$/.test(cost) || Number(cost) < 14 || Number(cost) > 20)
        throw new UsageError('--cost is log2 of the scrypt cost N, from 14 to 20');
      // One trailing newline is what `echo` or a file adds; the password is everything before it.
      const password = io.stdin().replace(/\r?\n$/, '');
      if (password === '') throw new UsageError('give the password on standard input, never as an argument');
      io.out(await hashPassword(password, { ln: Number(cost), r: 8, p: 1 }));
      return 0;
    },
  },

  'migrate-config': {
    summary: "rewrite a ProteinPaint dsCredentials block into pp-embed's shape, saying what changed",
    usage: 'pp-token migrate-config SERVERCONFIG.json|DSCREDENTIALS.json [--out FILE]',
    options: { out: { type: 'string' } },
    async run(values, positionals, io) {
      const file = positionals[0];
      if (file === undefined)
        throw new UsageError('give the ProteinPaint serverconfig.json or dsCredentials file');
      const { block, from } = readCredentialsBlock(file);
      const { dsCredentials, changes, left } = await migrateDsCredentials(block);
      const text = `${JSON.stringify(dsCredentials, null, 2)}\n`;
      const out = str(values, 'out');
      if (out === undefined) io.out(text.trimEnd());
      else {
        if (existsSync(out)) throw new UsageError(`${out} exists; choose another --out`);
        // It holds the secrets the old file held.
        writeFileSync(out, text, { mode: 0o600 });
      }
      io.err(`read the dsCredentials block of ${from}`);
      for (const change of changes) io.err(`changed ${change.path}: ${change.message}`);
      for (const problem of left) io.err(`left for you ${problem.path}: ${problem.message}`);
      io.err(
        `${changes.length} change${changes.length === 1 ? '' : 's'}, ${left.length} left for you${out === undefined ? '' : `; wrote ${out}`}. ` +
          'Check it with `pp-token explain --config serverconfig.json` once serverconfig.json names it.',
      );
      return left.length === 0 ? 0 : 1;
    },
  },

  explain: {
    summary:
      'explain, step by step, how a server with this config decides a request; or print its access table',
    usage:
      'pp-token explain --config serverconfig.json [--dataset LABEL --route ROUTE --origin https://portal.example.org [--ip ADDR] [--header NAME] [--count N]... [TOKEN | -]]',
    options: {
      config: { type: 'string' },
      dataset: { type: 'string' },
      route: { type: 'string' },
      origin: { type: 'string' },
      ip: { type: 'string' },
      header: { type: 'string' },
      'no-token': { type: 'boolean' },
      count: { type: 'string', multiple: true },
    },
    async run(values, positionals, io) {
      const file = required(values, 'config');
      // The server's own loader: the same checks, the same tokenLeeway, the same verifiers.
      let config;
      try {
        config = loadServerConfig(file, { env: io.env, now: () => io.now() });
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        io.err(error.message);
        return 2;
      }
      for (const warning of config.warnings) io.err(`warning: ${warning}`);
      if (str(values, 'dataset') === undefined && str(values, 'route') === undefined) {
        // No request: the table the server logs at start.
        for (const line of formatAccessTable(accessTable(config.policy, [...config.datasets.keys()])))
          io.out(line);
        return 0;
      }
      const dataset = required(values, 'dataset');
      const route = required(values, 'route');
      const counts = list(values, 'count').map((text) => {
        const n = Number(text);
        if (!/^\d{1,9}$/.test(text) || !Number.isSafeInteger(n)) {
          throw new UsageError(`--count ${text} is not a whole number`);
        }
        return n;
      });
      // A token only when one is given (as an argument, or "-" for standard input): without one, explain tells
      // whether the route needs a token from this origin.
      const token =
        values['no-token'] === true || positionals.length === 0 ? undefined : tokenArgument(positionals, io);
      const origin = str(values, 'origin');
      // The revocation lists the server would hold: each feed read once, as a replica reads it at start. Only a
      // token is checked against them.
      const feeds = token === undefined ? undefined : config.revocations;
      for (const feed of (await feeds?.syncOnce()) ?? []) {
        io.err(
          `The revocation feed "${feed}" could not be read (${feeds?.health(io.now()).find((h) => h.feed === feed)?.lastError ?? 'no answer'}).`,
        );
      }
      // The registry's retired entries, then the feeds: what the server asks about every verified token.
      const revocations = token === undefined ? undefined : accessRevocations(config.registry, feeds);
      const { decision, steps } = await explain(
        config.policy,
        {
          dataset,
          route,
          origin,
          clientIp: str(values, 'ip'),
          tokenHeader: str(values, 'header'),
          disclosure: config.datasets.get(dataset)?.disclosure,
          now: io.now(),
          revocations,
        },
        token,
      );
      for (const step of steps) io.out(step);
      // Which part of the caller's rule hides (or shows) a count of each size asked about.
      if (decision.outcome === 'allowed') for (const n of counts) io.out(describeCount(decision.rule, n));
      if (token === undefined) io.out(requirementAnswer(config.policy, dataset, route, origin));
      return decision.outcome === 'allowed' ? 0 : 1;
    },
  },
  ...scriptCommands,
};
