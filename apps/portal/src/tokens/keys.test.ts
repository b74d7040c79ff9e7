import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVerifier, generateKeyPair, TokenSetupError } from '@pp-embed/dataset-token';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../db/database.js';
import { es256KeyDirectory, JWKS_MAX_AGE_SECONDS, PUBLISH_AHEAD_SECONDS } from './keys.js';

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

function setupKeys() {
  let now = start;
  const clock = () => now;
  const { dir, add } = keyDir();
  const oldKid = add('2026-01-01.pem');
  const db = openDatabase(':memory:');
  const keys = es256KeyDirectory({ dir, db, ttlSeconds: TTL, clock, rescanSeconds: 60 });
  const kids = () => (keys.jwks()?.keys ?? []).map((k) => k.kid);
  return { dir, add, db, keys, kids, oldKid, clock, set: (t: number) => (now = t) };
}

const AHEAD = PUBLISH_AHEAD_SECONDS * 1000;

describe('es256KeyDirectory', () => {
  it('signs with the key of the file that sorts last once it has been published long enough, with its thumbprint as kid', () => {
    const { add, kids, keys, oldKid, set } = setupKeys();
    expect(keys.signer().kid).toBe(oldKid);
    expect(kids()).toEqual([oldKid]);
    set(start + 1000);
    const newer = add('2026-06-01.pem');
    keys.reload();
    expect(kids()).toEqual([oldKid, newer]);
    expect(keys.signer().kid).toBe(oldKid);
    set(start + 1000 + AHEAD);
    keys.reload();
    expect(keys.signer().kid).toBe(newer);
  });

  it('publishes a new key two minutes before it signs (the JWKS max-age and a minute), so no verifier meets an unknown kid', () => {
    expect(PUBLISH_AHEAD_SECONDS).toBe(JWKS_MAX_AGE_SECONDS + 60);
    const { add, keys, kids, set } = setupKeys();
    const publishedAt = new Map<string, number>(kids().map((kid) => [kid as string, start]));
    let newKid: string | undefined;
    for (let t = start; t <= start + 10 * 60_000; t += 5_000) {
      set(t);
      if (t === start + 30_000) newKid = add('2026-06-01.pem');
      for (const kid of kids()) if (!publishedAt.has(kid as string)) publishedAt.set(kid as string, t);
      const signing = keys.signer().kid as string;
      if (signing === newKid) expect(t - (publishedAt.get(signing) ?? t)).toBeGreaterThanOrEqual(AHEAD);
    }
    expect(keys.signer().kid).toBe(newKid);
  });

  it('rotates without a refused token: the old key stays published until every token it signed has expired', async () => {
    const { add, keys, kids, oldKid, set } = setupKeys();
    const oldToken = keys.signer().sign(subject);

    // A new key appears; it is published at the next rescan, a minute later, and signs two minutes after that.
    set(start + 30_000);
    const newKid = add('2026-06-01.pem');
    set(start + 60_000);
    expect(kids()).toEqual([oldKid, newKid]);
    expect(keys.signer().kid).toBe(oldKid);
    const lastOldToken = keys.signer().sign(subject);
    const retiredAt = start + 60_000 + AHEAD;
    set(retiredAt);
    expect(keys.signer().kid).toBe(newKid);
    const newToken = keys.signer().sign(subject);
    expect(kids()).toEqual([oldKid, newKid]);

    // Every token verifies through the published set as long as it is valid.
    const verifyAt = (t: number, token: string) =>
      createVerifier({ key: { jwks: keys.jwks()! }, now: () => t, cacheSize: 0 }).verify(token);
    await expect(verifyAt(start + 1000, oldToken)).resolves.toMatchObject({ email: 'ana@example.org' });
    await expect(verifyAt(retiredAt + 1000, newToken)).resolves.toBeDefined();

    // The old key's last token expires ttl after it was signed; the key stays published past that, plus the
    // longest clock leeway a verifier may grant (60 s), and is gone after.
    const until = retiredAt + (TTL + 60) * 1000;
    set(until - 1);
    expect(kids()).toEqual([oldKid, newKid]);
    await expect(verifyAt(start + 60_000 + TTL * 1000 - 1000, lastOldToken)).resolves.toBeDefined();
    set(until);
    expect(kids()).toEqual([newKid]);
  });

  it('keeps signing with the old key from memory when its file is deleted before the new key may sign', () => {
    const { add, dir, keys, kids, oldKid, set } = setupKeys();
    const newKid = add('2026-06-01.pem');
    rmSync(join(dir, '2026-01-01.pem'));
    set(start + 60_000);
    expect(keys.signer().kid).toBe(oldKid);
    set(start + 60_000 + AHEAD);
    expect(keys.signer().kid).toBe(newKid);
    expect(kids()).toEqual([oldKid, newKid]);
  });

  it('remembers publication and retirement across a restart, and does not extend either', () => {
    const { add, dir, db, keys, oldKid, set } = setupKeys();
    set(start + 60_000);
    const newKid = add('2026-06-01.pem');
    keys.reload();
    // A restart a minute later: the new key has waited a minute already, not from zero.
    const restart = start + 2 * 60_000;
    const early = es256KeyDirectory({ dir, db, ttlSeconds: TTL, clock: () => restart });
    expect(early.signer().kid).toBe(oldKid);
    const ripe = start + 60_000 + AHEAD;
    const later = es256KeyDirectory({ dir, db, ttlSeconds: TTL, clock: () => ripe });
    expect(later.signer().kid).toBe(newKid);
    expect(later.jwks()?.keys.map((k) => k.kid)).toEqual([oldKid, newKid]);
    const gone = ripe + (TTL + 60) * 1000;
    const afterwards = es256KeyDirectory({ dir, db, ttlSeconds: TTL, clock: () => gone });
    expect(afterwards.jwks()?.keys.map((k) => k.kid)).toEqual([newKid]);
  });

  it('keeps signing with the last good key when a new file is broken', () => {
    const { dir, keys, oldKid, set } = setupKeys();
    // A key file caught half written: a real key, cut short.
    const pem = generateKeyPair('ES256').privateKeyPem;
    writeFileSync(join(dir, '2026-06-01.pem'), pem.slice(0, pem.length / 2));
    set(start + 60_000);
    expect(keys.signer().kid).toBe(oldKid);
  });

  it('refuses at start an empty directory, a broken key, or a key that is not P-256', () => {
    const db = openDatabase(':memory:');
    const empty = mkdtempSync(join(tmpdir(), 'portal-keys-'));
    expect(() => es256KeyDirectory({ dir: empty, db, ttlSeconds: TTL })).toThrow(/holds no \.pem file/);
    const rsa = mkdtempSync(join(tmpdir(), 'portal-keys-'));
    writeFileSync(join(rsa, 'a.pem'), generateKeyPair('RS256').privateKeyPem);
    expect(() => es256KeyDirectory({ dir: rsa, db, ttlSeconds: TTL })).toThrow(TokenSetupError);
    expect(() => es256KeyDirectory({ dir: join(empty, 'missing'), db, ttlSeconds: TTL })).toThrow(
      /cannot read the key directory/,
    );
  });
});
