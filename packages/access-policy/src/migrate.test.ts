import { describe, expect, it } from 'vitest';
import { newSecret } from '../test/helpers.js';
import { migrateDsCredentials } from './migrate.js';
import { hashPassword, parsePasswordHash, verifyPassword } from './password.js';

const cheap = { hashPassword: (password: string) => hashPassword(password, { ln: 14, r: 8, p: 1 }) };

describe('migrateDsCredentials', () => {
  it('reshapes the legacy jwt shape, keeping every embedder and the dataset header', async () => {
    const strong = newSecret();
    const input = {
      ds0: {
        type: 'jwt',
        headerKey: 'x-ds-token',
        embedders: {
          localhost: { secret: strong },
          'portal.example.org': { secret: strong, looseIpCheck: true },
        },
      },
    };
    const before = structuredClone(input);
    const { dsCredentials, changes, left } = await migrateDsCredentials(input, cheap);
    expect(dsCredentials).toEqual({
      ds0: {
        termdb: {
          localhost: { type: 'jwt', secret: strong, headerKey: 'x-ds-token' },
          'portal.example.org': { type: 'jwt', secret: strong, looseIpCheck: true, headerKey: 'x-ds-token' },
        },
      },
    });
    expect(changes).toEqual([
      {
        path: 'dsCredentials.ds0',
        message: 'ProteinPaint\'s legacy {"type": "jwt", "embedders": …} shape is written as route keys',
      },
    ]);
    expect(left).toEqual([]);
    expect(input).toEqual(before);
  });

  it('replaces a plaintext password by its hash and a token secret to set, and never repeats the password', async () => {
    const { dsCredentials, changes } = await migrateDsCredentials(
      { ds1: { type: 'login', password: 'the old password' } },
      cheap,
    );
    const entry = (dsCredentials as { ds1: { '*': { '*': Record<string, unknown> } } }).ds1['*']['*'];
    expect(entry).toMatchObject({ type: 'basic', tokenSecret: { env: 'PP_DS_TOKEN_SECRET' } });
    expect(entry).not.toHaveProperty('password');
    const hash = parsePasswordHash(entry.passwordHash as string);
    expect('problem' in hash).toBe(false);
    if (!('problem' in hash)) expect(await verifyPassword(hash, 'the old password')).toBe(true);
    expect(changes.map((c) => c.path)).toEqual(['dsCredentials.ds1', 'dsCredentials.ds1.*.*']);
    expect(JSON.stringify(changes)).not.toContain('the old password');
  });

  it('reads weak secrets from variables to set, one per distinct secret, and never repeats them', async () => {
    const { dsCredentials, changes } = await migrateDsCredentials(
      {
        A: { termdb: { 'a.example.org': { type: 'jwt', secret: 'abc123' } } },
        B: {
          termdb: {
            'b.example.org': { type: 'jwt', secret: 'abc123' },
            'c.example.org': { type: 'jwt', secret: 'other' },
          },
        },
      },
      cheap,
    );
    expect(dsCredentials).toEqual({
      A: { termdb: { 'a.example.org': { type: 'jwt', secret: { env: 'PP_DS_SECRET' } } } },
      B: {
        termdb: {
          'b.example.org': { type: 'jwt', secret: { env: 'PP_DS_SECRET' } },
          'c.example.org': { type: 'jwt', secret: { env: 'PP_DS_SECRET_2' } },
        },
      },
    });
    expect(changes[0]?.message).toBe(
      'the secret is too weak for HS256 (6 bytes, HS256 needs at least 32): it is read from PP_DS_SECRET; set that to a new secret (`pp-token secret`) and give the portal the same one',
    );
    expect(JSON.stringify(changes)).not.toContain('abc123');
  });

  it('writes a jwt entry without a key as forbidden, and drops ProteinPaint-only fields with the reason', async () => {
    const strong = newSecret();
    const { dsCredentials, changes } = await migrateDsCredentials(
      {
        T: {
          '*': { localhost: { type: 'jwt', secret: strong, demoToken: { roles: [] } }, '*': { type: 'jwt' } },
        },
      },
      cheap,
    );
    expect(dsCredentials).toEqual({
      T: { '*': { localhost: { type: 'jwt', secret: strong }, '*': { type: 'forbidden' } } },
    });
    expect(changes.map((c) => c.path)).toEqual([
      'dsCredentials.T.*.localhost.demoToken',
      'dsCredentials.T.*.*',
    ]);
  });

  it('leaves what only the operator can fix, and says so', async () => {
    const { left } = await migrateDsCredentials(
      {
        T: { '*': { '*': 'a string entry', '*.example.org': { type: 'open' } } },
        U: { type: 'oauth' },
        'SJ*': {},
      },
      cheap,
    );
    expect(left.map((p) => p.path)).toEqual([
      'dsCredentials.T.*.*',
      'dsCredentials.T.*.*.example.org',
      'dsCredentials.U',
      'dsCredentials.SJ*',
    ]);
  });
});
