import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  companionFiles,
  createRegistry,
  credentialText,
  editRegistry,
  type EmbedderCredential,
  type EmbedderEntry,
  type EntryKey,
  LockedError,
  type KeyUse,
  readRegistry,
  readSeen,
  type Registry,
  REGISTRY_ALGORITHMS,
  type RegistryAlgorithm,
  RegistryEditError,
  type RegistryKey,
  registryKeyFromBytes,
  type SeenKeys,
  writeFileAtomic,
} from '@pp-embed/embedder-registry';
import type { JsonWebKey } from '@pp-embed/dataset-token';
import { loadServerConfig, registrySettings } from '@pp-embed/server-config';
import { ConfigError } from '@pp-embed/server-runtime';
import type { Command, Values } from './commands.js';
import { type Io, UsageError } from './io.js';
import { list, required, seconds, str } from './options.js';

/** How long the old key of a rotation keeps checking tokens, unless told: a day for the portal to switch. */
const DEFAULT_OVERLAP_SECONDS = 86_400;

const configOption = { config: { type: 'string' } } as const;

interface Opened {
  file: string;
  key: RegistryKey;
  /** Checks a registry as it would be written with the server's own loader; throws what the server would refuse. */
  check: (next: Registry) => void;
  /** What the loader warns about the registry, once the change is written. */
  warnings: string[];
}

/** The registry of a serverconfig.json and its key; a mistake there is a setup mistake (exit 2). */
function openRegistry(values: Values, io: Io): Opened {
  const config = required(values, 'config');
  const settings = registrySettings(config, { env: io.env });
  const warnings: string[] = [];
  return {
    file: settings.file,
    key: settings.key as RegistryKey,
    warnings,
    check(next) {
      // The whole of serverconfig.json, as the server reads it, with this registry: a change the server would
      // refuse is refused here, before it is written.
      const loaded = loadServerConfig(config, { env: io.env, now: () => io.now(), registry: next });
      warnings.push(...loaded.warnings.filter((w) => w.includes(settings.label)));
    },
  };
}

/** Runs a registry command, turning what the operator must fix into a message and exit code 2. */
async function registryCommand(io: Io, work: () => Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ConfigError || error instanceof RegistryEditError || error instanceof LockedError) {
      io.err(error.message);
      return 2;
    }
    throw error;
  }
}

/** Writes the credential once: to the file asked for (owner-only, never over another), or to standard output. */
async function handOut(credential: EmbedderCredential, values: Values, io: Io): Promise<void> {
  const out = str(values, 'out');
  if (out === undefined) {
    io.out(credentialText(credential).trimEnd());
    io.err('This is the only time the credential is shown: give it to the portal now (its credential file).');
    return;
  }
  try {
    await writeFileAtomic(out, credentialText(credential), { exclusive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      throw new UsageError(`${out} exists; choose another --out`);
    throw error;
  }
  io.out(`wrote ${out} (mode 600): give it to the portal; it is not kept here`);
}

/** `--public-key FILE`: a PEM, a JWK, or a JWKS holding one key. */
function readPublicKey(values: Values): string | JsonWebKey | undefined {
  const file = str(values, 'public-key');
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read ${file}`);
  }
  if (!text.trimStart().startsWith('{')) return text;
  let json: { keys?: unknown } & JsonWebKey;
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    throw new UsageError(`${file} is neither a PEM nor JSON`);
  }
  if (!Array.isArray(json.keys)) return json;
  if (json.keys.length !== 1)
    throw new UsageError(`${file} is a JWKS of ${json.keys.length} keys; give one key`);
  return json.keys[0] as JsonWebKey;
}

const when = (iso: string | undefined): string => iso ?? 'never';

/** What the record of key use says about a rotation under way, in one sentence. */
export function rotationStatus(entry: EmbedderEntry, seen: SeenKeys): string | undefined {
  const old = entry.keys.filter((k) => k.notAfter !== undefined);
  const current = entry.keys.filter((k) => k.notAfter === undefined);
  if (old.length === 0 || current.length === 0) return undefined;
  const use = (k: EntryKey): KeyUse | undefined => seen.get(entry.id)?.get(k.kid);
  const firstNew = current
    .map((k) => use(k)?.first)
    .filter((t): t is string => t !== undefined)
    .sort()[0];
  const lastOld = old
    .map((k) => use(k)?.last)
    .filter((t): t is string => t !== undefined)
    .sort()
    .at(-1);
  const until = old[0]?.notAfter;
  if (firstNew === undefined) {
    return `the portal has not used the new key yet; the old key (last used ${when(lastOld)}) is accepted until ${until}`;
  }
  if (lastOld !== undefined && lastOld > firstNew) {
    return `the portal signs with the new key since ${firstNew}, and the old key was still used at ${lastOld} (tokens it signed before); it is accepted until ${until}`;
  }
  return `the old key is no longer used: the portal signs with the new key since ${firstNew} (the old key was last used ${when(lastOld)}); drop it now with \`pp-token embedder rotate ${entry.id} --finish\`, or it goes at ${until}`;
}

function describeEntry(entry: EmbedderEntry, seen: SeenKeys, now: number): string[] {
  const status =
    entry.retired === undefined ? 'active' : `retired at ${entry.retired.at} by ${entry.retired.by}`;
  const uses = entry.keys.map((k) => seen.get(entry.id)?.get(k.kid)?.last).filter((t) => t !== undefined);
  const lines = [
    `${entry.id}  (${entry.alg}, ${status})`,
    `  embedder   ${entry.embedder}`,
    `  datasets   ${entry.datasets.join(', ')}`,
    `  routes     ${entry.routes.join(', ')}`,
    `  created    ${entry.created.at} by ${entry.created.by}`,
    `  last seen  ${when(uses.sort().at(-1))}`,
  ];
  if (entry.note !== undefined) lines.push(`  note       ${entry.note}`);
  const rules = Object.entries(entry.rules);
  if (rules.length > 0)
    lines.push(`  rules      ${rules.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}`);
  if (entry.jwks !== undefined) lines.push(`  keys from  ${entry.jwks}`);
  for (const k of entry.keys) {
    const accepted =
      k.notAfter === undefined
        ? ''
        : Date.parse(k.notAfter) > now
          ? `, accepted until ${k.notAfter}`
          : `, rotated out at ${k.notAfter}`;
    lines.push(
      `  key        ${k.kid} (created ${k.created.at}${accepted}; last seen ${when(seen.get(entry.id)?.get(k.kid)?.last)})`,
    );
  }
  const rotation = rotationStatus(entry, seen);
  if (rotation !== undefined) lines.push(`  rotation   ${rotation}`);
  return lines;
}

/** An entry as `list --json` shows it: everything but key material. */
function entryJson(entry: EmbedderEntry, seen: SeenKeys): Record<string, unknown> {
  return {
    id: entry.id,
    embedder: entry.embedder,
    datasets: entry.datasets,
    routes: entry.routes,
    alg: entry.alg,
    rules: entry.rules,
    note: entry.note ?? null,
    created: entry.created,
    retired: entry.retired ?? null,
    jwks: entry.jwks ?? null,
    keys: entry.keys.map((k) => ({
      kid: k.kid,
      created: k.created,
      notAfter: k.notAfter ?? null,
      firstSeen: seen.get(entry.id)?.get(k.kid)?.first ?? null,
      lastSeen: seen.get(entry.id)?.get(k.kid)?.last ?? null,
    })),
    rotation: rotationStatus(entry, seen) ?? null,
  };
}

function algorithm(values: Values): RegistryAlgorithm {
  const alg = str(values, 'alg') ?? 'HS256';
  if (!(REGISTRY_ALGORITHMS as readonly string[]).includes(alg)) {
    throw new UsageError(`--alg must be ${REGISTRY_ALGORITHMS.join(', ')}`);
  }
  return alg as RegistryAlgorithm;
}

/** The dsCredentials entry fields an operator may set on a registered embedder. */
function rules(values: Values): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const headerKey = str(values, 'header-key');
  if (headerKey !== undefined) out.headerKey = headerKey;
  const ipCheck = str(values, 'ip-check');
  if (ipCheck !== undefined) out.ipCheck = ipCheck;
  const maxAge = seconds(values, 'max-token-age');
  if (maxAge !== undefined) out.maxTokenAge = maxAge;
  return out;
}

export const embedderCommands: Record<string, Command> = {
  'embedder init': {
    summary: 'create the embedder registry named in serverconfig.json (and its key file, when it names one)',
    usage: 'pp-token embedder init --config serverconfig.json',
    options: { ...configOption },
    run(values, _positionals, io) {
      return registryCommand(io, async () => {
        const settings = registrySettings(required(values, 'config'), { env: io.env, keyOptional: true });
        let key = settings.key;
        if (key === undefined) {
          if (!('file' in settings.keySource)) {
            throw new UsageError(
              `${settings.keySource.env} is not set: export ${settings.keySource.env}="$(pp-token secret)", keep it where the server's environment is kept, and run init again`,
            );
          }
          const bytes = randomBytes(32);
          try {
            await writeFileAtomic(settings.keySource.file, `${bytes.toString('base64url')}\n`, {
              exclusive: true,
            });
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
            throw new UsageError(`${settings.keySource.file} exists but is not a registry key`);
          }
          io.out(
            `wrote ${settings.keySource.file} (mode 600): the registry's key; back it up, it cannot be recovered`,
          );
          key = registryKeyFromBytes(bytes);
        }
        try {
          await createRegistry(settings.file, key, { by: io.actor, now: () => io.now() });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EEXIST')
            throw new UsageError(`${settings.file} exists`);
          throw error;
        }
        io.out(`created ${settings.file} (mode 600)`);
        return 0;
      });
    },
  },

  'embedder add': {
    summary: 'register a portal: prints its credential once (HS256 secret, or a key pair it did not bring)',
    usage:
      'pp-token embedder add HOST[:PORT] --config serverconfig.json --dataset LABEL [--dataset …] --route termdb|*|ROUTE [--route …] [--alg HS256|ES256|RS256] [--jwks URL | --public-key FILE] [--id ID] [--note TEXT] [--header-key NAME] [--ip-check strict|loose|none] [--max-token-age 1h] [--out FILE]',
    options: {
      ...configOption,
      dataset: { type: 'string', multiple: true },
      route: { type: 'string', multiple: true },
      alg: { type: 'string' },
      jwks: { type: 'string' },
      'public-key': { type: 'string' },
      id: { type: 'string' },
      note: { type: 'string' },
      'header-key': { type: 'string' },
      'ip-check': { type: 'string' },
      'max-token-age': { type: 'string' },
      out: { type: 'string' },
    },
    run(values, positionals, io) {
      const embedder = positionals[0];
      if (embedder === undefined || positionals.length > 1) {
        throw new UsageError('give the portal as one HOST[:PORT], as browsers send it in Origin');
      }
      const datasets = list(values, 'dataset');
      const routes = list(values, 'route');
      if (datasets.length === 0) throw new UsageError('--dataset is required');
      if (routes.length === 0)
        throw new UsageError('--route is required (termdb: sample-level data; *: every route)');
      const alg = algorithm(values);
      const publicKey = readPublicKey(values);
      return registryCommand(io, async () => {
        const opened = openRegistry(values, io);
        const { file, key } = opened;
        const { result } = await editRegistry(
          file,
          key,
          (draft) => {
            const added = draft.add({
              embedder,
              datasets,
              routes,
              alg,
              id: str(values, 'id'),
              note: str(values, 'note'),
              rules: rules(values),
              jwks: str(values, 'jwks'),
              publicKey,
            });
            const e = added.entry;
            return {
              result: added,
              audit: [
                {
                  action: 'add',
                  id: e.id,
                  embedder: e.embedder,
                  datasets: e.datasets,
                  routes: e.routes,
                  alg: e.alg,
                  kids: e.keys.map((k) => k.kid),
                },
              ],
            };
          },
          { by: io.actor, now: () => io.now(), check: opened.check },
        );
        const { entry, credential } = result;
        for (const warning of opened.warnings) io.err(`warning: ${warning}`);
        io.err(
          `registered ${entry.id}: ${entry.embedder} may embed ${entry.datasets.join(', ')} (${entry.routes.join(', ')})`,
        );
        if (credential !== undefined) await handOut(credential, values, io);
        else if (entry.jwks !== undefined) io.err(`its tokens are checked with the keys at ${entry.jwks}`);
        else io.err(`its tokens are checked with its public key (kid ${entry.keys[0]?.kid})`);
        return 0;
      });
    },
  },

  'embedder list': {
    summary: 'show the registered portals: datasets, routes, key ids, created and last seen (never a secret)',
    usage: 'pp-token embedder list --config serverconfig.json [--json]',
    options: { ...configOption, json: { type: 'boolean' } },
    run(values, _positionals, io) {
      return registryCommand(io, async () => {
        const opened = openRegistry(values, io);
        const { file, key } = opened;
        const registry = readRegistry(file, key);
        for (const warning of registry.warnings) io.err(warning);
        const seen = await readSeen(companionFiles(file).seen);
        if (values.json === true) {
          io.out(
            JSON.stringify(
              {
                version: registry.version,
                updatedAt: registry.updatedAt,
                entries: registry.entries.map((e) => entryJson(e, seen)),
              },
              null,
              2,
            ),
          );
          return 0;
        }
        io.out(
          `${file}: version ${registry.version}, ${registry.entries.length} entries (updated ${registry.updatedAt})`,
        );
        for (const entry of registry.entries)
          io.out(['', ...describeEntry(entry, seen, io.now())].join('\n'));
        return 0;
      });
    },
  },

  'embedder rotate': {
    summary: 'give a portal a new key, the old one accepted for an overlap; --finish drops the old one',
    usage:
      'pp-token embedder rotate ID --config serverconfig.json [--overlap 24h] [--public-key FILE] [--out FILE] | --finish [--force]',
    options: {
      ...configOption,
      overlap: { type: 'string' },
      'public-key': { type: 'string' },
      out: { type: 'string' },
      finish: { type: 'boolean' },
      force: { type: 'boolean' },
    },
    run(values, positionals, io) {
      const name = positionals[0];
      if (name === undefined) throw new UsageError('give the entry id (or its host)');
      const publicKey = readPublicKey(values);
      return registryCommand(io, async () => {
        const opened = openRegistry(values, io);
        const { file, key } = opened;
        const seen = await readSeen(companionFiles(file).seen);
        if (values.finish === true) {
          const { result } = await editRegistry(
            file,
            key,
            (draft) => {
              const entry = draft.find(name);
              const status = rotationStatus(entry, seen);
              const newKeys = entry.keys.filter((k) => k.notAfter === undefined);
              const newUsed = newKeys.some((k) => seen.get(entry.id)?.get(k.kid) !== undefined);
              if (status !== undefined && !newUsed && values.force !== true) {
                throw new RegistryEditError(
                  `${entry.id}: ${status}; finishing now would lock the portal out (--force to do it anyway)`,
                );
              }
              const done = draft.finishRotation(name);
              return {
                result: { ...done, status },
                audit: [
                  { action: 'finish-rotation', id: done.entry.id, kids: done.dropped.map((k) => k.kid) },
                ],
              };
            },
            { by: io.actor, now: () => io.now(), check: opened.check },
          );
          if (result.status !== undefined) io.out(`${result.entry.id}: ${result.status}`);
          io.out(
            `dropped ${result.dropped.map((k) => k.kid).join(', ')}: tokens naming it are refused from now on`,
          );
          return 0;
        }
        const overlap = seconds(values, 'overlap') ?? DEFAULT_OVERLAP_SECONDS;
        const { result } = await editRegistry(
          file,
          key,
          (draft) => {
            const rotated = draft.rotate(name, { overlapSeconds: overlap, publicKey });
            const kids = rotated.entry.keys.filter((k) => k.notAfter === undefined).map((k) => k.kid);
            return { result: rotated, audit: [{ action: 'rotate', id: rotated.entry.id, kids }] };
          },
          { by: io.actor, now: () => io.now(), check: opened.check },
        );
        for (const old of result.previous) {
          io.err(
            `${result.entry.id}: key ${old.kid} (last used ${when(seen.get(result.entry.id)?.get(old.kid)?.last)}) is accepted until ${old.notAfter}; \`pp-token embedder list\` says when it is no longer used`,
          );
        }
        if (result.credential !== undefined) await handOut(result.credential, values, io);
        else io.err(`the new public key has kid ${result.entry.keys.at(-1)?.kid}`);
        return 0;
      });
    },
  },

  'embedder retire': {
    summary: 'remove a portal: every token of its keys is refused from now on, on every server',
    usage: 'pp-token embedder retire ID --config serverconfig.json',
    options: { ...configOption },
    run(values, positionals, io) {
      const name = positionals[0];
      if (name === undefined) throw new UsageError('give the entry id (or its host)');
      return registryCommand(io, async () => {
        const opened = openRegistry(values, io);
        const { file, key } = opened;
        const { result: entry } = await editRegistry(
          file,
          key,
          (draft) => {
            const retired = draft.retire(name);
            return {
              result: retired,
              audit: [
                {
                  action: 'retire',
                  id: retired.id,
                  embedder: retired.embedder,
                  kids: retired.keys.map((k) => k.kid),
                },
              ],
            };
          },
          { by: io.actor, now: () => io.now(), check: opened.check },
        );
        io.out(
          `retired ${entry.id}: ${entry.embedder} no longer embeds ${entry.datasets.join(', ')}; servers refuse its tokens (embedder_retired) within seconds`,
        );
        return 0;
      });
    },
  },
};
