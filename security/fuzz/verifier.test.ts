// Property-based fuzzing of the token verifier (RFC 8725 §3.1-§3.11; OWASP JWT cheat sheet; OWASP Fuzzing):
// bounded here, run long by bench/fuzz.ts (PP_FUZZ_RUNS).
import { afterAll, expect, it } from 'vitest';
import { fuzzContext, verifierOptionsProperty, verifierProperty } from './properties.js';

const ctx = fuzzContext();
afterAll(() => ctx.cleanup());
const runs = Number(process.env.PP_FUZZ_RUNS ?? 400);

it('verify on random, mutated and forged tokens ends in claims or a TokenError with one of the four codes', async () => {
  const property = verifierProperty(ctx);
  const outcome = await property.run(runs);
  expect(outcome.failed, outcome.report).toBe(false);
  expect(property.tally.verified ?? 0).toBeGreaterThan(0);
  expect(property.tally.token_invalid ?? 0).toBeGreaterThan(0);
});

it('createVerifier with random options ends in a verifier or a TokenSetupError with a stable code', async () => {
  const property = verifierOptionsProperty(ctx);
  const outcome = await property.run(runs);
  expect(outcome.failed, outcome.report).toBe(false);
  expect(property.tally.built ?? 0).toBeGreaterThan(0);
});
