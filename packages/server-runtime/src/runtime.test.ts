import { describe, expect, it } from 'vitest';
import { ConfigError, formatPath } from './config-error.js';
import { describeError, jsonLogger } from './log.js';
import { inspect } from 'node:util';
import { Secret } from './secret.js';

describe('jsonLogger', () => {
  it('writes one JSON object per line, and a newline in a field cannot start a forged line', () => {
    const lines: string[] = [];
    const log = jsonLogger(
      (line) => lines.push(line),
      () => 0,
    );
    log.warn('login_failed', { email: 'a@b.org\n{"level":"info","event":"forged"}' });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(lines[0]?.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(lines[0] as string)).toEqual({
      time: '1970-01-01T00:00:00.000Z',
      level: 'warn',
      event: 'login_failed',
      email: 'a@b.org\n{"level":"info","event":"forged"}',
    });
  });
});

describe('describeError', () => {
  it('keeps name, message and the cause chain', () => {
    const error = new TypeError('outer', { cause: new RangeError('inner') });
    expect(describeError(error)).toMatchObject({
      error: 'TypeError',
      message: 'outer',
      cause: { error: 'RangeError', message: 'inner' },
    });
    expect(describeError('plain')).toEqual({ error: 'plain' });
  });
});

describe('ConfigError', () => {
  it('lists every problem with its path in its message', () => {
    const error = new ConfigError('serverconfig.json', [
      { path: 'port', message: 'expected a number' },
      { path: 'datasets[0].file', message: 'x.db not found' },
    ]);
    expect(error.message).toBe(
      'serverconfig.json has 2 problems:\n  port: expected a number\n  datasets[0].file: x.db not found',
    );
    expect(Object.isFrozen(error.problems)).toBe(true);
  });
});

describe('formatPath', () => {
  it.each<[string, PropertyKey[], string]>([
    [
      'dsCredentials',
      ['TermdbTest', '*', 'portal.example.org', 'secret'],
      'dsCredentials.TermdbTest.*.portal.example.org.secret',
    ],
    ['', ['datasets', 0, 'file'], 'datasets[0].file'],
    ['', [], '(root)'],
    ['dsCredentials', ['a b', 'x\ny'], 'dsCredentials["a b"]["x\\ny"]'],
    ['', ['a"b'], '["a\\"b"]'],
  ])('%s + %j is %s', (root, segments, path) => {
    expect(formatPath(root, segments)).toBe(path);
  });
});

describe('Secret', () => {
  it('never shows its bytes in JSON, strings, inspection or a log line', () => {
    const secret = new Secret(Buffer.from('s3cr3t-value-that-must-not-leak'));
    const lines: string[] = [];
    jsonLogger((line) => lines.push(line)).info('loaded', { secret, nested: { secret } });
    const shown = [JSON.stringify({ secret }), `${secret}`, inspect({ secret }), ...lines].join('\n');
    expect(shown).not.toContain('s3cr3t');
    expect(Buffer.from(secret.reveal()).toString()).toBe('s3cr3t-value-that-must-not-leak');
  });
});
