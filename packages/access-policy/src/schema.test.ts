import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { dsCredentialsJsonSchema, dsCredentialsSchema } from './schema.js';

type Json = Record<string, unknown>;

/** Follows the generated schema down one key level (the intersection's non-comment side). */
function members(level: Json): Json {
  const [, real] = level.allOf as [Json, Json];
  return (real.patternProperties as Json)['^[^#]'] as Json;
}

describe('dsCredentialsSchema', () => {
  it('composes into a schema of the whole serverconfig.json', () => {
    const serverConfig = z.object({ port: z.number(), dsCredentials: dsCredentialsSchema.optional() });
    const json = z.toJSONSchema(serverConfig) as Json;
    expect((json.properties as Json).dsCredentials).toMatchObject({ title: 'dsCredentials' });
    expect(serverConfig.safeParse({ port: 3000 }).success).toBe(true);
  });

  it('accepts comments at every level and refuses an unknown type', () => {
    const entry = { type: 'jwt', secret: { env: 'PP_DS_SECRET' }, '#': 'rotated 2026-11' };
    const ok = { '#': 1, TermdbTest: { '#': [], termdb: { '#': {}, 'portal.example.org': entry } } };
    expect(dsCredentialsSchema.safeParse(ok).success).toBe(true);
    expect(dsCredentialsSchema.safeParse({ T: { termdb: { '*': { type: 'basic' } } } }).success).toBe(false);
  });

  it('gives JSON Schema users comments at every level, no unknown fields and one key source per jwt entry', () => {
    const root = dsCredentialsJsonSchema();
    const first = root.allOf as Json[];
    expect(first[0]).toEqual({ type: 'object', patternProperties: { '^#': {} } });
    const entries = members(members(members(root))).oneOf as Json[];
    expect(entries.map((e) => e.title)).toEqual(['jwt entry', 'open entry', 'forbidden entry']);
    for (const e of entries) {
      expect(e.additionalProperties).toBe(false);
      expect(Object.keys(e.patternProperties as Json)).toEqual(['^#']);
    }
    expect(entries[0]?.oneOf).toEqual([
      { required: ['secret'] },
      { required: ['publicKey'] },
      { required: ['jwks'] },
    ]);
  });
});
