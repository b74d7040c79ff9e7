import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVerifier, generateKeyPair, generateSecret, TokenSetupError } from '@pp-embed/dataset-token';
import { Secret } from '@pp-embed/server-runtime';
import { describe, expect, it } from 'vitest';
import { testStore } from '../../test/store.js';
import { es256KeyDirectory, JWKS_MAX_AGE_SECONDS, PUBLISH_AHEAD_SECONDS, registeredKeys } from './keys.js';

const TTL = 600;
const subject = { datasets: ['PPDemo'], email: 'ana@example.org' };
const start = Date.UTC(2026, 10, 23, 12, 0, 0);

function keyDir() {
  const dir = mkdtempSync(join(tmpdir(), 'portal-keys-'));
  const add = (name: string) => {
    const pair = generateKeyPair('ES256');
    writeFileSync(join(dir, name), pair.privateKeyPem);
    return pair.kid;
  };
  return { dir, add };
}

async function setupKeys() {
  let now = start;
  const clock = () => now;
  const { dir, add } = keyDir();
  const oldKid = add('2026-01-01.pem');
  const { sql } = await testStore();
  const keys = await es256KeyDirectory({ dir, sql, ttlSeconds: TTL, clock, rescanSeconds: 60 });
  const kids = async () => ((await keys.jwks())?.keys ?? []).map((k) => k.kid);
  const signerKid = async () => (await keys.signer()).kid;
  return { dir, add, sql, keys, kids, signerKid, oldKid, clock, set: (t: number) => (now = t) };
}

const AHEAD = PUBLISH_AHEAD_SECONDS * 1000;

describe('es256KeyDirectory', () => {
  it('signs with the key of the file that sorts last once it has been published long enough, with its thumbprint as kid', async () => {
    const { add, kids, keys, oldKid, set, signerKid } = await setupKeys();
    expect(await signerKid()).toBe(oldKid);
    expect(await kids()).toEqual([oldKid]);
    set(start + 1000);
    const newer = add('2026-06-01.pem');
    await keys.reload();
    expect(await kids()).toEqual([oldKid, newer]);
    expect(await signerKid()).toBe(oldKid);
    set(start + 1000 + AHEAD);
    await keys.reload();
    expect(await signerKid()).toBe(newer);
  });

  it('publishes a new key two minutes before it signs (the JWKS max-age and a minute), so no verifier meets an unknown kid', async () => {
    expect(PUBLISH_AHEAD_SECONDS).toBe(JWKS_MAX_AGE_SECONDS + 60);
    const { add, kids, set, signerKid } = await setupKeys();
    const publishedAt = new Map<string, number>((await kids()).map((kid) => [kid as string, start]));
    let newKid: string | undefined;
    for (let t = start; t <= start + 10 * 60_000; t += 5_000) {
      set(t);
      if (t === start + 30_000) newKid = add('2026-06-01.pem');
      for (const kid of await kids()) if (!publishedAt.has(kid as string)) publishedAt.set(kid as string, t);
      const signing = (await signerKid()) as string;
      if (signing === newKid) expect(t - (publishedAt.get(signing) ?? t)).toBeGreaterThanOrEqual(AHEAD);
    }
    expect(await signerKid()).toBe(newKid);
  });

  it('rotates without a refused token: the old key stays published until every token it signed has expired', async () => {
    const { add, keys, kids, oldKid, set, signerKid } = await setupKeys();
    const oldToken = (await keys.signer()).sign(subject);

    // A new key appears; it is published at the next rescan, a minute later, and signs two minutes after that.
    set(start + 30_000);
    const newKid = add('2026-06-01.pem');
    set(start + 60_000);
    expect(await kids()).toEqual([oldKid, newKid]);
    expect(await signerKid()).toBe(oldKid);
    const lastOldToken = (await keys.signer()).sign(subject);
    const retiredAt = start + 60_000 + AHEAD;
    set(retiredAt);
    expect(await signerKid()).toBe(newKid);
    const newToken = (await keys.signer()).sign(subject);
    expect(await kids()).toEqual([oldKid, newKid]);
    const published = (await keys.jwks())!;

    // Every token verifies through the published set as long as it is valid.
    const verifyAt = (t: number, token: string) =>
      createVerifier({ key: { jwks: published }, now: () => t, cacheSize: 0 }).verify(token);
    await expect(verifyAt(start + 1000, oldToken)).resolves.toMatchObject({ email: 'ana@example.org' });
    await expect(verifyAt(retiredAt + 1000, newToken)).resolves.toBeDefined();

    // The old key's last token expires ttl after it was signed; the key stays published past that, plus the
    // longest clock leeway a verifier may grant (60 s), and is gone after.
    const until = retiredAt + (TTL + 60) * 1000;
    set(until - 1);
    expect(await kids()).toEqual([oldKid, newKid]);
    await expect(verifyAt(start + 60_000 + TTL * 1000 - 1000, lastOldToken)).resolves.toBeDefined();
    set(until);
    expect(await kids()).toEqual([newKid]);
  });

  it('keeps signing with the old key from memory when its file is deleted before the new key may sign', async () => {
    const { add, dir, kids, oldKid, set, signerKid } = await setupKeys();
    const newKid = add('2026-06-01.pem');
    rmSync(join(dir, '2026-01-01.pem'));
    set(start + 60_000);
    expect(await signerKid()).toBe(oldKid);
    set(start + 60_000 + AHEAD);
    expect(await signerKid()).toBe(newKid);
    expect(await kids()).toEqual([oldKid, newKid]);
  });

  it('remembers publication and retirement across a restart, and does not extend either', async () => {
    const { add, dir, sql, keys, oldKid, set } = await setupKeys();
    set(start + 60_000);
    const newKid = add('2026-06-01.pem');
    await keys.reload();
    // A restart a minute later: the new key has waited a minute already, not from zero.
    const restart = start + 2 * 60_000;
    const early = await es256KeyDirectory({ dir, sql, ttlSeconds: TTL, clock: () => restart });
    expect((await early.signer()).kid).toBe(oldKid);
    const ripe = start + 60_000 + AHEAD;
    const later = await es256KeyDirectory({ dir, sql, ttlSeconds: TTL, clock: () => ripe });
    expect((await later.signer()).kid).toBe(newKid);
    expect((await later.jwks())?.keys.map((k) => k.kid)).toEqual([oldKid, newKid]);
    const gone = ripe + (TTL + 60) * 1000;
    const afterwards = await es256KeyDirectory({ dir, sql, ttlSeconds: TTL, clock: () => gone });
    expect((await afterwards.jwks())?.keys.map((k) => k.kid)).toEqual([newKid]);
  });

  it('keeps signing with the last good key when a new file is broken', async () => {
    const { dir, oldKid, set, signerKid } = await setupKeys();
    // A key file caught half written: a real key, cut short.
    const pem = generateKeyPair('ES256').privateKeyPem;
    writeFileSync(join(dir, '2026-06-01.pem'), pem.slice(0, pem.length / 2));
    set(start + 60_000);
    expect(await signerKid()).toBe(oldKid);
  });

  it('refuses at start an empty directory, a broken key, or a key that is not P-256', async () => {
    const { sql } = await testStore();
    const empty = mkdtempSync(join(tmpdir(), 'portal-keys-'));
    await expect(es256KeyDirectory({ dir: empty, sql, ttlSeconds: TTL })).rejects.toThrow(
      /holds no \.pem file/,
    );
    const rsa = mkdtempSync(join(tmpdir(), 'portal-keys-'));
    writeFileSync(join(rsa, 'a.pem'), generateKeyPair('RS256').privateKeyPem);
    await expect(es256KeyDirectory({ dir: rsa, sql, ttlSeconds: TTL })).rejects.toThrow(TokenSetupError);
    await expect(es256KeyDirectory({ dir: join(empty, 'missing'), sql, ttlSeconds: TTL })).rejects.toThrow(
      /cannot read the key directory/,
    );
  });
});

describe('registeredKeys', () => {
  it('signs with the kid the visualization server holds, which picks that key out of several', async () => {
    const secret = generateSecret();
    const keys = registeredKeys(
      { id: 'portal.example.org', alg: 'HS256', kid: 'new', key: new Secret(Buffer.from(secret)) },
      { ttlSeconds: TTL, clock: () => start },
    );
    const token = (await keys.signer()).sign(subject);
    const server = createVerifier({
      key: {
        keys: [
          { kid: 'old', secret: generateSecret() },
          { kid: 'new', secret },
        ],
      },
      now: () => start,
    });
    expect((await server.verifyKey(token)).kid).toBe('new');
    expect(await keys.jwks()).toBeUndefined();
  });

  it('publishes the public half of a registered private key under its kid', async () => {
    const pair = generateKeyPair('ES256');
    const keys = registeredKeys(
      {
        id: 'portal.example.org',
        alg: 'ES256',
        kid: pair.kid,
        key: new Secret(Buffer.from(pair.privateKeyPem)),
      },
      { ttlSeconds: TTL, clock: () => start },
    );
    const jwks = await keys.jwks();
    expect(jwks?.keys.map((k) => k.kid)).toEqual([pair.kid]);
    const server = createVerifier({ key: { jwks: jwks as NonNullable<typeof jwks> }, now: () => start });
    await expect(server.verify((await keys.signer()).sign(subject))).resolves.toMatchObject(subject);
  });
});
