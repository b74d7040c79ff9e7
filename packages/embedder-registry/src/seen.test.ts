import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSeen, recordSeen } from './seen.js';

const T = Date.UTC(2026, 4, 23, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

describe('the record of key use', () => {
  it('keeps the first and last use of each key, merged from several writers', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pp-seen-')), 'embedders.seen.json');
    expect((await readSeen(file)).size).toBe(0);
    await Promise.all([
      recordSeen(file, [{ id: 'a', kid: 'k1', first: T + 10, last: T + 20 }]),
      recordSeen(file, [
        { id: 'a', kid: 'k1', first: T, last: T + 5 },
        { id: 'a', kid: 'k2', first: T + 30, last: T + 40 },
      ]),
    ]);
    const seen = await readSeen(file);
    expect(seen.get('a')?.get('k1')).toEqual({ first: iso(T), last: iso(T + 20) });
    expect(seen.get('a')?.get('k2')).toEqual({ first: iso(T + 30), last: iso(T + 40) });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('reads a damaged record as empty: it informs operators and decides nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-seen-'));
    const file = join(dir, 'embedders.seen.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, '{"format": "pp-embed/embedder-seen@1", "entr');
    expect((await readSeen(file)).size).toBe(0);
    await recordSeen(file, [{ id: 'a', kid: 'k1', first: T, last: T }]);
    expect((await readSeen(file)).get('a')?.size).toBe(1);
  });
});
