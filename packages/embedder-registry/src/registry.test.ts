import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@pp-embed/dataset-token';
import { ConfigError } from '@pp-embed/server-runtime';
import { describe, expect, it } from 'vitest';
import { registryKeyFromBytes } from './crypto.js';
import { companionFiles, createRegistry, editRegistry } from './edit.js';
import { readRegistry, RegistryEditError } from './registry.js';

const NOW = Date.UTC(2026, 4, 23, 12, 0, 0);
const by = 'ops@viz-1';
const key = registryKeyFromBytes(randomBytes(32));

async function fresh(): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'pp-registry-')), 'embedders.json');
  await createRegistry(file, key, { by, now: () => NOW });
  return file;
}

async function withPortal(file: string, embedder = 'portal.example.org') {
  const { result } = await editRegistry(
    file,
    key,
    (draft) => {
      const added = draft.add({ embedder, datasets: ['TermdbTest'], routes: ['termdb'], alg: 'HS256' });
      return { result: added, audit: [{ action: 'add', id: added.entry.id }] };
    },
    { by, now: () => NOW },
  );
  return result;
}

/** The problems a read of the registry reports, as "path: message" lines. */
function problems(file: string, with_ = key): string[] {
  try {
    readRegistry(file, with_);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

interface StoredEntry {
  datasets: string[];
  jwks?: string;
  dataKey?: string;
  keys: { secret?: string }[];
}

/** Edits the registry file by hand, as someone with write access but not the key could. */
function rewrite(file: string, change: (entry: (id: string) => StoredEntry) => void): void {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { embedders: Record<string, StoredEntry> };
  change((id) => doc.embedders[id] as StoredEntry);
  writeFileSync(file, JSON.stringify(doc, null, 2));
}

describe('a registry file', () => {
  it('keeps a shared secret encrypted at rest and gives it back to the key holder', async () => {
    const file = await fresh();
    const { entry, credential } = await withPortal(file);
    const text = readFileSync(file, 'utf8');
    expect(credential?.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(text).not.toContain(credential?.secret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const read = readRegistry(file, key);
    expect(read.version).toBe(2);
    const [only] = read.entries;
    expect(only).toMatchObject({ id: 'portal.example.org', embedder: 'portal.example.org', alg: 'HS256' });
    expect(Buffer.from(only?.keys[0]?.secret?.reveal() ?? []).toString()).toBe(credential?.secret);
    expect(only?.keys[0]?.kid).toBe(entry.keys[0]?.kid);
    // Printing an entry never prints its secret.
    expect(JSON.stringify(read.entries)).not.toContain(credential?.secret);
  });

  it('is refused whole, with the reason, when read with another key', async () => {
    const file = await fresh();
    await withPortal(file);
    const [problem] = problems(file, registryKeyFromBytes(randomBytes(32)));
    expect(problem).toMatch(/^keyId: the registry was written with another key/);
  });

  it('names the value that was changed: a flipped byte in a secret fails its tag and the file MAC', async () => {
    const file = await fresh();
    await withPortal(file);
    rewrite(file, (entry) => {
      const stored = entry('portal.example.org').keys[0] as { secret: string };
      const raw = Buffer.from(stored.secret.slice(5), 'base64url');
      raw.writeUInt8(raw.readUInt8(raw.length - 20) ^ 1, raw.length - 20);
      stored.secret = `gcm1:${raw.toString('base64url')}`;
    });
    expect(problems(file)).toEqual([
      'mac: does not match the contents: the file was changed outside `pp-token embedder`',
      'embedders.portal.example.org.keys[0].secret: the authentication tag does not match: the value was changed, or belongs to another entry',
    ]);
  });

  it('refuses secrets swapped between entries, and a grant widened by hand, by their tags', async () => {
    const file = await fresh();
    await withPortal(file, 'a.example.org');
    await withPortal(file, 'b.example.org');
    rewrite(file, (entry) => {
      const [a, b] = [entry('a.example.org'), entry('b.example.org')];
      [a.keys, b.keys] = [b.keys, a.keys];
      [a.dataKey, b.dataKey] = [b.dataKey, a.dataKey];
    });
    expect(problems(file).filter((p) => p.includes('dataKey'))).toHaveLength(2);

    const other = await fresh();
    await withPortal(other);
    rewrite(other, (entry) => entry('portal.example.org').datasets.push('SJLife'));
    expect(problems(other)).toContain(
      'embedders.portal.example.org.keys[0].secret: the authentication tag does not match: the value was changed, or belongs to another entry',
    );
  });

  it('refuses a public-key entry whose JWKS URL was changed by hand (the file MAC covers it)', async () => {
    const file = await fresh();
    await editRegistry(
      file,
      key,
      (draft) => ({
        result: draft.add({
          embedder: 'portal.example.org',
          datasets: ['TermdbTest'],
          routes: ['termdb'],
          alg: 'ES256',
          jwks: 'https://portal.example.org/.well-known/jwks.json',
        }),
        audit: [],
      }),
      { by },
    );
    rewrite(file, (entry) => (entry('portal.example.org').jwks = 'https://attacker.example/jwks.json'));
    expect(problems(file)).toEqual([
      'mac: does not match the contents: the file was changed outside `pp-token embedder`',
    ]);
  });

  it('says a file cut short while written, or empty, is not a registry', async () => {
    const file = await fresh();
    await withPortal(file);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.slice(0, text.length / 2));
    expect(problems(file)).toEqual(['(root): not valid JSON: cut short while written, or edited by hand']);
    writeFileSync(file, '');
    expect(problems(file)).toEqual(['(root): the file is empty']);
    expect(problems(join(file, '..', 'missing.json'))).toEqual([
      '(root): file not found; create it with `pp-token embedder init`',
    ]);
  });

  it('warns when others may read it', async () => {
    const file = await fresh();
    const { chmodSync } = await import('node:fs');
    chmodSync(file, 0o644);
    expect(readRegistry(file, key).warnings).toEqual([
      `${file} can be read by others (mode 644); chmod 600 it`,
    ]);
  });
});

describe('changing a registry', () => {
  it('rotates a key with an overlap, refuses a second rotation, and finishes by dropping the old key', async () => {
    const file = await fresh();
    const { entry } = await withPortal(file);
    const oldKid = entry.keys[0]?.kid;
    const rotate = (overlapSeconds: number, at = NOW) =>
      editRegistry(
        file,
        key,
        (draft) => ({ result: draft.rotate('portal.example.org', { overlapSeconds }), audit: [] }),
        { by, now: () => at },
      );
    const { result } = await rotate(3600);
    expect(result.credential?.kid).not.toBe(oldKid);
    expect(result.previous.map((k) => [k.kid, k.notAfter])).toEqual([
      [oldKid, new Date(NOW + 3_600_000).toISOString()],
    ]);
    await expect(rotate(3600)).rejects.toThrow(/is rotating already: key .* is accepted until/);
    const read = readRegistry(file, key);
    expect(read.entries[0]?.keys.map((k) => k.kid)).toEqual([oldKid, result.credential?.kid]);

    await editRegistry(
      file,
      key,
      (draft) => ({ result: draft.finishRotation('portal.example.org'), audit: [] }),
      {
        by,
        now: () => NOW + 1000,
      },
    );
    expect(readRegistry(file, key).entries[0]?.keys.map((k) => k.kid)).toEqual([result.credential?.kid]);
  });

  it('drops a key whose overlap has passed at the next change', async () => {
    const file = await fresh();
    await withPortal(file);
    await editRegistry(
      file,
      key,
      (draft) => ({ result: draft.rotate('portal.example.org', { overlapSeconds: 60 }), audit: [] }),
      {
        by,
        now: () => NOW,
      },
    );
    await withPortal(file, 'other.example.org');
    expect(readRegistry(file, key).entries[0]?.keys).toHaveLength(2); // NOW: still overlapping
    await editRegistry(file, key, (draft) => ({ result: draft.retire('other.example.org'), audit: [] }), {
      by,
      now: () => NOW + 61_000,
    });
    expect(readRegistry(file, key).entries[0]?.keys).toHaveLength(1);
  });

  it('retires an entry once, keeping it in the file with who retired it and when', async () => {
    const file = await fresh();
    await withPortal(file);
    const retire = () =>
      editRegistry(file, key, (draft) => ({ result: draft.retire('portal.example.org'), audit: [] }), {
        by: 'alice@viz-1',
        now: () => NOW + 1000,
      });
    await retire();
    expect(readRegistry(file, key).entries[0]?.retired).toEqual({
      at: new Date(NOW + 1000).toISOString(),
      by: 'alice@viz-1',
    });
    await expect(retire()).rejects.toThrow(RegistryEditError);
  });

  it('registers a key-pair portal: the public half stays, the private key is handed out once', async () => {
    const file = await fresh();
    const { result } = await editRegistry(
      file,
      key,
      (draft) => ({
        result: draft.add({
          embedder: 'portal.example.org',
          datasets: ['PPDemo'],
          routes: ['*'],
          alg: 'ES256',
        }),
        audit: [],
      }),
      { by },
    );
    expect(result.credential?.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(readFileSync(file, 'utf8')).not.toContain('PRIVATE KEY');
    expect(readRegistry(file, key).entries[0]?.keys[0]?.publicKey).toMatchObject({ kty: 'EC', crv: 'P-256' });

    const portalOwn = generateKeyPair('RS256');
    await expect(
      editRegistry(
        file,
        key,
        (draft) => ({
          result: draft.add({
            embedder: 'lab.example.org',
            datasets: ['PPDemo'],
            routes: ['*'],
            alg: 'ES256',
            publicKey: portalOwn.jwks.keys[0],
          }),
          audit: [],
        }),
        { by },
      ),
    ).rejects.toThrow('the public key is not an ES256 key');
  });

  it('names ids after the host, and refuses an id that is taken', async () => {
    const file = await fresh();
    await withPortal(file);
    const second = await withPortal(file);
    expect(second.entry.id).toBe('portal.example.org-2');
    await expect(
      editRegistry(file, key, (draft) => ({ result: draft.find('portal.example.org'), audit: [] }), { by }),
    ).resolves.toBeDefined(); // an id names one entry even when the host has two
    await expect(
      editRegistry(file, key, (draft) => ({ result: draft.retire('PORTAL.example.org'), audit: [] }), { by }),
    ).rejects.toThrow(
      'PORTAL.example.org has 2 entries (portal.example.org, portal.example.org-2); name one by its id',
    );
  });

  it('writes nothing when the check refuses the change', async () => {
    const file = await fresh();
    const before = readFileSync(file, 'utf8');
    await expect(
      editRegistry(
        file,
        key,
        (draft) => ({
          result: draft.add({
            embedder: 'portal.example.org',
            datasets: ['X'],
            routes: ['termdb'],
            alg: 'HS256',
          }),
          audit: [{ action: 'add' }],
        }),
        {
          by,
          check: () => {
            throw new Error('the server would refuse it');
          },
        },
      ),
    ).rejects.toThrow('the server would refuse it');
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(readdirSync(join(file, '..')).sort()).toEqual(['embedders.audit.jsonl', 'embedders.json']);
  });

  it('serializes two commands under the lock: both changes land, one version each', async () => {
    const file = await fresh();
    await Promise.all([withPortal(file, 'a.example.org'), withPortal(file, 'b.example.org')]);
    const read = readRegistry(file, key);
    expect(read.version).toBe(3);
    expect(read.entries.map((e) => e.id).sort()).toEqual(['a.example.org', 'b.example.org']);
  });

  it('keeps an audit trail of who changed what, without a secret', async () => {
    const file = await fresh();
    const { credential } = await withPortal(file);
    const lines = readFileSync(companionFiles(file).audit, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { time: new Date(NOW).toISOString(), by, version: 1, action: 'init' },
      { time: new Date(NOW).toISOString(), by, version: 2, action: 'add', id: 'portal.example.org' },
    ]);
    expect(readFileSync(companionFiles(file).audit, 'utf8')).not.toContain(credential?.secret);
    expect(statSync(companionFiles(file).audit).mode & 0o777).toBe(0o600);
  });

  it('never overwrites an existing registry on init', async () => {
    const file = await fresh();
    await expect(createRegistry(file, key, { by })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readRegistry(file, key).version).toBe(1);
  });
});
