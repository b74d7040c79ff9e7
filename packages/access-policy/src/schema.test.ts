import { describe, expect, it } from 'vitest';
import { dsCredentialsJsonSchema, entrySchema } from './schema.js';

type Json = Record<string, unknown>;

/** Follows the generated schema down one key level (its non-comment member pattern). */
function members(level: Json): Json {
  const patterns = level.patternProperties as Json;
  return (patterns['^[^#]'] ?? patterns['^(?!#)(?!headerKey$)']) as Json;
}

describe('entrySchema', () => {
  it('accepts comments in an entry and refuses an unknown type', () => {
    expect(
      entrySchema.safeParse({ type: 'jwt', secret: { env: 'PP_DS_SECRET' }, '#': 'rotated' }).success,
    ).toBe(true);
    expect(entrySchema.safeParse({ type: 'login' }).success).toBe(false);
  });
});

describe('dsCredentialsJsonSchema', () => {
  it('gives JSON Schema users three key levels with comments at each, then the entries', () => {
    const root = dsCredentialsJsonSchema();
    expect(root.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const titles: unknown[] = [];
    let level: Json = root;
    for (let depth = 0; depth < 3; depth++) {
      titles.push(level.title);
      expect(level.type).toBe('object');
      expect(Object.keys(level.patternProperties as Json)).toEqual(
        depth === 1 ? ['^#', '^(?!#)(?!headerKey$)'] : ['^#', '^[^#]'],
      );
      level = members(level);
    }
    expect(titles).toEqual(['dsCredentials', 'routes', 'embedders']);
    expect(Object.keys((members(root).properties ?? {}) as Json)).toEqual(['headerKey']);
    const entries = level.oneOf as Json[];
    expect(entries.map((e) => e.title)).toEqual([
      'jwt entry',
      'basic entry',
      'open entry',
      'forbidden entry',
    ]);
    for (const e of entries) {
      expect(e.additionalProperties).toBe(false);
      expect(Object.keys(e.patternProperties as Json)).toEqual(['^#']);
    }
    expect(entries[0]?.oneOf).toEqual([
      { required: ['secret'] },
      { required: ['publicKey'] },
      { required: ['jwks'] },
      {
        required: ['issuers'],
        not: { anyOf: [{ required: ['secret'] }, { required: ['publicKey'] }, { required: ['jwks'] }] },
      },
    ]);
  });
});
