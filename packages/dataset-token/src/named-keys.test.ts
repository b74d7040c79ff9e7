import { describe, expect, it } from 'vitest';
import {
  claims,
  clock,
  ecKeys,
  forgeAsymmetric,
  forgeHmac,
  newSecret,
  NOW_MS,
  refusal,
} from '../test/helpers.js';
import { TokenSetupError } from './errors.js';
import { createVerifier, type NamedKey } from './verify.js';

const oldSecret = newSecret();
const newKeySecret = newSecret();
const hs = (kid?: string) =>
  kid === undefined ? { alg: 'HS256', typ: 'JWT' } : { alg: 'HS256', typ: 'JWT', kid };

function verifier(keys: readonly NamedKey[]) {
  return createVerifier({ key: { keys }, now: clock });
}

describe('a credential with several kid-named keys', () => {
  const rotating = verifier([
    { kid: 'k1', secret: oldSecret, notAfter: NOW_MS + 60_000 },
    { kid: 'k2', secret: newKeySecret },
  ]);

  it('checks each token with the key its kid names, and says which', async () => {
    const old = await rotating.verifyKey(forgeHmac(hs('k1'), claims(), oldSecret));
    const fresh = await rotating.verifyKey(forgeHmac(hs('k2'), claims(), newKeySecret));
    expect([old.kid, fresh.kid]).toEqual(['k1', 'k2']);
    expect(fresh.claims.email).toBe('ana@example.org');
  });

  it('refuses a token whose kid names the other key', async () => {
    const error = await refusal(rotating.verify(forgeHmac(hs('k2'), claims(), oldSecret)));
    expect(error.message).toBe('token signature does not match');
  });

  it('refuses a token without a kid when it cannot tell which key', async () => {
    const error = await refusal(rotating.verify(forgeHmac(hs(), claims(), newKeySecret)));
    expect([error.code, error.claim]).toEqual(['token_invalid', 'kid']);
  });

  it('refuses an unknown kid', async () => {
    const error = await refusal(rotating.verify(forgeHmac(hs('k3'), claims(), newKeySecret)));
    expect(error.message).toBe('no key matches the token kid');
  });

  it('accepts a token without a kid when there is one key', async () => {
    const single = verifier([{ kid: 'only', secret: newKeySecret }]);
    expect((await single.verifyKey(forgeHmac(hs(), claims(), newKeySecret))).kid).toBe('only');
  });

  it('refuses the old key after its notAfter, even for a token it checked before', async () => {
    const token = forgeHmac(hs('k1'), claims(), oldSecret);
    await expect(rotating.verify(token, NOW_MS)).resolves.toBeDefined();
    const error = await refusal(rotating.verify(token, NOW_MS + 61_000));
    expect(error.message).toBe('the key the token names was rotated out');
    await expect(
      rotating.verify(forgeHmac(hs('k2'), claims(), newKeySecret), NOW_MS + 61_000),
    ).resolves.toBeDefined();
  });

  it('pins each key to its own algorithm family (RFC 8725 §3.1)', async () => {
    const { privateKey, publicKey } = ecKeys();
    const mixed = verifier([
      { kid: 'hmac', secret: newKeySecret },
      { kid: 'ec', publicKey },
    ]);
    expect(mixed.algorithms).toEqual(['HS256', 'ES256']);
    const ec = forgeAsymmetric(
      { alg: 'ES256', typ: 'JWT', kid: 'ec' } as { alg: string },
      claims(),
      privateKey,
    );
    expect((await mixed.verifyKey(ec)).kid).toBe('ec');
    // The public key's text as an HMAC secret, under the EC key's kid: the classic confusion, refused.
    const confused = forgeHmac(hs('ec'), claims(), publicKey.export({ type: 'spki', format: 'pem' }));
    expect((await refusal(mixed.verify(confused))).message).toBe('token algorithm is not accepted');
  });

  it('refuses a set that is empty, names a kid twice, or holds a weak secret, at construction', () => {
    expect(() => verifier([])).toThrow(TokenSetupError);
    expect(() =>
      verifier([
        { kid: 'a', secret: newKeySecret },
        { kid: 'a', secret: oldSecret },
      ]),
    ).toThrow('kid a is named twice');
    expect(() => verifier([{ kid: 'a', secret: 'short' }])).toThrow(TokenSetupError);
  });
});
