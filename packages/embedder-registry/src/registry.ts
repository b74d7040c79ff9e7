import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import {
  type JsonWebKey,
  generateKeyPair,
  generateSecret,
  publicJwk,
  publicKeyFrom,
} from '@pp-embed/dataset-token';
import { ConfigError, type ConfigProblem, formatPath, Secret } from '@pp-embed/server-runtime';
import * as z from 'zod';
import { authenticate, canonicalJson, open, type RegistryKey, sameMac, seal } from './crypto.js';
import { CREDENTIAL_FORMAT, type EmbedderCredential } from './credential.js';
import { OWNER_ONLY } from './files.js';
import { readJsonDocument } from './json.js';

/** The `format` member of a registry file; another value is not read. */
export const REGISTRY_FORMAT = 'pp-embed/embedder-registry@1';

/** The algorithms an embedder can sign with: a shared secret, or a key pair whose public half the registry holds. */
export const REGISTRY_ALGORITHMS = ['HS256', 'ES256', 'RS256'] as const;

/** @example const alg: RegistryAlgorithm = 'ES256'; */
export type RegistryAlgorithm = (typeof REGISTRY_ALGORITHMS)[number];

/** Entry ids: what `pp-token embedder` commands, `explain` and the logs name an entry by. */
export const ENTRY_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * When something was done, and by whom (`user@host` of the `pp-token` command).
 *
 * @example
 * const created: Stamp = { at: '2026-05-23T12:00:00.000Z', by: 'ops@viz-1' };
 */
export interface Stamp {
  readonly at: string;
  readonly by: string;
}

/**
 * One key of an entry, named by its `kid`: a shared secret (HS256), decrypted, or a portal's public key.
 *
 * @example
 * const key: EntryKey = { kid: '20260523-k3x9qa', created, notAfter: undefined, secret, publicKey: undefined };
 */
export interface EntryKey {
  readonly kid: string;
  readonly created: Stamp;
  /** ISO time after which the key checks no token: the old key of a rotation. */
  readonly notAfter: string | undefined;
  readonly secret: Secret | undefined;
  readonly publicKey: JsonWebKey | undefined;
}

/**
 * One registered embedder: a portal (`embedder`, its `host[:port]` as in `Origin`) allowed to embed `datasets` on
 * `routes` (route keys as dsCredentials writes them), with the keys its tokens are checked with. `rules` are the
 * other fields of a dsCredentials entry (`headerKey`, `maxTokenAge`, the address check…), checked by the same
 * loader. A retired entry stays, so that its datasets do not open and its tokens are recognized and refused.
 *
 * @example
 * registry.entries.filter((e) => e.retired === undefined).map((e) => e.embedder);
 */
export interface EmbedderEntry {
  readonly id: string;
  readonly embedder: string;
  readonly datasets: readonly string[];
  readonly routes: readonly string[];
  readonly alg: RegistryAlgorithm;
  readonly rules: Readonly<Record<string, unknown>>;
  readonly note: string | undefined;
  readonly created: Stamp;
  readonly retired: Stamp | undefined;
  /** Empty when the portal's keys come from `jwks`. */
  readonly keys: readonly EntryKey[];
  /** The portal's JWKS URL, for an ES256 or RS256 portal that publishes and rotates its own keys. */
  readonly jwks: string | undefined;
}

/**
 * A registry file, read, authenticated and decrypted.
 *
 * @example
 * const registry = readRegistry('/etc/pp/embedders.json', key);
 * console.log(registry.version, registry.entries.length);
 */
export interface Registry {
  readonly file: string;
  /** Goes up by one with every change; a server refuses a file older than the one it holds. */
  readonly version: number;
  readonly updatedAt: string;
  /** The file's authentication code: two files with the same one have the same contents. */
  readonly mac: string;
  readonly entries: readonly EmbedderEntry[];
  /** Legal but worth a look (a file others may read). */
  readonly warnings: readonly string[];
}

const isoTime = z.iso.datetime({ offset: false, error: 'expected an ISO 8601 UTC time' });
const actor = z.string().min(1).max(200);
const stampSchema = z.strictObject({ at: isoTime, by: actor });
const sealed = z.string().regex(/^gcm1:[A-Za-z0-9_-]+$/, { error: 'expected an encrypted value (gcm1:…)' });
const kid = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, { error: 'expected a key id' });

const storedKeySchema = z.strictObject({
  kid,
  created: stampSchema,
  notAfter: isoTime.optional(),
  secret: sealed.optional(),
  publicKey: z.record(z.string(), z.unknown()).optional(),
});

const storedEntrySchema = z.strictObject({
  embedder: z.string().min(1).max(300),
  datasets: z.array(z.string().min(1).max(200)).min(1),
  routes: z.array(z.string().min(1).max(200)).min(1),
  alg: z.enum(REGISTRY_ALGORITHMS),
  rules: z.record(z.string(), z.unknown()).optional(),
  note: z.string().max(500).optional(),
  created: stampSchema,
  retired: stampSchema.optional(),
  dataKey: sealed.optional(),
  keys: z.array(storedKeySchema),
  jwks: z.string().min(1).optional(),
});

const fileSchema = z.strictObject({
  format: z.literal(REGISTRY_FORMAT, { error: `expected "${REGISTRY_FORMAT}"` }),
  version: z.int().min(1),
  updatedAt: isoTime,
  keyId: z.string().min(1),
  embedders: z.record(z.string().regex(ENTRY_ID, { error: 'not an entry id' }), storedEntrySchema),
  mac: z.string().min(1),
});

type StoredFile = z.infer<typeof fileSchema>;
type StoredEntry = z.infer<typeof storedEntrySchema>;

// Each entry's data key, kept beside the registry it was read or made with, never in an enumerable member.
const dataKeys = new WeakMap<Registry, ReadonlyMap<string, Buffer>>();

// Associated data (RFC 5116 §2.1): a data key opens only for its entry id; a secret only for its entry, embedder,
// datasets, routes, algorithm and kid, so that a blob moved to another entry or key, or whose grant was edited,
// fails its tag.
const dataKeyAad = (id: string): string => canonicalJson([REGISTRY_FORMAT, 'data key', id]);
const secretAad = (entry: EmbedderEntry | (StoredEntry & { id: string }), keyId: string): string =>
  canonicalJson([
    REGISTRY_FORMAT,
    'secret',
    entry.id,
    entry.embedder,
    entry.datasets,
    entry.routes,
    entry.alg,
    keyId,
  ]);

/** An entry whose lists and stamps cannot be changed by whoever holds it. */
function frozenEntry(entry: EmbedderEntry): EmbedderEntry {
  return Object.freeze({
    id: entry.id,
    embedder: entry.embedder,
    datasets: Object.freeze([...entry.datasets]),
    routes: Object.freeze([...entry.routes]),
    alg: entry.alg,
    rules: Object.freeze({ ...entry.rules }),
    note: entry.note,
    created: Object.freeze({ ...entry.created }),
    retired: entry.retired === undefined ? undefined : Object.freeze({ ...entry.retired }),
    keys: Object.freeze([...entry.keys]),
    jwks: entry.jwks,
  });
}

const TAMPERED = 'the authentication tag does not match: the value was changed, or belongs to another entry';

/**
 * Reads a registry file: its shape, the key it was written with, the authentication code of the whole file, and
 * each data key and secret (AES-256-GCM, bound to its entry). Every problem is collected with its JSON path and
 * thrown together as one `ConfigError`; no secret appears in a message.
 *
 * @throws ConfigError when the file is missing, malformed, cut short, written with another key or tampered with.
 * @example
 * const registry = readRegistry('embedders.json', registryKey({ env: 'PP_EMBEDDERS_KEY' }));
 */
export function readRegistry(file: string, key: RegistryKey): Registry {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? 'file not found; create it with `pp-token embedder init`'
        : `cannot be read (${code ?? 'error'})`;
    throw new ConfigError(file, [{ path: '(root)', message }]);
  }
  const registry = parseRegistry(text, key, file);
  const mode = statSync(file).mode & 0o777;
  if ((mode & ~OWNER_ONLY) !== 0) {
    return Object.freeze({
      ...registry,
      warnings: [`${file} can be read by others (mode ${mode.toString(8)}); chmod 600 it`],
    });
  }
  return registry;
}

/**
 * {@link readRegistry} on text already read.
 *
 * @example
 * const registry = parseRegistry(await readFile(file, 'utf8'), key, file);
 */
export function parseRegistry(text: string, key: RegistryKey, file: string): Registry {
  const stored = readJsonDocument(text, file, fileSchema, {
    notJson: 'cut short while written, or edited by hand',
    what: 'a registry file',
  });
  const problems: ConfigProblem[] = [];
  const report = (segments: readonly PropertyKey[], message: string): void => {
    problems.push({ path: formatPath('', segments), message });
  };
  if (stored.keyId !== key.id) {
    throw new ConfigError(file, [
      {
        path: 'keyId',
        message: `the registry was written with another key (key id ${stored.keyId}; the key given has id ${key.id})`,
      },
    ]);
  }
  const { mac, ...body } = stored;
  if (!sameMac(mac, authenticate(key.macKey, canonicalJson(body)))) {
    report(['mac'], 'does not match the contents: the file was changed outside `pp-token embedder`');
  }

  const entries: EmbedderEntry[] = [];
  const keysById = new Map<string, Buffer>();
  for (const [id, entry] of Object.entries(stored.embedders)) {
    const at = (...rest: PropertyKey[]) => ['embedders', id, ...rest];
    const hmac = entry.alg.startsWith('HS');
    let dataKey: Buffer | undefined;
    if (entry.dataKey !== undefined) {
      dataKey = open(key.wrapKey, entry.dataKey, dataKeyAad(id));
      if (dataKey === undefined) report(at('dataKey'), TAMPERED);
      else keysById.set(id, dataKey);
    } else if (hmac) report(at(), `an ${entry.alg} entry needs its dataKey`);
    if (entry.jwks !== undefined && (hmac || entry.keys.length > 0)) {
      report(at('jwks'), 'a JWKS URL is for an ES256 or RS256 portal that holds no keys here');
    }
    if (entry.jwks === undefined && entry.keys.length === 0) report(at('keys'), 'expected at least one key');
    const kids = new Set<string>();
    const keys: EntryKey[] = [];
    entry.keys.forEach((stored, index) => {
      if (kids.has(stored.kid)) report(at('keys', index, 'kid'), `kid ${stored.kid} is named twice`);
      kids.add(stored.kid);
      let secret: Secret | undefined;
      if (hmac) {
        if (stored.secret === undefined || stored.publicKey !== undefined) {
          report(at('keys', index), `an ${entry.alg} key holds a secret and no publicKey`);
        } else if (dataKey !== undefined) {
          const bytes = open(dataKey, stored.secret, secretAad({ ...entry, id }, stored.kid));
          if (bytes === undefined) report(at('keys', index, 'secret'), TAMPERED);
          else secret = new Secret(bytes);
        }
      } else if (stored.publicKey === undefined || stored.secret !== undefined) {
        report(at('keys', index), `an ${entry.alg} key holds a publicKey and no secret`);
      }
      keys.push(
        Object.freeze({
          kid: stored.kid,
          created: Object.freeze({ ...stored.created }),
          notAfter: stored.notAfter,
          secret,
          publicKey:
            stored.publicKey === undefined
              ? undefined
              : (Object.freeze({ ...stored.publicKey }) as JsonWebKey),
        }),
      );
    });
    entries.push(
      frozenEntry({
        ...entry,
        id,
        rules: entry.rules ?? {},
        note: entry.note,
        retired: entry.retired,
        jwks: entry.jwks,
        keys,
      }),
    );
  }
  if (problems.length > 0) throw new ConfigError(file, problems);
  const registry: Registry = Object.freeze({
    file,
    version: stored.version,
    updatedAt: stored.updatedAt,
    mac,
    entries: Object.freeze(entries),
    warnings: Object.freeze([]),
  });
  dataKeys.set(registry, keysById);
  return registry;
}

/**
 * The text of a registry file holding `entries`, as `version`: each secret sealed with its entry's data key under
 * a fresh IV, each data key wrapped with the key-encryption key, and the whole file authenticated.
 *
 * @example
 * await writeFileAtomic(file, serializeRegistry(draft.entries, { version: 2, key, now }));
 */
export function serializeRegistry(
  entries: readonly EmbedderEntry[],
  options: { version: number; key: RegistryKey; now: number; dataKeys?: ReadonlyMap<string, Buffer> },
): { text: string; dataKeys: ReadonlyMap<string, Buffer> } {
  const used = new Map<string, Buffer>();
  const embedders: Record<string, StoredEntry> = {};
  for (const entry of entries) {
    const hmac = entry.alg.startsWith('HS');
    const dataKey = hmac ? (options.dataKeys?.get(entry.id) ?? randomBytes(32)) : undefined;
    if (dataKey !== undefined) used.set(entry.id, dataKey);
    embedders[entry.id] = {
      embedder: entry.embedder,
      datasets: [...entry.datasets],
      routes: [...entry.routes],
      alg: entry.alg,
      ...(Object.keys(entry.rules).length > 0 && { rules: { ...entry.rules } }),
      ...(entry.note !== undefined && { note: entry.note }),
      created: { ...entry.created },
      ...(entry.retired !== undefined && { retired: { ...entry.retired } }),
      ...(dataKey !== undefined && { dataKey: seal(options.key.wrapKey, dataKey, dataKeyAad(entry.id)) }),
      keys: entry.keys.map((k) => ({
        kid: k.kid,
        created: { ...k.created },
        ...(k.notAfter !== undefined && { notAfter: k.notAfter }),
        ...(k.secret !== undefined &&
          dataKey !== undefined && { secret: seal(dataKey, k.secret.reveal(), secretAad(entry, k.kid)) }),
        ...(k.publicKey !== undefined && { publicKey: { ...k.publicKey } }),
      })),
      ...(entry.jwks !== undefined && { jwks: entry.jwks }),
    };
  }
  const body: Omit<StoredFile, 'mac'> = {
    format: REGISTRY_FORMAT,
    version: options.version,
    updatedAt: new Date(options.now).toISOString(),
    keyId: options.key.id,
    embedders,
  };
  const file: StoredFile = { ...body, mac: authenticate(options.key.macKey, canonicalJson(body)) };
  return { text: `${JSON.stringify(file, null, 2)}\n`, dataKeys: used };
}

/**
 * The data keys of a registry read with {@link readRegistry}, so that a rewrite keeps each entry's key.
 *
 * @internal
 */
export function dataKeysOf(registry: Registry): ReadonlyMap<string, Buffer> {
  return dataKeys.get(registry) ?? new Map();
}

/** @internal */
export function rememberDataKeys(registry: Registry, keys: ReadonlyMap<string, Buffer>): void {
  dataKeys.set(registry, keys);
}

/**
 * What `add` needs to register a portal.
 *
 * @example
 * const spec: NewEmbedder = { embedder: 'portal.example.org', datasets: ['TermdbTest'], routes: ['termdb'], alg: 'HS256' };
 */
export interface NewEmbedder {
  embedder: string;
  datasets: readonly string[];
  routes: readonly string[];
  alg: RegistryAlgorithm;
  /** Default: made from the host (`portal.example.org`, then `portal.example.org-2`…). */
  id?: string | undefined;
  note?: string | undefined;
  /** Other fields of a dsCredentials entry: `headerKey`, `maxTokenAge`, the address check. */
  rules?: Readonly<Record<string, unknown>> | undefined;
  /** ES256 or RS256: the portal's JWKS URL; it publishes and rotates its own keys. */
  jwks?: string | undefined;
  /** ES256 or RS256: the portal's public key (PEM or JWK); without it and `jwks`, a key pair is made. */
  publicKey?: string | JsonWebKey | undefined;
}

/** A change a registry refuses (an unknown id, a rotation already under way…), said for the operator. */
export class RegistryEditError extends Error {
  override readonly name = 'RegistryEditError';
}

const randomTail = (): string =>
  randomBytes(4).toString('base64url').replace(/[-_]/g, 'x').slice(0, 6).toLowerCase();
const dateTag = (now: number): string => new Date(now).toISOString().slice(0, 10).replaceAll('-', '');

/**
 * A registry being changed by one command: the entries as read, and the changes made so far, applied in memory
 * and written by `editRegistry` in one atomic write.
 *
 * @example
 * const issued = draft.add({ embedder: 'portal.example.org', datasets: ['TermdbTest'], routes: ['termdb'], alg: 'HS256' });
 */
export class RegistryDraft {
  #entries: EmbedderEntry[];
  readonly #by: string;
  readonly #now: number;

  constructor(entries: readonly EmbedderEntry[], options: { by: string; now: number }) {
    this.#entries = [...entries];
    this.#by = options.by;
    this.#now = options.now;
  }

  get entries(): readonly EmbedderEntry[] {
    return this.#entries;
  }

  /**
   * The entry an operator names: its id, or the host of the one live entry for that host.
   *
   * @throws RegistryEditError when nothing, or more than one live entry, matches.
   * @example
   * draft.find('portal.example.org').id;
   */
  find(name: string): EmbedderEntry {
    const byId = this.#entries.find((e) => e.id === name);
    if (byId !== undefined) return byId;
    const byHost = this.#entries.filter(
      (e) => e.embedder.toLowerCase() === name.toLowerCase() && e.retired === undefined,
    );
    if (byHost.length === 1) return byHost[0] as EmbedderEntry;
    if (byHost.length > 1) {
      throw new RegistryEditError(
        `${name} has ${byHost.length} entries (${byHost.map((e) => e.id).join(', ')}); name one by its id`,
      );
    }
    throw new RegistryEditError(`no entry ${name}; \`pp-token embedder list\` shows them`);
  }

  /**
   * Registers a portal. HS256: a new secret; ES256/RS256: the portal's JWKS URL or public key, or a new key pair.
   * Returns the entry and the credential to hand to the portal (none when it brings its own key).
   *
   * @example
   * const { entry, credential } = draft.add({ embedder: 'portal.example.org', datasets: ['TermdbTest'], routes: ['termdb'], alg: 'HS256' });
   */
  add(spec: NewEmbedder): { entry: EmbedderEntry; credential: EmbedderCredential | undefined } {
    const id = spec.id ?? this.#freeId(spec.embedder);
    if (!ENTRY_ID.test(id)) {
      throw new RegistryEditError(
        `${JSON.stringify(id)} is not an entry id: letters, digits, ".", "_" and "-", at most 64`,
      );
    }
    if (this.#entries.some((e) => e.id === id))
      throw new RegistryEditError(`an entry ${id} exists; choose another --id`);
    const hmac = spec.alg.startsWith('HS');
    if (hmac && (spec.jwks !== undefined || spec.publicKey !== undefined)) {
      throw new RegistryEditError(`${spec.alg} uses a shared secret: no JWKS URL or public key`);
    }
    if (spec.jwks !== undefined && spec.publicKey !== undefined) {
      throw new RegistryEditError('give the JWKS URL or the public key, not both');
    }
    const created = this.#stamp();
    const made = spec.jwks === undefined ? this.#newKey(spec.alg, spec.publicKey) : undefined;
    const entry = frozenEntry({
      ...spec,
      id,
      note: spec.note,
      jwks: spec.jwks,
      rules: spec.rules ?? {},
      created,
      retired: undefined,
      keys: made === undefined ? [] : [made.key],
    });
    this.#entries.push(entry);
    return {
      entry,
      credential:
        made?.handout === undefined ? undefined : this.#credential(entry, made.key.kid, made.handout),
    };
  }

  /**
   * Starts a rotation: a new key beside the old one, which keeps checking tokens for `overlapSeconds` (while the
   * portal installs the new credential and the tokens the old key signed expire). Keys whose overlap has passed
   * are dropped on the way.
   *
   * @throws RegistryEditError for a retired entry, one whose keys come from a JWKS URL, or one already rotating.
   * @example
   * const { credential, previous } = draft.rotate('portal.example.org', { overlapSeconds: 86_400 });
   */
  rotate(
    name: string,
    options: { overlapSeconds: number; publicKey?: string | JsonWebKey | undefined },
  ): { entry: EmbedderEntry; credential: EmbedderCredential | undefined; previous: readonly EntryKey[] } {
    const current = this.find(name);
    if (current.retired !== undefined) throw new RegistryEditError(`${current.id} is retired`);
    if (current.jwks !== undefined) {
      throw new RegistryEditError(
        `${current.id} reads its keys from ${current.jwks}: the portal rotates them there`,
      );
    }
    const live = current.keys.filter((k) => !this.#expired(k));
    const pending = live.filter((k) => k.notAfter !== undefined);
    if (pending.length > 0) {
      throw new RegistryEditError(
        `${current.id} is rotating already: key ${pending.map((k) => k.kid).join(', ')} is accepted until ${pending[0]?.notAfter}; finish with \`pp-token embedder rotate ${current.id} --finish\``,
      );
    }
    if (current.alg.startsWith('HS') && options.publicKey !== undefined) {
      throw new RegistryEditError(`${current.alg} uses a shared secret: no public key`);
    }
    const made = this.#newKey(current.alg, options.publicKey);
    const notAfter = new Date(this.#now + options.overlapSeconds * 1000).toISOString();
    const previous = live.map((k) => Object.freeze({ ...k, notAfter }));
    const entry = this.#replace(current, { keys: Object.freeze([...previous, made.key]) });
    return {
      entry,
      previous,
      credential:
        made.handout === undefined ? undefined : this.#credential(entry, made.key.kid, made.handout),
    };
  }

  /**
   * Ends a rotation: the old keys stop checking tokens now.
   *
   * @throws RegistryEditError when no rotation is under way.
   * @example
   * const { dropped } = draft.finishRotation('portal.example.org');
   */
  finishRotation(name: string): { entry: EmbedderEntry; dropped: readonly EntryKey[] } {
    const current = this.find(name);
    const dropped = current.keys.filter((k) => k.notAfter !== undefined);
    if (dropped.length === 0) throw new RegistryEditError(`${current.id} is not rotating`);
    const entry = this.#replace(current, {
      keys: Object.freeze(current.keys.filter((k) => k.notAfter === undefined)),
    });
    return { entry, dropped };
  }

  /**
   * Retires an entry: every token its keys check is refused from now on, on every server that reads the registry.
   * The entry stays (marked retired), so that the datasets it covered do not become open and its portal's tokens
   * are recognized and refused as retired rather than as unknown.
   *
   * @throws RegistryEditError when it is retired already.
   * @example
   * draft.retire('portal.example.org');
   */
  retire(name: string): EmbedderEntry {
    const current = this.find(name);
    if (current.retired !== undefined)
      throw new RegistryEditError(`${current.id} was retired at ${current.retired.at}`);
    return this.#replace(current, { retired: this.#stamp() });
  }

  /** Drops keys whose overlap has passed: they check no token. @example draft.prune(); */
  prune(): void {
    this.#entries = this.#entries.map((e) =>
      e.keys.some((k) => this.#expired(k)) && e.keys.some((k) => !this.#expired(k))
        ? Object.freeze({ ...e, keys: Object.freeze(e.keys.filter((k) => !this.#expired(k))) })
        : e,
    );
  }

  #expired(key: EntryKey): boolean {
    return key.notAfter !== undefined && Date.parse(key.notAfter) <= this.#now;
  }

  #replace(current: EmbedderEntry, change: Partial<EmbedderEntry>): EmbedderEntry {
    const entry = Object.freeze({ ...current, ...change });
    this.#entries = this.#entries.map((e) => (e === current ? entry : e));
    return entry;
  }

  #stamp(): Stamp {
    return Object.freeze({ at: new Date(this.#now).toISOString(), by: this.#by });
  }

  #freeId(embedder: string): string {
    const base =
      embedder
        .toLowerCase()
        .replace(/[^a-z0-9.-]+/g, '-')
        .replace(/^[^a-z0-9]+|-+$/g, '')
        .slice(0, 56) || 'embedder';
    const taken = new Set(this.#entries.map((e) => e.id));
    if (!taken.has(base)) return base;
    for (let n = 2; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
  }

  #newKey(
    alg: RegistryAlgorithm,
    publicKey: string | JsonWebKey | undefined,
  ): { key: EntryKey; handout: { secret: string } | { privateKey: string } | undefined } {
    const created = this.#stamp();
    if (alg === 'HS256') {
      const secret = generateSecret('HS256');
      const key = {
        kid: `${dateTag(this.#now)}-${randomTail()}`,
        created,
        notAfter: undefined,
        publicKey: undefined,
      };
      return {
        key: Object.freeze({ ...key, secret: new Secret(Buffer.from(secret, 'utf8')) }),
        handout: { secret },
      };
    }
    if (publicKey !== undefined) {
      let jwk;
      try {
        jwk = publicJwk(publicKeyFrom(publicKey), alg);
      } catch (error) {
        throw new RegistryEditError(`the public key cannot be used: ${(error as Error).message}`);
      }
      if (!jwkFits(jwk, alg)) throw new RegistryEditError(`the public key is not an ${alg} key`);
      return {
        key: Object.freeze({
          kid: jwk.kid,
          created,
          notAfter: undefined,
          secret: undefined,
          publicKey: Object.freeze(jwk),
        }),
        handout: undefined,
      };
    }
    const pair = generateKeyPair(alg);
    const jwk = pair.jwks.keys[0] as JsonWebKey;
    return {
      key: Object.freeze({
        kid: pair.kid,
        created,
        notAfter: undefined,
        secret: undefined,
        publicKey: Object.freeze({ ...jwk }),
      }),
      handout: { privateKey: pair.privateKeyPem },
    };
  }

  #credential(
    entry: EmbedderEntry,
    kid: string,
    handout: { secret: string } | { privateKey: string },
  ): EmbedderCredential {
    return Object.freeze({
      format: CREDENTIAL_FORMAT,
      id: entry.id,
      embedder: entry.embedder,
      datasets: entry.datasets,
      routes: entry.routes,
      alg: entry.alg,
      kid,
      ...handout,
      issuedAt: new Date(this.#now).toISOString(),
    });
  }
}

function jwkFits(jwk: JsonWebKey, alg: RegistryAlgorithm): boolean {
  return alg === 'ES256' ? jwk.kty === 'EC' && jwk.crv === 'P-256' : jwk.kty === 'RSA';
}
