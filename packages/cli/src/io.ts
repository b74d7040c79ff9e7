import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';

/** What a command may touch of the outside world; tests give their own. */
export interface Io {
  out(text: string): void;
  /** Raw bytes to standard output, as they arrive (a streamed answer); resolves once they may be sent on. */
  write(bytes: Uint8Array): Promise<void>;
  err(text: string): void;
  /** Standard input as text (for a token piped in, so it stays out of the process list and shell history). */
  stdin(): string;
  env: NodeJS.ProcessEnv;
  now(): number;
  /** Who runs the command, `user@host`, for the registry's entries and audit trail. */
  actor: string;
}

/** The person behind the command: under sudo, the user who ran sudo. */
function actor(): string {
  let user = process.env.SUDO_USER;
  if (user === undefined || user === '') {
    try {
      user = userInfo().username;
    } catch {
      // A container user without a passwd entry.
      user = `uid ${process.getuid?.() ?? '?'}`;
    }
  }
  return `${user}@${hostname()}`;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  // Waits for the pipe to drain: a large table is written as fast as the reader takes it, never buffered whole.
  write: (bytes) =>
    new Promise((resolve) => {
      if (process.stdout.write(bytes)) resolve();
      else process.stdout.once('drain', () => resolve());
    }),
  err: (text) => process.stderr.write(`${text}\n`),
  stdin: () => readFileSync(0, 'utf8'),
  env: process.env,
  now: Date.now,
  actor: actor(),
};

/** A mistake in how the command was called: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
