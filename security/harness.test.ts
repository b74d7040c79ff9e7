// The harness's own checks must catch what they look for, or every clean-log case above proves nothing.
import { describe, expect, it } from 'vitest';
import { expectCleanLogs, VIZ_EVENTS } from './harness.js';
import { forge } from './jws.js';

const token = forge({
  header: { alg: 'HS256' },
  payload: { datasets: ['HsData'], email: 'ana@example.org' },
  signWith: 'HS256',
  key: 'a secret that is long enough for the check, 0123456789',
});
const [, payload = '', signature = ''] = token.split('.');
const secret = 'q3J9-a-secret-of-forty-three-characters-xyzw';
const check = (text: string) => () =>
  expectCleanLogs([{ stream: 'stderr', text }], { tokens: [token], secrets: [secret] }, VIZ_EVENTS);
const line = (fields: Record<string, unknown>) => `${JSON.stringify({ event: 'refused', ...fields })}\n`;

describe('expectCleanLogs', () => {
  it('passes clean JSON lines', () => {
    expect(check(line({ code: 'token_invalid' }) + line({ code: 'token_missing' }))).not.toThrow();
  });

  it.each([
    ['a whole token', line({ origin: token })],
    ['a payload segment', line({ reason: `saw ${payload}` })],
    ['a signature segment', line({ reason: signature })],
    ['a secret', line({ reason: secret })],
    ['a line that is not JSON', `${line({})}forged line\n`],
    ['a JSON line that is not an object', `${line({})}"text"\n`],
    ['an unknown event', `${JSON.stringify({ event: 'forged' })}\n`],
    ['a missing final newline', line({}).trimEnd()],
  ])('fails on %s', (_what, text) => {
    expect(check(text)).toThrow();
  });
});
