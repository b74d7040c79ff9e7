import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@pp-embed/server-runtime';
import { describe, expect, it } from 'vitest';
import {
  CREDENTIAL_FORMAT,
  credentialText,
  type EmbedderCredential,
  readCredentialFile,
} from './credential.js';

const credential: EmbedderCredential = {
  format: CREDENTIAL_FORMAT,
  id: 'portal.example.org',
  embedder: 'portal.example.org',
  datasets: ['TermdbTest'],
  routes: ['termdb'],
  alg: 'HS256',
  kid: '20260523-k3x9qa',
  secret: 'Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg',
  issuedAt: '2026-05-23T12:00:00.000Z',
};

function write(text: string, mode = 0o600): string {
  const file = join(mkdtempSync(join(tmpdir(), 'pp-credential-')), 'credential.json');
  writeFileSync(file, text, { mode });
  chmodSync(file, mode);
  return file;
}

function problems(file: string): string[] {
  try {
    readCredentialFile(file);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.path}: ${p.message}`);
  }
}

describe('a credential file', () => {
  it('reads back what the registry printed', () => {
    expect(readCredentialFile(write(credentialText(credential)))).toEqual(credential);
  });

  it('is refused when others may read it, without showing the secret', () => {
    const file = write(credentialText(credential), 0o644);
    expect(problems(file)).toEqual(['(root): can be read by others (mode 644); chmod 600 it']);
    expect(problems(file).join('\n')).not.toContain(credential.secret);
  });

  it('names what is wrong: a key of the other kind, an unknown member, a cut-short paste', () => {
    expect(problems(write(JSON.stringify({ ...credential, secret: undefined, privateKey: 'pem' })))).toEqual([
      '(root): an HS256 credential holds a secret, an ES256 or RS256 one a privateKey',
    ]);
    expect(problems(write(JSON.stringify({ ...credential, extra: 1 })))).toEqual([
      'extra: is not a member of a credential file',
    ]);
    expect(problems(write(credentialText(credential).slice(0, 40)))).toEqual([
      '(root): not valid JSON: paste the whole file `pp-token embedder add` printed',
    ]);
  });
});
