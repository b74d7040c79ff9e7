import { describe, expect, it } from 'vitest';
import { hashPassword, MAX_PASSWORD_LENGTH, parsePasswordHash, verifyPassword } from './password.js';

// The cheapest cost the loader accepts, so that the tests stay fast; the default is one step dearer.
const CHEAP = { ln: 14, r: 8, p: 1 };

function parsed(text: string) {
  const h = parsePasswordHash(text);
  if ('problem' in h) throw new Error(h.problem);
  return h;
}

describe('dataset password hashes', () => {
  it('checks the password a hash was made from, and no other', async () => {
    const hash = parsed(await hashPassword('correct horse battery staple', CHEAP));
    expect(await verifyPassword(hash, 'correct horse battery staple')).toBe(true);
    expect(await verifyPassword(hash, 'correct horse battery stapl')).toBe(false);
    expect(await verifyPassword(hash, 'Correct horse battery staple')).toBe(false);
    expect(await verifyPassword(hash, '')).toBe(false);
    expect(await verifyPassword(hash, 'x'.repeat(MAX_PASSWORD_LENGTH + 1))).toBe(false);
  });

  it('writes the PHC string format with a fresh salt each time', async () => {
    const [a, b] = await Promise.all([hashPassword('same', CHEAP), hashPassword('same', CHEAP)]);
    expect(a).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b);
  });

  it('compares the password after Unicode normalisation, so one password typed two ways is the same', async () => {
    const hash = parsed(await hashPassword('caf\u00e9', CHEAP));
    expect(await verifyPassword(hash, 'cafe\u0301')).toBe(true);
  });

  it.each([
    ['a plaintext password', 'hunter2', 'not a password hash'],
    ['another algorithm', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA', 'not a password hash'],
    [
      'a cost too cheap to stop guessing',
      '$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$' + 'A'.repeat(43),
      'outside',
    ],
    [
      'a cost that would stall the server',
      '$scrypt$ln=24,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$' + 'A'.repeat(43),
      'outside',
    ],
    ['a short salt', '$scrypt$ln=15,r=8,p=1$c2FsdA$' + 'A'.repeat(43), 'too short'],
  ])('refuses %s', (_name, text, problem) => {
    const result = parsePasswordHash(text);
    expect('problem' in result && result.problem).toContain(problem);
  });
});
