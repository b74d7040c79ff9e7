import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The widget script as served at /bin/proteinpaint.js: read once at start, with its content hash. */
export interface Bundle {
  body: Uint8Array;
  etag: string;
  /** The first 16 hex digits of the SHA-256, for `?v=` cache-busting URLs. */
  version: string;
}

/** Reads the bundle file, or returns undefined when it has not been built. */
export function readBundle(file: string): Bundle | undefined {
  let body: Buffer;
  try {
    body = readFileSync(file);
  } catch {
    return undefined;
  }
  const hash = createHash('sha256').update(body).digest('hex');
  return { body, etag: `"${hash.slice(0, 32)}"`, version: hash.slice(0, 16) };
}
