/**
 * Sign and verify throughput of @pp-embed/dataset-token beside the raw node:crypto floor. Each ratio is the median
 * of rounds that alternate the library and the floor, so load from other processes hits both alike.
 * Run: pnpm bench  (or: node --import tsx/esm --conditions=source bench/token.ts)
 */
import { createHmac, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { createSigner, createVerifier } from '@pp-embed/dataset-token';
import { interleavedRatio, ratio } from './measure.js';

const subject = {
  datasets: ['TermdbTest'],
  email: 'ana@example.org',
  clientAuthResult: { role: 'analyst', cohorts: ['ABC'] },
};

function line(name: string, opsPerSecond: number): string {
  return `${name.padEnd(44)} ${Math.round(opsPerSecond).toLocaleString('en-US').padStart(12)} ops/s`;
}

export async function benchTokens(): Promise<void> {
  console.log(
    '\n# Tokens: dataset-token sign and verify vs the node:crypto floor (median of alternating rounds)',
  );
  const secret = randomBytes(32).toString('base64url');
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const hs = createSigner({ algorithm: 'HS256', key: { secret } });
  const es = createSigner({ algorithm: 'ES256', key: { privateKey: ec.privateKey } });
  const rs = createSigner({ algorithm: 'RS256', key: { privateKey: rsa.privateKey } });
  const pool = (signer: typeof hs, n: number) => Array.from({ length: n }, () => signer.sign(subject));
  const hsTokens = pool(hs, 20_000);
  const esTokens = pool(es, 2_000);
  const rsTokens = pool(rs, 2_000);
  const sample = hsTokens[0] as string;
  const input = Buffer.from(sample.slice(0, sample.lastIndexOf('.')));
  const at = <T>(list: readonly T[], i: number) => list[i % list.length] as T;

  const hmac = () => createHmac('sha256', secret).update(input).digest();
  const esSig = sign('sha256', input, ec.privateKey);
  const rsSig = sign('sha256', input, rsa.privateKey);
  const ecdsa = () => verify('sha256', input, ec.publicKey, esSig);
  const rsaVerify = () => verify('sha256', input, rsa.publicKey, rsSig);
  const hsFresh = createVerifier({ key: { secret }, cacheSize: 0 });
  const hsCached = createVerifier({ key: { secret } });
  const esVerifier = createVerifier({ key: { publicKey: ec.publicKey }, cacheSize: 0 });
  const rsVerifier = createVerifier({ key: { publicKey: rsa.publicKey }, cacheSize: 0 });

  const rows: [string, Awaited<ReturnType<typeof interleavedRatio>>, string, { atLeast: number }?][] = [
    ['sign HS256', await interleavedRatio(hmac, () => hs.sign(subject)), 'raw HMAC-SHA256'],
    [
      'sign ES256',
      await interleavedRatio(
        () => sign('sha256', input, ec.privateKey),
        () => es.sign(subject),
      ),
      'raw ECDSA P-256 sign',
    ],
    [
      'sign RS256',
      await interleavedRatio(
        () => sign('sha256', input, rsa.privateKey),
        () => rs.sign(subject),
        5,
        400,
      ),
      'raw RSA-2048 sign',
    ],
    [
      'verify HS256, fresh token',
      await interleavedRatio(hmac, (i) => hsFresh.verify(at(hsTokens, i))),
      'raw HMAC-SHA256',
      { atLeast: 0.2 },
    ],
    [
      'verify HS256, cached token',
      await interleavedRatio(hmac, () => hsCached.verify(sample)),
      'raw HMAC-SHA256',
      { atLeast: 0.8 },
    ],
    [
      'verify ES256, fresh token',
      await interleavedRatio(ecdsa, (i) => esVerifier.verify(at(esTokens, i))),
      'raw ECDSA P-256 verify',
    ],
    [
      'verify RS256, fresh token',
      await interleavedRatio(rsaVerify, (i) => rsVerifier.verify(at(rsTokens, i))),
      'raw RSA-2048 verify',
    ],
  ];
  for (const [name, r, floor] of rows) {
    console.log(line(name, r.b));
    console.log(line(`  floor: ${floor}`, r.a));
  }
  for (const [name, r, floor, goal] of rows) {
    console.log(ratio(`${name} / ${floor}`, r.ratio, goal ?? {}));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchTokens();
