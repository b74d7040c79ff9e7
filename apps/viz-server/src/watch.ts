import { type FSWatcher, type Stats, watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from '@pp-embed/server-runtime';

/**
 * What identifies the bytes of a file without reading them. ctime changes on any write, even one that restores
 * mtime.
 *
 * @example
 * const before = stampOf(statSync(file));
 */
export interface Stamp {
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

/** @example const stamp = stampOf(statSync(file)); */
export const stampOf = (s: Stats): Stamp => ({
  dev: s.dev,
  ino: s.ino,
  size: s.size,
  mtimeMs: s.mtimeMs,
  ctimeMs: s.ctimeMs,
});

/** The same inode: a file written in place, not one renamed over the name. @example sameFile(a, b); */
export const sameFile = (a: Stamp, b: Stamp): boolean => a.dev === b.dev && a.ino === b.ino;

/** The same inode, unchanged. @example if (sameBytes(now, served)) return; */
export const sameBytes = (a: Stamp, b: Stamp): boolean =>
  sameFile(a, b) && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;

/** The stamp of the file under a name now, or undefined when there is none. @example await currentStamp(file); */
export async function currentStamp(file: string): Promise<Stamp | undefined> {
  try {
    return stampOf(await stat(file));
  } catch {
    return undefined;
  }
}

/**
 * Watches files for a change of the file under their name: a watch on each file's folder (a rename puts another
 * inode under the name, which a watch on the file itself misses) that calls `onChange(file, 'event')` soon after, and
 * a call `onChange(file, 'poll')` for every file every `pollMs`, for filesystems that report no changes (network
 * mounts, some containers). The caller compares stamps: both only say "look now". Returns the function that stops.
 *
 * @example
 * const stop = watchFiles([file], (f, how) => schedule(f, how === 'poll' ? 0 : 50), { pollMs: 1000, log, event: 'registry_watch_failed' });
 */
export function watchFiles(
  files: readonly string[],
  onChange: (file: string, how: 'event' | 'poll') => void,
  options: { pollMs: number; log: Logger; event: string },
): () => void {
  const byDir = new Map<string, string[]>();
  for (const file of files) byDir.set(dirname(file), [...(byDir.get(dirname(file)) ?? []), file]);
  const watchers: FSWatcher[] = [];
  for (const [dir, inDir] of byDir) {
    try {
      const watcher = watch(dir, { persistent: false }, (_event, name) => {
        for (const file of inDir) if (name === null || name === basename(file)) onChange(file, 'event');
      });
      watcher.on('error', (error) => {
        options.log.warn(options.event, { dir, message: error.message });
        watcher.close();
      });
      watchers.push(watcher);
    } catch (error) {
      options.log.warn(options.event, { dir, message: (error as Error).message });
    }
  }
  const poll = setInterval(() => {
    for (const file of files) onChange(file, 'poll');
  }, options.pollMs).unref();
  return () => {
    clearInterval(poll);
    for (const watcher of watchers) watcher.close();
  };
}
