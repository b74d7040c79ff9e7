/**
 * Signature and algorithm attacks against the running visualization server: every forged token is refused with
 * 401 `token_invalid`, the key configured for the dataset alone decides which algorithm and key check a token,
 * and nothing in a token header makes the server fetch anything.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectionTrap,
  DS,
  type DatasetLabel,
  expectGranted,
  expectRefusal,
  itLeavesCleanLogs,
  JWKS_KID,
  samplesPath,
  useVizLab,
} from '../harness.js';
import { b64u, type ForgeAlgorithm, jsonSegment, segments } from '../jws.js';

const lab = useVizLab();

const refusedAs401 = async (dataset: DatasetLabel, token: string) =>
  expectRefusal(await lab().get(samplesPath(dataset), { token }), 401, 'token_invalid');

/** The header and payload of a valid token for `dataset`, to put another signature or header on. */
function parts(dataset: DatasetLabel): { header: string; payload: string; signature: string } {
  const [header = '', payload = '', signature = ''] = segments(lab().token(dataset));
  return { header, payload, signature };
}

// An attacker's own keys: whatever they sign with them must never verify.
const attacker = {
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ec: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
};

describe('alg "none" (RFC 8725 §3.1; RFC 7518 §3.6; OWASP JWT cheat sheet "None hashing algorithm"; PortSwigger "flawed signature verification")', () => {
  const casings = ['none', 'None', 'NONE', 'nOnE', 'NoNe', 'none ', ' none', 'none\u0000'];
  for (const dataset of [DS.hs, DS.rs, DS.jwks] as const) {
    it.each(casings)(`${dataset}: alg %j with no signature is refused`, async (alg) => {
      const { payload } = parts(dataset);
      const token = lab().forge({
        header: { alg, typ: 'JWT' },
        payloadSegment: payload,
        signatureSegment: '',
      });
      await refusedAs401(dataset, token);
    });
  }

  it.each(casings)('alg %j keeping the real signature of a valid token is refused', async (alg) => {
    const { payload, signature } = parts(DS.hs);
    const token = lab().forge({ header: { alg }, payloadSegment: payload, signatureSegment: signature });
    await refusedAs401(DS.hs, token);
  });

  it.each([
    ['missing', {}],
    ['null', { alg: null }],
    ['empty', { alg: '' }],
    ['a list', { alg: ['HS256'] }],
    ['an object', { alg: { name: 'HS256' } }],
    ['lower case', { alg: 'hs256' }],
    ['unknown', { alg: 'HS1' }],
    ['an encryption algorithm', { alg: 'RSA-OAEP', enc: 'A256GCM' }],
  ])('an alg that is %s is refused even when the HMAC is right', async (_what, header) => {
    const { payload } = parts(DS.hs);
    const token = lab().forge({ header, payloadSegment: payload, signWith: 'HS256', key: lab().keys.hs });
    await refusedAs401(DS.hs, token);
  });
});

describe('stripped and truncated signatures (RFC 7515 §5.2; OWASP JWT cheat sheet; PortSwigger "unverified signature")', () => {
  const variants: [string, (s: string) => string][] = [
    ['empty', () => ''],
    ['one character', (s) => s.slice(0, 1)],
    ['half', (s) => s.slice(0, Math.floor(s.length / 2))],
    ['one character short', (s) => s.slice(0, -1)],
    ['one character long', (s) => `${s}A`],
    ['first byte flipped', (s) => b64u(flipFirstByte(Buffer.from(s, 'base64url')))],
    ['reversed', (s) => [...s].reverse().join('')],
    ['all zero bytes', (s) => b64u(Buffer.alloc(Buffer.from(s, 'base64url').length))],
  ];
  for (const dataset of [DS.hs, DS.rs, DS.es] as const) {
    it.each(variants)(`${dataset}: a signature that is %s is refused`, async (_what, change) => {
      const { header, payload, signature } = parts(dataset);
      const token = lab().forge({
        headerSegment: header,
        payloadSegment: payload,
        signatureSegment: change(signature),
      });
      await refusedAs401(dataset, token);
    });
  }

  it.each([DS.hs, DS.rs, DS.es] as const)(
    '%s: the signature of one valid token on the claims of another is refused',
    async (dataset) => {
      const donor = parts(dataset);
      const { header } = parts(dataset);
      const payload = jsonSegment({
        ...JSON.parse(Buffer.from(donor.payload, 'base64url').toString()),
        email: 'mallory@example.org',
      });
      const token = lab().forge({
        headerSegment: header,
        payloadSegment: payload,
        signatureSegment: donor.signature,
      });
      await refusedAs401(dataset, token);
    },
  );

  it('two segments only (the signature and its dot stripped) is refused', async () => {
    const { header, payload } = parts(DS.hs);
    await refusedAs401(DS.hs, lab().track(`${header}.${payload}`));
  });
});

describe('algorithm substitution (RFC 8725 §2.1 and §3.1; OWASP JWT cheat sheet; PortSwigger "algorithm confusion")', () => {
  const cases: [DatasetLabel, ForgeAlgorithm][] = [
    [DS.hs, 'HS384'],
    [DS.hs, 'HS512'],
    [DS.rs, 'PS256'],
    [DS.rs, 'RS384'],
    [DS.rs, 'RS512'],
    [DS.rs, 'PS512'],
    [DS.es, 'ES384'],
    [DS.es, 'ES512'],
    [DS.jwks, 'ES384'],
  ];
  it.each(cases)('%s: signed with its own key but as %s is refused', async (dataset, alg) => {
    await refusedAs401(dataset, lab().token(dataset, { alg }));
  });

  it.each([DS.rs, DS.es] as const)(
    '%s: an HS256 token signed with the shared secret of another dataset is refused',
    async (dataset) => {
      await refusedAs401(dataset, lab().token(dataset, { key: 'hs', alg: 'HS256' }));
    },
  );

  it('HsData: an RS256 token is refused (the secret decides the family)', async () => {
    await refusedAs401(DS.hs, lab().token(DS.hs, { key: 'rsa', alg: 'RS256' }));
  });

  describe('the public key used as an HMAC secret (RFC 8725 §2.1; PortSwigger "algorithm confusion" lab; CVE-2015-9235)', () => {
    const forms = (dataset: typeof DS.rs | typeof DS.es | typeof DS.jwks): [string, string | Buffer][] => {
      const pair = dataset === DS.rs ? lab().keys.rsa : dataset === DS.es ? lab().keys.ec : lab().keys.jwks;
      const forms: [string, string | Buffer][] = [
        ['PEM', pair.publicPem],
        ['PEM without its final newline', pair.publicPem.trimEnd()],
        ['DER', pair.publicKey.export({ format: 'der', type: 'spki' })],
        ['JWK JSON', JSON.stringify(pair.publicKey.export({ format: 'jwk' }))],
      ];
      if (dataset === DS.rs) {
        forms.push(['PKCS#1 PEM', pair.publicKey.export({ format: 'pem', type: 'pkcs1' }).toString()]);
      }
      return forms;
    };
    for (const dataset of [DS.rs, DS.es, DS.jwks] as const) {
      for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
        it(`${dataset}: ${alg} keyed with the dataset's public key in every encoding is refused`, async () => {
          for (const [form, key] of forms(dataset)) {
            const { payload } = parts(dataset);
            const header = { alg, typ: 'JWT', ...(dataset === DS.jwks && { kid: JWKS_KID }) };
            const token = lab().forge({ header, payloadSegment: payload, signWith: alg, key });
            const reply = await lab().get(samplesPath(dataset), { token });
            expect(reply.status, form).toBe(401);
            expectRefusal(reply, 401, 'token_invalid');
          }
        });
      }
    }
  });
});

describe('keys carried by the token (RFC 8725 §3.10; RFC 7515 §4.1.3 and §4.1.6; PortSwigger "jwk header injection")', () => {
  it.each([DS.rs, DS.es, DS.jwks] as const)(
    '%s: a token signed by the attacker with their public key embedded as `jwk` is refused',
    async (dataset) => {
      const rsa = dataset === DS.rs;
      const pair = rsa ? attacker.rsa : attacker.ec;
      const alg = rsa ? 'RS256' : 'ES256';
      const jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid: JWKS_KID, alg, use: 'sig' };
      const token = lab().token(dataset, { header: { alg, jwk, kid: JWKS_KID } });
      // Re-sign the same header and claims with the attacker's key.
      const [header = '', payload = ''] = segments(token);
      const forged = lab().forge({
        headerSegment: header,
        payloadSegment: payload,
        signWith: alg,
        key: pair.privateKey,
      });
      await refusedAs401(dataset, forged);
    },
  );

  it.each([DS.rs, DS.es] as const)(
    "%s: an `x5c` chain naming the attacker's key is refused",
    async (dataset) => {
      const rsa = dataset === DS.rs;
      const pair = rsa ? attacker.rsa : attacker.ec;
      const alg = rsa ? 'RS256' : 'ES256';
      const x5c = [pair.publicKey.export({ format: 'der', type: 'spki' }).toString('base64')];
      const { payload } = parts(dataset);
      const token = lab().forge({
        header: { alg, x5c },
        payloadSegment: payload,
        signWith: alg,
        key: pair.privateKey,
      });
      await refusedAs401(dataset, token);
    },
  );

  it("HsData: an HS256 token with an embedded `oct` jwk holding the attacker's secret is refused", async () => {
    const secret = 'attacker-chosen-secret-that-is-long-enough-0123456789';
    const { payload } = parts(DS.hs);
    const token = lab().forge({
      header: { alg: 'HS256', jwk: { kty: 'oct', k: b64u(secret) } },
      payloadSegment: payload,
      signWith: 'HS256',
      key: secret,
    });
    await refusedAs401(DS.hs, token);
  });
});

describe('`jku` and `x5u` are never fetched (RFC 8725 §3.10; OWASP JWT cheat sheet; PortSwigger "jku header injection")', () => {
  let trap: Awaited<ReturnType<typeof connectionTrap>>;
  let jwksBefore = 0;
  let startedAt = 0;
  beforeAll(async () => {
    trap = await connectionTrap();
    jwksBefore = lab().jwksRequests;
    startedAt = performance.now();
  });
  afterAll(() => trap.close());

  const pointers = (): Record<string, unknown>[] => [
    { jku: `${trap.url}/jwks.json` },
    { x5u: `${trap.url}/cert.pem` },
    { jku: `${trap.url}/jwks.json`, x5u: `${trap.url}/cert.pem`, kid: 'attacker-key' },
    { jku: `http://localhost:${new URL(trap.url).port}/jwks.json` },
    { jku: `http://127.0.0.1:${new URL(trap.url).port}@evil.test/jwks.json` },
  ];

  it.each([DS.hs, DS.rs, DS.es, DS.jwks] as const)(
    '%s: attacker-signed tokens pointing anywhere are refused',
    async (dataset) => {
      for (const extra of pointers()) {
        const alg = dataset === DS.hs ? 'HS256' : dataset === DS.rs ? 'RS256' : 'ES256';
        const key =
          dataset === DS.hs
            ? 'attacker-chosen-secret-that-is-long-enough-0123456789'
            : dataset === DS.rs
              ? attacker.rsa.privateKey
              : attacker.ec.privateKey;
        const { payload } = parts(dataset);
        const token = lab().forge({ header: { alg, ...extra }, payloadSegment: payload, signWith: alg, key });
        await refusedAs401(dataset, token);
      }
    },
  );

  it.each([DS.hs, DS.rs, DS.es, DS.jwks] as const)(
    '%s: a correctly signed token with `jku`/`x5u` is checked with the configured key alone',
    async (dataset) => {
      const token = lab().token(dataset, {
        header: { jku: `${trap.url}/jwks.json`, x5u: `${trap.url}/cert.pem` },
      });
      expectGranted(await lab().get(samplesPath(dataset), { token }));
    },
  );

  it('received no connection on the trap, and a flood of unknown kids cost at most one JWKS refetch per 5 s cooldown', async () => {
    for (let i = 0; i < 30; i++) {
      const token = lab().token(DS.jwks, { header: { kid: `unknown-${i}`, jku: `${trap.url}/jwks.json` } });
      await refusedAs401(DS.jwks, token);
    }
    expect(trap.connections()).toBe(0);
    const cooldowns = Math.ceil((performance.now() - startedAt) / 5000);
    expect(lab().jwksRequests - jwksBefore).toBeLessThanOrEqual(cooldowns);
  });
});

describe('`kid` injection (RFC 7515 §4.1.4; OWASP JWT cheat sheet; PortSwigger "kid header path traversal")', () => {
  const marker = join(tmpdir(), `pp-security-kid-${randomUUID()}`);
  const kids = [
    '../../../../../../dev/null',
    '/dev/null',
    '../../../../../../etc/passwd',
    '..\\..\\..\\windows\\win.ini',
    'file:///dev/null',
    "' OR '1'='1",
    `${JWKS_KID}' --`,
    "x' UNION SELECT 'AAAA' --",
    `$(touch ${marker})`,
    `\`touch ${marker}\``,
    `; touch ${marker}`,
    `| touch ${marker}`,
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    '__defineGetter__',
    `${JWKS_KID}\u0000`,
    ` ${JWKS_KID}`,
    JWKS_KID.toUpperCase(),
    '',
    '*',
    'k'.repeat(300),
  ];

  it.each(kids)("JwksData: kid %j with the attacker's signature is refused", async (kid) => {
    const { payload } = parts(DS.jwks);
    const token = lab().forge({
      header: { alg: 'ES256', kid },
      payloadSegment: payload,
      signWith: 'ES256',
      key: attacker.ec.privateKey,
    });
    await refusedAs401(DS.jwks, token);
  });

  it.each(kids)(
    "JwksData: kid %j with the real key's signature still names no key, and is refused",
    async (kid) => {
      await refusedAs401(DS.jwks, lab().token(DS.jwks, { header: { kid } }));
    },
  );

  it.each(kids.filter((k) => k.length <= 256))(
    'HsData: kid %j with an HMAC keyed by an empty, zero or guessed secret is refused',
    async (kid) => {
      const { payload } = parts(DS.hs);
      for (const key of ['', '\u0000', 'null', 'undefined', kid, 'root:x:0:0:root:/root:/bin/bash\n']) {
        const token = lab().forge({
          header: { alg: 'HS256', kid },
          payloadSegment: payload,
          signWith: 'HS256',
          key,
        });
        await refusedAs401(DS.hs, token);
      }
    },
  );

  it.each(kids.filter((k) => k.length <= 256))(
    'HsData: kid %j does not change which key checks a correctly signed token (one key, kid ignored)',
    async (kid) => {
      expectGranted(await lab().get(samplesPath(DS.hs), { token: lab().token(DS.hs, { header: { kid } }) }));
    },
  );

  it.each([
    ['a number', 1],
    ['an object', { path: '/dev/null' }],
    ['a list', [JWKS_KID]],
    ['null', null],
    ['true', true],
    ['longer than 256 characters', 'k'.repeat(257)],
  ])('a kid that is %s is refused, whatever the dataset', async (_what, kid) => {
    for (const dataset of [DS.hs, DS.jwks] as const) {
      await refusedAs401(dataset, lab().token(dataset, { header: { kid } }));
    }
  });

  it('ran no shell command named by a kid', () => {
    expect(existsSync(marker)).toBe(false);
  });
});

describe('malformed ECDSA signatures (RFC 7518 §3.4; CVE-2022-21449 "psychic signatures")', () => {
  // The order of P-256 (FIPS 186-4 D.1.2.3).
  const n = Buffer.from('FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551', 'hex');
  const rs = (r: Buffer, s: Buffer) => Buffer.concat([r, s]);
  const cases: [string, (sig: Buffer) => Buffer][] = [
    ['63 bytes', (sig) => sig.subarray(0, 63)],
    ['65 bytes', (sig) => Buffer.concat([sig, Buffer.from([1])])],
    ['empty', () => Buffer.alloc(0)],
    ['32 bytes (r only)', (sig) => sig.subarray(0, 32)],
    ['128 bytes', (sig) => Buffer.concat([sig, sig])],
    ['r = 0', (sig) => rs(Buffer.alloc(32), sig.subarray(32))],
    ['s = 0', (sig) => rs(sig.subarray(0, 32), Buffer.alloc(32))],
    ['r = s = 0', () => Buffer.alloc(64)],
    ['r = s = n', () => rs(n, n)],
    ['r = n, s real', (sig) => rs(n, sig.subarray(32))],
    ['all bits set', () => Buffer.alloc(64, 0xff)],
    ['r and s swapped', (sig) => rs(sig.subarray(32), sig.subarray(0, 32))],
  ];
  for (const dataset of [DS.es, DS.jwks] as const) {
    it.each(cases)(`${dataset}: a signature that is %s is refused`, async (_what, change) => {
      const { header, payload, signature } = parts(dataset);
      const token = lab().forge({
        headerSegment: header,
        payloadSegment: payload,
        signatureSegment: b64u(change(Buffer.from(signature, 'base64url'))),
      });
      await refusedAs401(dataset, token);
    });

    it(`${dataset}: a DER-encoded signature of the right key is refused (JWS wants r||s)`, async () => {
      const { header, payload } = parts(dataset);
      const key = dataset === DS.es ? lab().keys.ec.privateKey : lab().keys.jwks.privateKey;
      const token = lab().forge({
        headerSegment: header,
        payloadSegment: payload,
        signWith: 'ES256',
        key,
        dsaEncoding: 'der',
      });
      await refusedAs401(dataset, token);
    });
  }
});

function flipFirstByte(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  copy[0] = (copy[0] ?? 0) ^ 0x01;
  return copy;
}

itLeavesCleanLogs(() => [lab()]);
