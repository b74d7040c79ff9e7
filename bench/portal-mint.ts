/**
 * Tokens minted per second by the reference portal's `POST /api/dataset-token` (through `app.request()`, with a
 * signed-in session, so: session lookup, CSRF and origin checks, grants query, signing, JSON) beside the token
 * library's raw `signer.sign` with the same key, measured in alternating rounds of the same run.
 * Run: node --import tsx/esm --conditions=source bench/portal-mint.ts
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateKeyPair, generateSecret } from '@pp-embed/dataset-token';
import { proxyTrust } from '@pp-embed/client-address';
import {
  Accounts,
  createApp,
  es256KeyDirectory,
  hs256Keys,
  openStore,
  type PortalStore,
  type TokenKeys,
} from '@pp-embed/portal';
import { interleavedRatio } from './measure.js';

const ORIGIN = 'http://localhost';
const PASSWORD = 'a benchmark password';
const subject = { datasets: ['PPDemo'], email: 'ana@example.org', clientAuthResult: { role: 'analyst' } };

async function signedInPortal(makeKeys: (store: PortalStore) => TokenKeys | Promise<TokenKeys>) {
  const store = await openStore({ kind: 'sqlite', path: ':memory:' });
  const params = { logN: 10, r: 8, p: 1 };
  const user = await store.users.create(
    subject.email,
    await new Accounts(store.users, params).hash(PASSWORD),
    Date.now(),
  );
  await store.grants.set(user.id, 'PPDemo', subject.clientAuthResult, Date.now());
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
    passwordParams: params,
  });

  const cookies = new Map<string, string>();
  const keep = (response: Response) => {
    for (const header of response.headers.getSetCookie()) {
      const [pair = ''] = header.split(';');
      const [name = '', value = ''] = pair.split('=');
      if (value === '') cookies.delete(name);
      else cookies.set(name, value);
    }
    return response;
  };
  const cookie = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const form = await keep(await app.request(`${ORIGIN}/login`)).text();
  const loginCsrf = /action="\/login"[\s\S]*?name="csrf" value="([^"]+)"/.exec(form)?.[1] ?? '';
  keep(
    await app.request(`${ORIGIN}/login`, {
      method: 'POST',
      headers: { cookie: cookie(), origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: loginCsrf, email: subject.email, password: PASSWORD, next: '/' }),
    }),
  );
  const page = await (
    await app.request(`${ORIGIN}/datasets/PPDemo`, { headers: { cookie: cookie() } })
  ).text();
  const csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(page)?.[1];
  if (csrf === undefined) throw new Error('sign-in failed');

  const headers = { cookie: cookie(), origin: ORIGIN, 'sec-fetch-site': 'same-origin', 'x-csrf-token': csrf };
  const mint = async () => {
    const response = await app.request(`${ORIGIN}/api/dataset-token?dataset=PPDemo`, {
      method: 'POST',
      headers,
    });
    if (response.status !== 200) throw new Error(`endpoint answered ${response.status}`);
    return response.text();
  };
  await mint();
  return { mint, signer: await keys.signer() };
}

function line(name: string, opsPerSecond: number): string {
  return `  ${name.padEnd(40)} ${Math.round(opsPerSecond).toLocaleString('en-US').padStart(10)} tokens/s`;
}

/**
 * Prints the endpoint's and the raw signer's rates for HS256 and ES256, and their ratio.
 *
 * @example
 * await benchPortalMint();
 */
export async function benchPortalMint(): Promise<void> {
  console.log('\n# Portal token endpoint vs raw signer.sign (median of alternating rounds)');
  const hs = await signedInPortal(() => hs256Keys(Buffer.from(generateSecret()), { ttlSeconds: 600 }));
  const dir = mkdtempSync(join(tmpdir(), 'bench-portal-keys-'));
  writeFileSync(join(dir, 'key.pem'), generateKeyPair('ES256').privateKeyPem);
  const es = await signedInPortal((store) => es256KeyDirectory({ dir, sql: store.sql, ttlSeconds: 600 }));

  for (const [alg, portal] of [
    ['HS256', hs],
    ['ES256', es],
  ] as const) {
    const result = await interleavedRatio(
      () => portal.signer.sign(subject),
      () => portal.mint(),
      7,
      400,
    );
    console.log(`${alg}`);
    console.log(line('raw signer.sign', result.a));
    console.log(line('POST /api/dataset-token (app.request)', result.b));
    console.log(`  ${'endpoint / raw'.padEnd(40)} ${result.ratio.toFixed(2).padStart(10)}`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  await benchPortalMint();
