/**
 * Personal API tokens exchanged per second by the reference portal's `POST /oauth/token` (through `app.request()`:
 * the form, the per-address and per-token limits, the constant-time check of the API token, the owner's grants,
 * signing, the record of the dataset token and the token's use), beside the token library's raw `signer.sign` of
 * the same dataset token and, as the floor, the same app answering a trivial POST (its middleware, the form read,
 * a JSON answer of the same size: what any request costs before the exchange does anything), in alternating
 * rounds of the same run, on the embedded SQLite store and on PostgreSQL (a throwaway cluster on this machine,
 * skipped when PostgreSQL is not installed). The exchanges rotate over 500 API tokens of 50 users, as many scripts
 * would, each well under its own limit.
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
  type StoreLocation,
  type TokenKeys,
} from '@pp-embed/portal';
import { postgresBin, startPostgres } from '../scripts/postgres-cluster.js';
import { interleavedRates, ratio } from './measure.js';

const USERS = 50;

const FLOOR_PATH = '/bench/trivial-post';

/** A store with 50 users, each granted PPDemo and holding as many API tokens as a user may. */
async function storeWithTokens(location: StoreLocation): Promise<{ store: PortalStore; tokens: string[] }> {
  const store = await openStore(location);
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
  return { store, tokens };
}

/** The portal app over `store` with `keys`, the floor's route added, and the three things measured. */
async function portal(store: PortalStore, tokens: readonly string[], keys: TokenKeys) {
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
  // The floor: the same app, middleware and all, reading a form and answering a fixed JSON body as long as an
  // exchange's, with the same headers; added before the first request, while routes may still be added.
  let answer = '{}';
  app.post(FLOOR_PATH, async (c) => {
    new URLSearchParams(await c.req.text());
    c.header('Cache-Control', 'no-store');
    c.header('Pragma', 'no-cache');
    return c.body(answer, 200, { 'content-type': 'application/json' });
  });
  const incoming = { incoming: { socket: { remoteAddress: '198.51.100.7' } } };
  const post = async (path: string, i: number) => {
    const body = `grant_type=refresh_token&refresh_token=${tokens[i % tokens.length]}`;
    const response = await app.request(
      `http://localhost${path}`,
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
    if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
    return response.text();
  };
  const exchange = (i: number) => post('/oauth/token', i);
  answer = await exchange(0);
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
  return {
    exchange,
    floor: (i: number) => post(FLOOR_PATH, i),
    sign: () => signer.sign(subject),
  };
}

function line(name: string, opsPerSecond: number, unit = 'tokens/s'): string {
  return `  ${name.padEnd(44)} ${Math.round(opsPerSecond).toLocaleString('en-US').padStart(10)} ${unit}`;
}

/** The exchange, its raw signature and its floor on one store, HS256 then ES256. */
async function benchStore(name: string, location: StoreLocation): Promise<void> {
  const { store, tokens } = await storeWithTokens(location);
  const hs = await portal(store, tokens, hs256Keys(Buffer.from(generateSecret()), { ttlSeconds: 600 }));
  const dir = mkdtempSync(join(tmpdir(), 'bench-exchange-keys-'));
  writeFileSync(join(dir, 'key.pem'), generateKeyPair('ES256').privateKeyPem);
  const es = await portal(store, tokens, await es256KeyDirectory({ dir, sql: store.sql, ttlSeconds: 600 }));
  for (const [alg, app] of [
    ['HS256', hs],
    ['ES256', es],
  ] as const) {
    const { rates, ratios } = await interleavedRates(
      { sign: app.sign, floor: app.floor, exchange: app.exchange },
      7,
      400,
    );
    // Per request: what the floor costs, and what the exchange adds to it (signing included).
    const us = (perSecond: number) => 1e6 / perSecond;
    const ours = us(rates.exchange) - us(rates.floor);
    console.log(`${name}, ${alg}`);
    console.log(line('raw signer.sign', rates.sign));
    console.log(line('trivial POST to the same app (the floor)', rates.floor, 'requests/s'));
    console.log(line('POST /oauth/token (app.request)', rates.exchange));
    console.log(
      `  per exchange: ${us(rates.exchange).toFixed(0)} µs = floor ${us(rates.floor).toFixed(0)} µs + the exchange's own ${ours.toFixed(0)} µs (signing ${us(rates.sign).toFixed(0)} µs)`,
    );
    console.log(ratio(`  ${alg}: trivial POST / raw sign (the floor)`, ratios.floor, {}));
    console.log(ratio(`  ${alg}: exchange / raw sign`, ratios.exchange, { atLeast: 0.2 }));
  }
  await store.close();
}

/**
 * Prints the exchange's, the floor's and the raw signer's rates for HS256 and ES256 on each store, and the
 * exchange's ratio against its goal (0.2).
 *
 * @example
 * await benchExchange();
 */
export async function benchExchange(): Promise<void> {
  console.log(
    '\n# Token exchange (POST /oauth/token) vs raw signer.sign of the same token, and the same app answering a trivial POST (median of alternating rounds)',
  );
  await benchStore('SQLite store', { kind: 'sqlite', path: ':memory:' });
  if (postgresBin() === undefined) {
    console.log('PostgreSQL store: skipped (PostgreSQL is not installed)');
    return;
  }
  const cluster = await startPostgres();
  try {
    await benchStore('PostgreSQL store (loopback)', { kind: 'postgres', url: cluster.url });
  } finally {
    cluster.stop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  await benchExchange();
