import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LockedError, withLock, writeFileAtomic } from './files.js';

const folder = () => mkdtempSync(join(tmpdir(), 'pp-files-'));

describe('writeFileAtomic', () => {
  it('replaces a file whole, owner-only whatever the umask, and leaves no temporary file', async () => {
    const dir = folder();
    const file = join(dir, 'embedders.json');
    writeFileSync(file, 'old', { mode: 0o644 });
    const umask = process.umask(0);
    try {
      await writeFileAtomic(file, 'new');
    } finally {
      process.umask(umask);
    }
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['embedders.json']);
  });

  it('with exclusive, never replaces an existing file', async () => {
    const file = join(folder(), 'embedders.json');
    await writeFileAtomic(file, 'first', { exclusive: true });
    await expect(writeFileAtomic(file, 'second', { exclusive: true })).rejects.toMatchObject({
      code: 'EEXIST',
    });
    expect(readFileSync(file, 'utf8')).toBe('first');
    expect(readdirSync(join(file, '..'))).toEqual(['embedders.json']);
  });
});

describe('withLock', () => {
  it('keeps a second holder out until the first lets go', async () => {
    const file = join(folder(), 'embedders.json');
    const order: string[] = [];
    let release!: () => void;
    const first = withLock(file, async () => {
      order.push('first in');
      await new Promise<void>((resolve) => (release = resolve));
      order.push('first out');
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(withLock(file, async () => undefined, { waitMs: 0 })).rejects.toBeInstanceOf(LockedError);
    const second = withLock(file, async () => void order.push('second in'));
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first in', 'first out', 'second in']);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('names the holder when it gives up', async () => {
    const file = join(folder(), 'embedders.json');
    writeFileSync(
      `${file}.lock`,
      JSON.stringify({ pid: process.pid, host: hostname(), since: 'then', nonce: 'x' }),
    );
    await expect(withLock(file, async () => undefined, { waitMs: 50 })).rejects.toThrow(
      `${file} is locked by process ${process.pid} on ${hostname()} since then`,
    );
  });

  it('takes over a lock left by a process that died', async () => {
    const file = join(folder(), 'embedders.json');
    const dead = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    writeFileSync(
      `${file}.lock`,
      JSON.stringify({ pid: Number(dead), host: hostname(), since: 'then', nonce: 'x' }),
    );
    await expect(withLock(file, async () => 'done', { waitMs: 0 })).resolves.toBe('done');
  });

  it('takes over a lock from another host once it is older than staleMs', async () => {
    const file = join(folder(), 'embedders.json');
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: 1, host: 'elsewhere', since: 'then', nonce: 'x' }));
    await expect(withLock(file, async () => 'waited', { waitMs: 0 })).rejects.toBeInstanceOf(LockedError);
    const later = Date.now() + 61_000;
    await expect(withLock(file, async () => 'taken', { waitMs: 0, now: () => later })).resolves.toBe('taken');
  });
});
