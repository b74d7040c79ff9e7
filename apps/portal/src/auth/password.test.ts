import { describe, expect, it } from 'vitest';
import { hashPassword, needsRehash, parseHash, passwordProblem, verifyPassword } from './password.js';

const cheap = { logN: 10, r: 8, p: 1 };

describe('passwords', () => {
  it('stores scrypt parameters and a random salt with the hash', async () => {
    const a = await hashPassword('correct horse battery', cheap);
    const b = await hashPassword('correct horse battery', cheap);
    expect(a).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b);
    expect(parseHash(a)?.params).toEqual(cheap);
  });

  it('verifies the right password only', async () => {
    const stored = await hashPassword('correct horse battery', cheap);
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    expect(await verifyPassword('correct horse batterY', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('treats the Unicode forms of one password alike', async () => {
    const stored = await hashPassword('caf\u00e9 au lait 123', cheap);
    expect(await verifyPassword('cafe\u0301 au lait 123', stored)).toBe(true);
  });

  it('never matches a malformed or out-of-bounds hash', async () => {
    expect(await verifyPassword('x', 'plain text')).toBe(false);
    const stored = await hashPassword('correct horse battery', cheap);
    expect(await verifyPassword('correct horse battery', stored.replace('ln=10', 'ln=31'))).toBe(false);
  });

  it('asks for a rehash when the parameters were weaker', async () => {
    const stored = await hashPassword('correct horse battery', cheap);
    expect(needsRehash(stored, cheap)).toBe(false);
    expect(needsRehash(stored, { logN: 15, r: 8, p: 3 })).toBe(true);
  });

  it('refuses short passwords and ones with spaces around them', () => {
    expect(passwordProblem('short')).toBe('at least 12 characters are needed');
    expect(passwordProblem(' twelve chars ok ')).toBe('it must not start or end with a space');
    expect(passwordProblem('a perfectly fine passphrase')).toBeUndefined();
  });
});
