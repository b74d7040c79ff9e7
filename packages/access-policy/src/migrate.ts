import { secretProblem } from '@pp-embed/dataset-token';
import { type ConfigProblem, formatPath } from '@pp-embed/server-runtime';
import { ANY, PATTERN } from './entries.js';
import { hashPassword } from './password.js';
import { KEY_FIELDS, PROTEINPAINT_FIELDS } from './schema.js';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The environment variable a migrated `basic` entry's `tokenSecret` is read from. */
export const MIGRATED_TOKEN_SECRET_ENV = 'PP_DS_TOKEN_SECRET';

/** What `pp-token hash-password` prints goes where a migrated plaintext password was, in messages. */
const PASSWORD_HASH_PLACEHOLDER = '<pp-token hash-password>';

/**
 * ProteinPaint's legacy dataset-level shapes, `{"type": "jwt", "embedders": {HOST: ENTRY}, "headerKey"}` and
 * `{"type": "login", "password"}`, in the current one: `{"termdb": {HOST: {"type": "jwt", …ENTRY}}}` and
 * `{"*": {"*": {"type": "basic", "password"}}}`. Undefined when `block` has no dataset-level `type`; a problem
 * when it has one ProteinPaint never had. Every embedder is kept (ProteinPaint itself keeps only the last one).
 *
 * @example
 * reshapeLegacy({ type: 'jwt', embedders: { localhost: { secret } }, headerKey: 'x-ds-token' });
 * // { block: { termdb: { localhost: { type: 'jwt', secret, headerKey: 'x-ds-token' } } }, shape: '{"type": "jwt", "embedders": …}' }
 */
export function reshapeLegacy(block: Json): { block: Json; shape: string } | { problem: string } | undefined {
  if (!Object.hasOwn(block, 'type')) return undefined;
  const { type, embedders, headerKey, password, secret, ...rest } = block;
  if (type === 'jwt') {
    if (!isObject(embedders)) return { problem: 'a legacy {"type": "jwt"} block needs "embedders"' };
    const termdb: Json = {};
    for (const [host, entry] of Object.entries(embedders)) {
      termdb[host] = {
        type: 'jwt',
        ...(isObject(entry) ? entry : {}),
        ...(headerKey !== undefined && { headerKey }),
      };
    }
    return { block: { ...rest, termdb }, shape: '{"type": "jwt", "embedders": …}' };
  }
  if (type === 'login') {
    if (embedders !== undefined) return { problem: 'a legacy {"type": "login"} block has no "embedders"' };
    return {
      block: { ...rest, '*': { '*': { type: 'basic', password: secret ?? password } } },
      shape: '{"type": "login", "password": …}',
    };
  }
  return {
    problem: `a dataset-level "type" (${JSON.stringify(type)}) is not a shape ProteinPaint or pp-embed reads; route keys go here`,
  };
}

/**
 * The current form of a reshaped legacy block for a message: secrets and passwords are never printed, so they
 * become placeholders (`<secret>`, a `passwordHash` to make and a `tokenSecret` variable to set).
 *
 * @example
 * describeRewrite({ termdb: { localhost: { type: 'jwt', secret: 's3cr3t…' } } });
 * // '{"termdb": {"localhost": {"type": "jwt", "secret": "<secret>"}}}'
 */
export function describeRewrite(block: Json): string {
  const redact = (value: unknown, key: string | undefined): unknown => {
    if (key === 'secret' && typeof value === 'string') return '<secret>';
    if (!isObject(value)) return value;
    if (value.type === 'basic' && (value.password !== undefined || value.secret !== undefined)) {
      const { password: _p, secret: _s, ...others } = value;
      return {
        ...others,
        passwordHash: PASSWORD_HASH_PLACEHOLDER,
        tokenSecret: { env: MIGRATED_TOKEN_SECRET_ENV },
      };
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  };
  return JSON.stringify(redact(block, undefined)).replace(/":/g, '": ').replace(/,"/g, ', "');
}

export interface MigrateOptions {
  /** Hashes a plaintext dataset password; {@link hashPassword} by default. */
  hashPassword?: (password: string) => Promise<string>;
  /** Where the block sits, for the paths of the changes. Default `dsCredentials`. */
  path?: string;
}

export interface Migration {
  /** The block in the current shape; what could not be rewritten is left as it was (see `left`). */
  readonly dsCredentials: unknown;
  /** What was rewritten, one sentence per change; never a secret or password. */
  readonly changes: readonly ConfigProblem[];
  /** What only the operator can fix (patterns, string entries); the loader refuses these with the same reason. */
  readonly left: readonly ConfigProblem[];
}

/**
 * Rewrites a ProteinPaint `dsCredentials` block into the shape pp-embed reads, and says what it changed:
 * legacy dataset-level shapes are reshaped, plaintext dataset passwords become a `passwordHash` and a
 * `tokenSecret` variable, `jwt` entries without a key become `forbidden` (which is what ProteinPaint makes of
 * them), weak or example secrets become an environment variable to set to a new secret, and ProteinPaint-only
 * fields are dropped with the reason. Patterns and other mistakes only the operator can fix are listed in `left`.
 * The input is not modified.
 *
 * @example
 * const { dsCredentials, changes } = await migrateDsCredentials(JSON.parse(readFileSync('creds.json', 'utf8')));
 * for (const c of changes) console.error(`${c.path}: ${c.message}`);
 */
export async function migrateDsCredentials(raw: unknown, options: MigrateOptions = {}): Promise<Migration> {
  const root = options.path ?? 'dsCredentials';
  const hash = options.hashPassword ?? ((password: string) => hashPassword(password));
  const changes: ConfigProblem[] = [];
  const left: ConfigProblem[] = [];
  const at = (segments: readonly string[]): string => formatPath(root, segments);
  if (!isObject(raw)) {
    left.push({ path: at([]), message: 'is not a JSON object; nothing was rewritten' });
    return { dsCredentials: raw, changes, left };
  }
  const copy = structuredClone(raw);
  // One new variable per distinct weak secret: entries that shared a secret (one portal) keep sharing one.
  const secretNames = new Map<string, string>();

  const pattern = (key: string, segments: readonly string[]): boolean => {
    if (key === ANY || key === '/**' || !PATTERN.test(key)) return false;
    left.push({ path: at(segments), message: 'a pattern; pp-embed compares keys exactly: list each one' });
    return true;
  };
  for (const [dataset, value] of Object.entries(copy)) {
    if (dataset.startsWith('#') || !isObject(value)) continue;
    pattern(dataset, [dataset]);
    let block = value;
    const legacy = reshapeLegacy(block);
    if (legacy !== undefined) {
      if ('problem' in legacy) {
        left.push({ path: at([dataset]), message: legacy.problem });
        continue;
      }
      block = legacy.block;
      copy[dataset] = block;
      changes.push({
        path: at([dataset]),
        message: `ProteinPaint's legacy ${legacy.shape} shape is written as route keys`,
      });
    }
    for (const [route, embedders] of Object.entries(block)) {
      if (route.startsWith('#') || route === 'headerKey' || !isObject(embedders)) continue;
      pattern(route, [dataset, route]);
      for (const [embedder, entry] of Object.entries(embedders)) {
        const segments = [dataset, route, embedder];
        if (embedder.startsWith('#')) continue;
        pattern(embedder, segments);
        if (typeof entry === 'string') {
          left.push({
            path: at(segments),
            message: 'an entry given as a string; ProteinPaint no longer reads these either',
          });
          continue;
        }
        if (!isObject(entry)) continue;
        embedders[embedder] = await migrateEntry(entry, {
          path: at(segments),
          changes,
          hash,
          secretNames,
        });
      }
    }
  }
  return { dsCredentials: copy, changes, left };
}

interface EntryContext {
  path: string;
  changes: ConfigProblem[];
  hash: (password: string) => Promise<string>;
  secretNames: Map<string, string>;
}

async function migrateEntry(entry: Json, context: EntryContext): Promise<Json> {
  const { path, changes } = context;
  const out: Json = { ...entry };
  for (const field of Object.keys(PROTEINPAINT_FIELDS)) {
    if (field === 'password' || out[field] === undefined) continue;
    delete out[field];
    changes.push({ path: `${path}.${field}`, message: `removed: ${PROTEINPAINT_FIELDS[field]}` });
  }
  if (out.type === 'basic') {
    const plaintext = typeof out.password === 'string' ? out.password : out.secret;
    if (typeof plaintext === 'string' && plaintext !== '') {
      delete out.password;
      delete out.secret;
      out.passwordHash = await context.hash(plaintext);
      out.tokenSecret ??= { env: MIGRATED_TOKEN_SECRET_ENV };
      changes.push({
        path,
        message: `the plaintext password is replaced by its hash ("passwordHash"); set ${MIGRATED_TOKEN_SECRET_ENV} to a new secret (\`pp-token secret\`), the key this server signs the password's tokens with`,
      });
    } else if (out.passwordHash === undefined) {
      // ProteinPaint refuses every try at an entry without a password.
      changes.push({ path, message: 'a "basic" entry without a password is written as "forbidden"' });
      return { type: 'forbidden' };
    }
    return out;
  }
  if (out.type !== 'jwt') return out;
  if (!KEY_FIELDS.some((field) => out[field] !== undefined)) {
    changes.push({
      path,
      message:
        'a "jwt" entry without a secret is written as "forbidden", which is what ProteinPaint makes of it',
    });
    return { type: 'forbidden' };
  }
  if (typeof out.secret === 'string') {
    const problem = secretProblem(Buffer.from(out.secret, 'utf8'), 'HS256');
    if (problem !== undefined) {
      let name = context.secretNames.get(out.secret);
      if (name === undefined) {
        name =
          context.secretNames.size === 0 ? 'PP_DS_SECRET' : `PP_DS_SECRET_${context.secretNames.size + 1}`;
        context.secretNames.set(out.secret, name);
      }
      out.secret = { env: name };
      changes.push({
        path: `${path}.secret`,
        message: `the secret is too weak for HS256 (${problem}): it is read from ${name}; set that to a new secret (\`pp-token secret\`) and give the portal the same one`,
      });
    }
  }
  return out;
}
