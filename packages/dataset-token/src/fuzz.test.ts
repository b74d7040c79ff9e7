// Property: whatever arrives in the header, verify ends in claims or a TokenError with a stable code, never in
// another exception. Bounded here; bench/fuzz.ts runs the same properties longer.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { b64, clock, forgeHmac, newSecret, NOW } from '../test/helpers.js';
import { TOKEN_ERROR_CODES, TokenError } from './errors.js';
import { createVerifier } from './verify.js';

const secret = newSecret();
const verifier = createVerifier({ key: { secret }, now: clock, cacheSize: 0 });
const runs = Number(process.env.PP_FUZZ_RUNS ?? 300);

async function outcome(token: string): Promise<string> {
  try {
    await verifier.verify(token);
    return 'ok';
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    expect(TOKEN_ERROR_CODES).toContain(error.code);
    expect(error.message).not.toContain(token.length > 12 ? token : '\u0000never');
    return error.code;
  }
}

const json = fc.jsonValue({ maxDepth: 4 });
const segment = fc.oneof(fc.string(), fc.base64String(), json.map(b64));

describe('verify on junk input', () => {
  it('random strings', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), async (s) => void (await outcome(s))),
      { numRuns: runs },
    );
  });

  it('random three-part strings', async () => {
    await fc.assert(
      fc.asyncProperty(segment, segment, segment, async (h, p, s) => void (await outcome(`${h}.${p}.${s}`))),
      { numRuns: runs },
    );
  });

  it('random JSON payloads, correctly signed', async () => {
    const payload = fc.oneof(
      json,
      fc.record(
        {
          datasets: fc.oneof(fc.array(fc.string()), fc.string(), json),
          email: fc.oneof(fc.string(), json),
          ip: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()),
          iat: fc.oneof(fc.double(), fc.constant(NOW), json),
          exp: fc.oneof(fc.double(), fc.constant(NOW + 60), json),
          nbf: fc.oneof(fc.double(), json),
          clientAuthResult: json,
        },
        { requiredKeys: [] },
      ),
    );
    const header = fc.oneof(
      fc.constant({ alg: 'HS256' }),
      fc.record({ alg: fc.oneof(fc.string(), json), kid: json, crit: json }, { requiredKeys: [] }),
    );
    await fc.assert(
      fc.asyncProperty(header, payload, async (h, p) => void (await outcome(forgeHmac(h, p, secret)))),
      { numRuns: runs },
    );
  });

  it('finds the valid token among junk: the property is not vacuous', async () => {
    expect(
      await outcome(
        forgeHmac({ alg: 'HS256' }, { datasets: ['D'], email: 'e', iat: NOW, exp: NOW + 60 }, secret),
      ),
    ).toBe('ok');
  });
});
