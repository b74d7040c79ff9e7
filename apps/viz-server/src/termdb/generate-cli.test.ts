import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { runGenerateCli } from './generate-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'pp-generate-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = runGenerateCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('generate-cli', () => {
  it('prints usage for --help', () => {
    const { code, out } = run('--help');
    expect(code).toBe(0);
    expect(out).toContain('--out FILE');
    expect(out).toContain('--force');
  });

  it('writes a dataset and says what it wrote', () => {
    const file = join(dir, 'demo.db');
    const { code, out } = run('--out', file, '--samples', '50', '--seed', '3');
    expect(code).toBe(0);
    expect(out).toMatch(/Wrote .*demo\.db: 50 samples/);
    expect(existsSync(file)).toBe(true);
  });

  it('refuses to overwrite an existing file without --force', () => {
    const file = join(dir, 'existing.db');
    writeFileSync(file, 'precious');
    const refused = run('--out', file, '--samples', '10');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('--force');
    expect(readFileSync(file, 'utf8')).toBe('precious');

    expect(run('--out', file, '--samples', '10', '--force').code).toBe(0);
    expect(readFileSync(file).subarray(0, 15).toString()).toBe('SQLite format 3');
  });

  it.each([
    ['no --out', []],
    ['a non-numeric sample count', ['--out', 'x.db', '--samples', 'many']],
    ['zero samples', ['--out', 'x.db', '--samples', '0']],
    ['a fractional seed', ['--out', 'x.db', '--seed', '1.5']],
    ['an unknown option', ['--out', 'x.db', '--rows', '5']],
    ['a positional argument', ['x.db']],
  ])('exits with 2 on %s', (_, argv) => {
    const { code, err } = run(...argv);
    expect(code).toBe(2);
    expect(err).not.toBe('');
  });
});
