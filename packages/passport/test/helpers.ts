import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { publicJwk } from '@pp-embed/dataset-token';

export const NOW_MS = Date.UTC(2026, 10, 23, 12, 0, 0);
export const NOW = NOW_MS / 1000;

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An RS256 compact JWS built by hand, so tests can sign what no well-behaved issuer would. */
export function signRs256(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: KeyObject,
): string {
  const input = `${b64({ alg: 'RS256', ...header })}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

export const rsaKeys = (): { privateKey: KeyObject; publicKey: KeyObject } =>
  generateKeyPairSync('rsa', { modulusLength: 2048 });

/** A key server on 127.0.0.1: `publish` sets what a path answers; `hits` counts requests per path. */
export async function keyServer(): Promise<{
  origin: string;
  publish: (path: string, body: unknown) => void;
  publishKey: (path: string, key: KeyObject, kid: string) => void;
  hits: Record<string, number>;
  close: () => Promise<void>;
}> {
  const bodies = new Map<string, string>();
  const hits: Record<string, number> = {};
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '';
    hits[path] = (hits[path] ?? 0) + 1;
    const body = bodies.get(path);
    if (body === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const publish = (path: string, body: unknown): void => void bodies.set(path, JSON.stringify(body));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    publish,
    publishKey: (path, key, kid) => publish(path, { keys: [publicJwk(key, 'RS256', kid)] }),
    hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
