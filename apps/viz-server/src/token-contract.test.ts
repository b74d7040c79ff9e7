// The token contract for portals in any language (docs/token-contract.md), held to the real server: the
// standard-library Python example mints tokens that a visualization server on 127.0.0.1 decides over HTTP.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { type ServerType, serve } from '@hono/node-server';
import { generateSecret } from '@pp-embed/dataset-token';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, PORTAL } from '../test/harness.js';

const EXAMPLE = fileURLToPath(new URL('../../../docs/examples/mint_token.py', import.meta.url));

/**
 * The example, run as a portal would: the secret in the environment, the claims as arguments. Run without blocking
 * the event loop: a loop held past the server's keep-alive timeout lets the server close the pooled connection in
 * the same turn as the next request is written on it, which the client sees as ECONNRESET.
 */
async function mint(secret: string, args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    'python3',
    [EXAMPLE, '--dataset', 'PPDemo', '--email', 'ana@example.org', ...args],
    { env: { PATH: process.env.PATH, PP_DS_SECRET: secret }, encoding: 'utf8' },
  );
  return stdout.trim();
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
    const res = await samples(await mint(h.secret, ['--ip', '127.0.0.1']));
    expect(res.status).toBe(200);
    expect(h.audit.at(-1)).toMatchObject({ email: 'ana@example.org', dataset: 'PPDemo' });
  });

  it('is refused with ip_mismatch without an ip claim, as the contract says for the strict address check', async () => {
    const res = await samples(await mint(h.secret, []));
    expect([res.status, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([
      403,
      'ip_mismatch',
    ]);
  });

  it('is refused with token_invalid and the reason "signature" when signed with another secret', async () => {
    const res = await samples(await mint(generateSecret(), ['--ip', '127.0.0.1']));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'token_invalid', reason: 'signature' } });
  });
});
