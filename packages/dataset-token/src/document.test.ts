import { describe, expect, it } from 'vitest';
import { claims, clock, ecKeys, forgeHmac, newSecret, NOW, NOW_MS, refusal } from '../test/helpers.js';
import { publicJwk } from './keys.js';
import { createSigner } from './sign.js';
import { createDocumentVerifier, createVerifier, REVOCATION_FEED_TYP } from './verify.js';

const secret = newSecret();
const signer = createSigner({ algorithm: 'HS256', key: { secret }, now: clock });
const documents = createDocumentVerifier({ key: { secret }, typ: REVOCATION_FEED_TYP, now: clock });

describe('signed documents (a revocation feed)', () => {
  it('signs a document with the token key and verifies it with its typ, iat and exp', async () => {
    const jws = signer.signDocument({ seq: 7, entries: [] }, { typ: REVOCATION_FEED_TYP, ttlSeconds: 300 });
    const header = JSON.parse(Buffer.from(jws.split('.')[0] as string, 'base64url').toString()) as unknown;
    expect(header).toEqual({ alg: 'HS256', typ: REVOCATION_FEED_TYP });
    const doc = await documents.verify(jws);
    expect(doc).toMatchObject({ iat: NOW, exp: NOW + 300, payload: { seq: 7, entries: [] } });
  });

  it('works with an ES256 key published as a JWKS', async () => {
    const { privateKey } = ecKeys();
    const es = createSigner({ algorithm: 'ES256', key: { privateKey }, now: clock });
    const verifier = createDocumentVerifier({
      key: { jwks: { keys: [publicJwk(privateKey, 'ES256', es.kid)] } },
      typ: REVOCATION_FEED_TYP,
      now: clock,
    });
    const jws = es.signDocument({ seq: 1 }, { typ: REVOCATION_FEED_TYP, ttlSeconds: 60 });
    expect((await verifier.verify(jws)).payload.seq).toBe(1);
  });

  it('refuses a forged signature, another typ, a dataset token, and a document without exp', async () => {
    const forged = signer.signDocument({ seq: 1 }, { typ: REVOCATION_FEED_TYP, ttlSeconds: 60 });
    expect((await refusal(documents.verify(`${forged.slice(0, -3)}AAA`))).message).toMatch(/signature/);
    const other = createSigner({ algorithm: 'HS256', key: { secret: newSecret() }, now: clock });
    const foreign = other.signDocument({ seq: 1 }, { typ: REVOCATION_FEED_TYP, ttlSeconds: 60 });
    expect((await refusal(documents.verify(foreign))).message).toMatch(/signature/);
    const token = signer.sign({ datasets: ['PPDemo'], email: 'ana@example.org' });
    expect((await refusal(documents.verify(token))).claim).toBe('typ');
    const noExp = forgeHmac({ alg: 'HS256', typ: REVOCATION_FEED_TYP }, { iat: NOW, seq: 1 }, secret);
    expect((await refusal(documents.verify(noExp))).claim).toBe('exp');
  });

  it('refuses an expired document', async () => {
    const jws = signer.signDocument({ seq: 1 }, { typ: REVOCATION_FEED_TYP, ttlSeconds: 60 });
    expect((await refusal(documents.verify(jws, NOW_MS + 3600_000))).code).toBe('token_expired');
  });

  it('never accepts a revocation feed as a dataset token (RFC 8725 §3.11)', async () => {
    // Even a feed whose payload happens to look like dataset claims.
    const jws = signer.signDocument(claims(), { typ: REVOCATION_FEED_TYP, ttlSeconds: 60 });
    const tokens = createVerifier({ key: { secret }, now: clock });
    expect((await refusal(tokens.verify(jws))).claim).toBe('typ');
  });

  it('will not sign a document typed as a token', () => {
    expect(() => signer.signDocument({}, { typ: 'JWT', ttlSeconds: 60 })).toThrow(/typ/);
  });
});
