// Interoperability with an independent JOSE implementation (jose): what it signs we verify, and what we sign it
// verifies. jose is a test-only dependency.
import { createSecretKey } from 'node:crypto';
import { exportJWK, importJWK, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { clock, ecKeys, newSecret, NOW, NOW_MS, rsaKeys } from '../test/helpers.js';
import { publicJwk } from './keys.js';
import { createSigner } from './sign.js';
import { createVerifier } from './verify.js';

const payload = { datasets: ['TermdbTest'], email: 'ana@example.org', clientAuthResult: { role: 'analyst' } };
const currentDate = new Date(NOW_MS);

describe('tokens signed by jose verify here', () => {
  it.each(['HS256', 'ES256', 'RS256'] as const)('%s', async (alg) => {
    const secret = newSecret();
    const pair = alg === 'ES256' ? ecKeys() : alg === 'RS256' ? rsaKeys() : undefined;
    const signingKey = pair?.privateKey ?? createSecretKey(Buffer.from(secret));
    const token = await new SignJWT(payload)
      .setProtectedHeader({ alg })
      .setIssuedAt(NOW)
      .setExpirationTime(NOW + 300)
      .setJti('interop-1')
      .sign(signingKey);
    const verifier = createVerifier({ key: pair ? { publicKey: pair.publicKey } : { secret }, now: clock });
    await expect(verifier.verify(token)).resolves.toMatchObject({
      ...payload,
      jti: 'interop-1',
      exp: NOW + 300,
    });
  });

  it('ES256 through a JWKS that jose exported, selected by kid', async () => {
    const { privateKey, publicKey } = ecKeys();
    const other = ecKeys();
    const jwks = {
      keys: [
        { ...(await exportJWK(other.publicKey)), kid: 'old', alg: 'ES256' },
        { ...(await exportJWK(publicKey)), kid: 'new', alg: 'ES256' },
      ],
    };
    const token = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'ES256', kid: 'new' })
      .setIssuedAt(NOW)
      .setExpirationTime(NOW + 300)
      .sign(privateKey);
    await expect(createVerifier({ key: { jwks }, now: clock }).verify(token)).resolves.toBeDefined();
  });
});

describe('tokens signed here verify with jose', () => {
  it.each(['HS256', 'ES256', 'RS256'] as const)('%s', async (alg) => {
    const secret = newSecret();
    const pair = alg === 'ES256' ? ecKeys() : alg === 'RS256' ? rsaKeys() : undefined;
    const signer = createSigner({
      algorithm: alg,
      key: pair ? { privateKey: pair.privateKey } : { secret },
      now: clock,
    });
    const token = signer.sign(payload);
    const key = pair
      ? await importJWK(publicJwk(pair.publicKey, alg), alg)
      : createSecretKey(Buffer.from(secret));
    const { payload: verified, protectedHeader } = await jwtVerify(token, key, {
      algorithms: [alg],
      currentDate,
    });
    expect(verified).toMatchObject({ ...payload, iat: NOW, exp: NOW + 600 });
    expect(protectedHeader.kid).toBe(signer.kid);
  });
});
