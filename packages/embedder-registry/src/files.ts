import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** Owner read and write only: the registry and its companions hold what lets a portal in. */
export const OWNER_ONLY = 0o600;

/**
 * Replaces `file` with `text` so that a reader sees the old file or the new one, never a part: the text goes to a
 * temporary file in the same folder (same filesystem, so the rename is atomic), is flushed to disk, renamed over
 * the old name, and the folder is flushed so the rename itself survives a crash. The file is created with
 * `mode` (owner-only by default), whatever the old one had. With `exclusive`, an existing file is never replaced
 * (the new one is linked in, which fails with EEXIST).
 *
 * @example
 * await writeFileAtomic('/etc/pp/embedders.json', `${JSON.stringify(doc, null, 2)}\n`);
 */
export async function writeFileAtomic(
  file: string,
  text: string,
  options: { mode?: number; exclusive?: boolean } = {},
): Promise<void> {
  const mode = options.mode ?? OWNER_ONLY;
  const dir = dirname(file);
  const temporary = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', mode);
  try {
    try {
      // The umask may have taken bits away, never added them; chmod makes the mode exact.
      await handle.chmod(mode);
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.exclusive === true) {
      await link(temporary, file);
      await unlink(temporary);
    } else await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await syncFolder(dir);
}

async function syncFolder(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, constants.O_RDONLY);
    await handle.sync();
  } catch {
    // Some filesystems cannot open or flush a folder; the rename has happened all the same.
  } finally {
    await handle?.close();
  }
}

/**
 * What a lock file says about the process that holds it.
 *
 * @example
 * const holder: LockHolder = { pid: 4242, host: 'viz-1', since: '2026-05-23T12:00:00.000Z', nonce: 'a1b2' };
 */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
  readonly nonce: string;
}

/** Another process holds the lock and did not let go in time. */
export class LockedError extends Error {
  override readonly name = 'LockedError';
  readonly holder: LockHolder | undefined;

  constructor(file: string, holder: LockHolder | undefined) {
    super(
      holder === undefined
        ? `${file} is locked by another process`
        : `${file} is locked by process ${holder.pid} on ${holder.host} since ${holder.since}`,
    );
    this.holder = holder;
  }
}

/**
 * Options of {@link withLock}.
 *
 * @example
 * const options: LockOptions = { waitMs: 0 }; // try once: a server's periodic write skips a turn instead
 */
export interface LockOptions {
  /** How long to wait for the holder to let go. Default 10 s. */
  waitMs?: number;
  /**
   * A lock older than this whose holder cannot be asked (another host) is taken to be left by a crash. Default
   * 60 s: every holder writes a few kilobytes and lets go.
   */
  staleMs?: number;
  now?: () => number;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

async function readHolder(lock: string): Promise<LockHolder | undefined> {
  try {
    const value = JSON.parse(await readFile(lock, 'utf8')) as Partial<LockHolder>;
    return typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.nonce === 'string'
      ? { pid: value.pid, host: value.host, since: String(value.since), nonce: value.nonce }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `work` while holding `<file>.lock`, so that two writers of `file` (two `pp-token embedder` commands, or a
 * command and a server recording use) never interleave their read-modify-write. The lock file is created with
 * O_EXCL; a lock left by a process that has died on this host, or older than `staleMs`, is taken over. The lock
 * is removed afterwards only if it is still ours.
 *
 * @throws LockedError when the lock is not free within `waitMs`.
 * @example
 * await withLock('/etc/pp/embedders.json', async () => { const doc = await read(); await write(change(doc)); });
 */
export async function withLock<T>(
  file: string,
  work: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const lock = `${file}.lock`;
  const now = options.now ?? Date.now;
  const waitMs = options.waitMs ?? 10_000;
  const staleMs = options.staleMs ?? 60_000;
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    since: new Date(now()).toISOString(),
    nonce: randomBytes(8).toString('hex'),
  };
  const deadline = now() + waitMs;
  for (;;) {
    try {
      const handle = await open(lock, 'wx', OWNER_ONLY);
      try {
        await handle.writeFile(JSON.stringify(me), 'utf8');
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readHolder(lock);
    const age = await stat(lock).then(
      (s) => now() - s.mtimeMs,
      () => 0,
    );
    const abandoned =
      holder === undefined ? age > staleMs : holder.host === me.host ? !alive(holder.pid) : age > staleMs;
    if (abandoned) {
      // Only the lock we looked at: another waiter may have taken it over meanwhile.
      if ((await readHolder(lock))?.nonce === holder?.nonce) await unlink(lock).catch(() => undefined);
      continue;
    }
    if (now() >= deadline) throw new LockedError(file, holder);
    await new Promise((resolve) => setTimeout(resolve, 25 + Math.random() * 50));
  }
  try {
    return await work();
  } finally {
    if ((await readHolder(lock))?.nonce === me.nonce) await unlink(lock).catch(() => undefined);
  }
}
