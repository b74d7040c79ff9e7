/**
 * Personal API tokens exchanged per second by the reference portal's `POST /oauth/token` (through `app.request()`,
 * on the embedded SQLite store: the form, the per-address and per-token limits, the constant-time check of the API
 * token, the owner's grants, signing, the record of the dataset token and the token's use), beside the token
 * library's raw `signer.sign` of the same dataset token, in alternating rounds of the same run. The exchanges
 * rotate over 500 API tokens of 50 users, as many scripts would, each well under its own limit.
 * Run: node --import tsx/esm --conditions=source bench/exchange.ts
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { proxyTrust } from '@pp-embed/client-address';
import { generateKeyPair, generateSecret } from '@pp-embed/dataset-token';
import {
  createApp,
  es256KeyDirectory,
  hs256Keys,
  MAX_API_TOKENS_PER_USER,
  openStore,
  type PortalStore,
  type TokenKeys,
} from '@pp-embed/portal';
import { interleavedRatio, ratio } from './measure.js';

const USERS = 50;

async function portalWithTokens(makeKeys: (store: PortalStore) => TokenKeys | Promise<TokenKeys>) {
  const store = await openStore({ kind: 'sqlite', path: ':memory:' });
  const tokens: string[] = [];
  for (let u = 0; u < USERS; u++) {
    const user = await store.users.create(`user${u}@example.org`, null, Date.now());
    await store.grants.set(user.id, 'PPDemo', { role: 'analyst' }, Date.now());
    for (let t = 0; t < MAX_API_TOKENS_PER_USER; t++) {
      const spec = {
        name: `t${t}`,
        datasets: ['PPDemo'],
        routeClasses: ['aggregated', 'sample-level'] as const,
        pinned: false,
        days: 90,
      };
      tokens.push((await store.apiTokens.create(user, spec, Date.now())).token);
    }
  }
  const keys = await makeKeys(store);
  const app = createApp({
    config: {
      vizServerUrl: 'http://127.0.0.1:3001',
      tokenIp: 'none',
      proxies: proxyTrust([]),
      publicUrl: undefined,
      datasets: [{ label: 'PPDemo' }],
    },
    store,
    keys,
  });
  const incoming = { incoming: { socket: { remoteAddress: '198.51.100.7' } } };
  const exchange = async (i: number) => {
    const body = `grant_type=refresh_token&refresh_token=${tokens[i % tokens.length]}`;
    const response = await app.request(
      'http://localhost/oauth/token',
      {
        method: 'POST',
        // With its length, as every HTTP client sends a form (without it the body limit has to count the body
        // through a stream of its own, which a real request never needs).
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': String(body.length),
        },
        body,
      },
      incoming,
    );
    if (response.status !== 200) throw new Error(`the exchange answered ${response.status}`);
    return response.text();
  };
  await exchange(0);
  const signer = await keys.signer();
  // What the exchange signs: the grant's claims, for a script, with the API token's id and classes.
  const subject = {
    datasets: ['PPDemo'],
    email: 'user0@example.org',
    clientAuthResult: { role: 'analyst' },
    client: 'script' as const,
    apiTokenId: tokens[0]?.slice(5, 17) ?? '',
    routeClasses: ['aggregated', 'sample-level'] as const,
  };
  return { exchange, sign: () => signer.sign(subject) };
}

function line(name: string, opsPerSecond: number): string {
  return `  ${name.padEnd(44)} ${Math.round(opsPerSecond).toLocaleString('en-US').padStart(10)} tokens/s`;
}

/**
 * Prints the exchange's and the raw signer's rates for HS256 and ES256, and their ratio against the floor (0.2).
 *
 * @example
 * await benchExchange();
 */
export async function benchExchange(): Promise<void> {
  console.log(
    '\n# Token exchange (POST /oauth/token) vs raw signer.sign of the same token (median of alternating rounds)',
  );
  const hs = await portalWithTokens(() => hs256Keys(Buffer.from(generateSecret()), { ttlSeconds: 600 }));
  const dir = mkdtempSync(join(tmpdir(), 'bench-exchange-keys-'));
  writeFileSync(join(dir, 'key.pem'), generateKeyPair('ES256').privateKeyPem);
  const es = await portalWithTokens((store) => es256KeyDirectory({ dir, sql: store.sql, ttlSeconds: 600 }));
  for (const [alg, portal] of [
    ['HS256', hs],
    ['ES256', es],
  ] as const) {
    const result = await interleavedRatio(portal.sign, portal.exchange, 7, 400);
    console.log(alg);
    console.log(line('raw signer.sign', result.a));
    console.log(line('POST /oauth/token (app.request)', result.b));
    console.log(ratio(`  ${alg}: exchange / raw sign`, result.ratio, { atLeast: 0.2 }));
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  await benchExchange();
