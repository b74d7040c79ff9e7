import { describe, expect, it } from 'vitest';
import { b64 } from '../test/helpers.js';
import { decodeJsonSegment, hasDuplicateMember } from './json.js';

describe('hasDuplicateMember', () => {
  it.each([
    ['{"a":1,"a":2}', true],
    ['{"a":1,"b":{"c":1,"c":2}}', true],
    ['{"a":1,"\\u0061":2}', true],
    ['{"a":[{"x":1},{"x":2}],"b":"a"}', false],
    ['{"a":"{\\"a\\":1,\\"a\\":2}"}', false],
    ['{"a":["a","a"],"b":{"a":1}}', false],
    ['{"k\\"":1,"k":2}', false],
    ['{"a" :1,"a" : 2}', true],
    ['{"url":"https://x","u":"a:b"}', false],
    ['{"url":"https://x","url":"a"}', true],
  ])('%s → %s', (text, expected) => {
    expect(hasDuplicateMember(text)).toBe(expected);
    expect(hasDuplicateMember(text, JSON.parse(text))).toBe(expected);
  });
});

describe('decodeJsonSegment', () => {
  it('decodes a base64url JSON object', () => {
    expect(decodeJsonSegment(b64({ alg: 'HS256' }))).toEqual({ value: { alg: 'HS256' } });
  });

  it.each([
    ['standard base64 characters', Buffer.from('{"a":">>>?"}').toString('base64'), 'is not base64url'],
    ['a JSON array', b64([1]), 'is not a JSON object'],
    ['JSON null', b64('null'), 'is not a JSON object'],
    ['text', b64('hello'), 'is not JSON'],
  ])('refuses %s', (_name, segment, problem) => {
    expect(decodeJsonSegment(segment)).toEqual({ problem });
  });

  it('keeps a "__proto__" member as plain data, never as a prototype', () => {
    const result = decodeJsonSegment(b64('{"__proto__":{"admin":true}}'));
    expect('value' in result && Object.getPrototypeOf(result.value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});
