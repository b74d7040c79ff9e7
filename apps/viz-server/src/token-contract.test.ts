// The token contract for portals in any language (docs/token-contract.md), held to the real server: the
// standard-library Python example mints tokens that a visualization server on 127.0.0.1 decides over HTTP.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type ServerType, serve } from '@hono/node-server';
import { generateSecret } from '@pp-embed/dataset-token';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, PORTAL } from '../test/harness.js';

const EXAMPLE = fileURLToPath(new URL('../../../docs/examples/mint_token.py', import.meta.url));

/** The example, run as a portal would: the secret in the environment, the claims as arguments. */
function mint(secret: string, args: string[]): string {
  return execFileSync('python3', [EXAMPLE, '--dataset', 'PPDemo', '--email', 'ana@example.org', ...args], {
    env: { PATH: process.env.PATH, PP_DS_SECRET: secret },
    encoding: 'utf8',
  }).trim();
}

describe('the Python standard-library example of docs/token-contract.md, against the server over HTTP', () => {
  const h = harness();
  let server: ServerType;
  let base = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => {
      server = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
        base = `http://127.0.0.1:${info.port}`;
        resolve();
      });
    });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const samples = (token: string) =>
    fetch(`${base}/termdb/samples?dslabel=PPDemo&term=sex`, {
      headers: { origin: PORTAL, 'x-ds-access-token': token },
    });

  it('mints a token the server grants, pinned to the address the server sees', async () => {
    const res = await samples(mint(h.secret, ['--ip', '127.0.0.1']));
    expect(res.status).toBe(200);
    expect(h.audit.at(-1)).toMatchObject({ email: 'ana@example.org', dataset: 'PPDemo' });
  });

  it('is refused with ip_mismatch without an ip claim, as the contract says for the strict address check', async () => {
    const res = await samples(mint(h.secret, []));
    expect([res.status, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([
      403,
      'ip_mismatch',
    ]);
  });

  it('is refused with token_invalid and the reason "signature" when signed with another secret', async () => {
    const res = await samples(mint(generateSecret(), ['--ip', '127.0.0.1']));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'token_invalid', reason: 'signature' } });
  });
});
