import {
  createHmac,
  generateKeyPairSync,
  randomBytes,
  sign as cryptoSign,
  type KeyObject,
} from 'node:crypto';
import { expect } from 'vitest';
import { TokenError } from '../src/errors.js';

/** A fresh random HS256 secret for one test file; never a committed value. */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export const NOW_MS = Date.UTC(2026, 10, 23, 12, 0, 0);
export const NOW = NOW_MS / 1000;
export const clock = (): number => NOW_MS;

export function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** Builds an HMAC-signed compact JWS by hand, so tests can make tokens no well-behaved library would. */
export function forgeHmac(
  header: unknown,
  payload: unknown,
  secret: string | Buffer,
  hash = 'sha256',
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}

/** Builds a compact JWS signed with an asymmetric key (RS256 or ES256) by hand. */
export function forgeAsymmetric(header: { alg: string }, payload: unknown, key: KeyObject): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const hash = `sha${header.alg.slice(2)}`;
  const signature = cryptoSign(hash, Buffer.from(input), {
    key,
    ...(header.alg.startsWith('ES') && { dsaEncoding: 'ieee-p1363' as const }),
  });
  return `${input}.${signature.toString('base64url')}`;
}

export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    datasets: ['TermdbTest'],
    email: 'ana@example.org',
    iat: NOW - 10,
    exp: NOW + 600,
    ...overrides,
  };
}

export const ecKeys = (): { privateKey: KeyObject; publicKey: KeyObject } =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' });
export const rsaKeys = (bits = 2048): { privateKey: KeyObject; publicKey: KeyObject } =>
  generateKeyPairSync('rsa', { modulusLength: bits });

/** The TokenError a verification rejected with; fails the test when it resolved or threw something else. */
export async function refusal(promise: Promise<unknown>): Promise<TokenError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokenError);
  return error as TokenError;
}
