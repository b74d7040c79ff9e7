import { describe, expect, it } from 'vitest';
import { jsonLogger } from './log.js';
import { RateLimitedLog } from './rate-limited-log.js';

function capture(options: ConstructorParameters<typeof RateLimitedLog>[1] = {}) {
  const lines: Record<string, unknown>[] = [];
  let now = 1_000_000;
  const log = jsonLogger(
    (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
    () => now,
  );
  const limited = new RateLimitedLog(log, { clock: () => now, ...options });
  return { lines, limited, advance: (ms: number) => (now += ms) };
}

const key = (
  code: string,
  address = '203.0.113.7',
  origin: string | null = 'https://portal.example.org',
) => ({
  code,
  origin,
  address,
});

describe('RateLimitedLog', () => {
  it('writes a key`s first lines and suppresses the rest of its window, then says how many it dropped', () => {
    const { lines, limited, advance } = capture({ perKey: 3, windowMs: 60_000 });
    for (let i = 0; i < 1000; i++) limited.info(key('token_invalid'), 'refused', { i });
    limited.info(key('token_expired'), 'refused', { i: 'other code' });
    expect(lines.map((l) => l.i)).toEqual([0, 1, 2, 'other code']);

    advance(60_000);
    limited.info(key('token_invalid'), 'refused', { i: 'next window' });
    expect(lines[4]).toMatchObject({
      level: 'warn',
      event: 'log_suppressed',
      windowSeconds: 60,
      written: 4,
      suppressed: 997,
      keys: 2,
      top: [{ ...key('token_invalid'), suppressed: 997 }],
    });
    expect(lines[5]).toMatchObject({ event: 'refused', i: 'next window' });
  });

  it('bounds the lines of a flood that varies its origin and address with every request', () => {
    const { lines, limited } = capture({ perKey: 5, total: 50, maxKeys: 100 });
    for (let i = 0; i < 100_000; i++) {
      limited.info(
        key('embedder_not_allowed', `198.51.${i >> 8}.${i & 255}`, `https://x${i}.test`),
        'refused',
      );
    }
    limited.flush();
    expect(lines).toHaveLength(51);
    expect(lines.at(-1)).toMatchObject({
      event: 'log_suppressed',
      written: 50,
      suppressed: 99_950,
      keys: 101,
      suppressedBeyondKeyLimit: 99_900,
    });
    expect((lines.at(-1)?.top as unknown[]).length).toBeLessThanOrEqual(10);
  });

  it('writes no summary for a window in which nothing was suppressed', () => {
    const { lines, limited, advance } = capture({ perKey: 3 });
    limited.warn(key('bad_request'), 'bad_request');
    advance(120_000);
    limited.warn(key('bad_request'), 'bad_request');
    limited.flush();
    expect(lines.map((l) => l.event)).toEqual(['bad_request', 'bad_request']);
    expect(lines[0]?.level).toBe('warn');
  });

  it('writes the summary at the end of the window even when no line follows', async () => {
    const lines: Record<string, unknown>[] = [];
    const limited = new RateLimitedLog(
      jsonLogger((line) => lines.push(JSON.parse(line) as Record<string, unknown>)),
      { perKey: 1, windowMs: 100 },
    );
    limited.info(key('token_missing'), 'refused');
    limited.info(key('token_missing'), 'refused');
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(lines.map((l) => l.event)).toEqual(['refused', 'log_suppressed']);
  });
});
