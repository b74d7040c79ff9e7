import { readFileSync, statSync } from 'node:fs';
import { ConfigError } from '@pp-embed/server-runtime';
import { readJsonDocument } from './json.js';
import * as z from 'zod';

/** The `format` of a credential file. */
export const CREDENTIAL_FORMAT = 'pp-embed/embedder-credential@1';

/**
 * What a portal needs to sign its tokens for one registry entry: printed once by `pp-token embedder add` and
 * `rotate`, and read by the portal (`readCredentialFile`). It holds the shared secret (HS256) or the private key
 * the command made (ES256, RS256). The portal signs with `alg` and puts `kid` in every token's header.
 *
 * @example
 * const credential: EmbedderCredential = { format: CREDENTIAL_FORMAT, id: 'portal.example.org',
 *   embedder: 'portal.example.org', datasets: ['TermdbTest'], routes: ['termdb'], alg: 'HS256',
 *   kid: '20260523-k3x9qa', secret: '…', issuedAt: '2026-05-23T12:00:00.000Z' };
 */
export interface EmbedderCredential {
  readonly format: typeof CREDENTIAL_FORMAT;
  /** The registry entry (the client id). */
  readonly id: string;
  readonly embedder: string;
  readonly datasets: readonly string[];
  readonly routes: readonly string[];
  readonly alg: 'HS256' | 'ES256' | 'RS256';
  readonly kid: string;
  /** HS256: the shared secret, as text (its UTF-8 bytes are the HMAC key). */
  readonly secret?: string;
  /** ES256, RS256: the private key, PKCS#8 PEM. */
  readonly privateKey?: string;
  readonly issuedAt: string;
}

const credentialSchema = z
  .strictObject({
    format: z.literal(CREDENTIAL_FORMAT, { error: `expected "${CREDENTIAL_FORMAT}"` }),
    id: z.string().min(1),
    embedder: z.string().min(1),
    datasets: z.array(z.string().min(1)),
    routes: z.array(z.string().min(1)),
    alg: z.enum(['HS256', 'ES256', 'RS256'], { error: 'expected HS256, ES256 or RS256' }),
    kid: z.string().min(1).max(256),
    secret: z.string().min(1).optional(),
    privateKey: z.string().min(1).optional(),
    issuedAt: z.string(),
  })
  .refine(
    (c) =>
      c.alg === 'HS256'
        ? c.secret !== undefined && c.privateKey === undefined
        : c.privateKey !== undefined && c.secret === undefined,
    {
      error: 'an HS256 credential holds a secret, an ES256 or RS256 one a privateKey',
    },
  );

/**
 * The text of a credential file: JSON, for the portal to read as it is.
 *
 * @example
 * writeFileSync('portal-credential.json', credentialText(credential), { mode: 0o600 });
 */
export function credentialText(credential: EmbedderCredential): string {
  return `${JSON.stringify(credential, null, 2)}\n`;
}

/**
 * Reads the credential file a portal was given. Every problem is named by its JSON path, never with the secret's
 * value; a file others may read is reported too, since it holds the portal's signing key.
 *
 * @throws ConfigError when the file is missing, not a credential, or readable by others.
 * @example
 * const credential = readCredentialFile('/etc/pp-portal/credential.json');
 * createSigner({ algorithm: credential.alg, key: { secret: credential.secret }, kid: credential.kid });
 */
export function readCredentialFile(file: string): EmbedderCredential {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [
      { path: '(root)', message: code === 'ENOENT' ? 'file not found' : `cannot be read (${code})` },
    ]);
  }
  const credential = readJsonDocument(text, file, credentialSchema, {
    notJson: 'paste the whole file `pp-token embedder add` printed',
    what: 'a credential file',
  });
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(file, [
      { path: '(root)', message: `can be read by others (mode ${mode.toString(8)}); chmod 600 it` },
    ]);
  }
  return Object.freeze(credential);
}
