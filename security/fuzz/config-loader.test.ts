// Property-based fuzzing of the dsCredentials loader (OWASP Fuzzing; RFC 8725 §3 "fail closed" applied to the
// configuration): bounded here, run long by bench/fuzz.ts (PP_FUZZ_RUNS).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPolicy } from '@pp-embed/access-policy';
import { ConfigError } from '@pp-embed/server-runtime';
import { afterAll, expect, it } from 'vitest';
import { generatedDataset, VIZ_MAIN } from '../harness.js';
import { configLoaderProperty, fuzzContext } from './properties.js';

const ctx = fuzzContext();
afterAll(() => ctx.cleanup());
const runs = Number(process.env.PP_FUZZ_RUNS ?? 400);

it('loadPolicy on random and mutated dsCredentials (prototype keys, wrong types) ends in a policy or a ConfigError with paths', async () => {
  const property = configLoaderProperty(ctx);
  const outcome = await property.run(runs);
  expect(outcome.failed, outcome.report).toBe(false);
  // Not vacuous: both outcomes occur.
  expect(property.tally.loaded ?? 0).toBeGreaterThan(0);
  expect(property.tally.refused ?? 0).toBeGreaterThan(0);
});

// Inputs the fuzzer found breaking the invariant, kept as cases of their own.

it.each([
  [
    'an unknown field of an entry',
    { TermdbTest: { '*': { 'portal.example.org': { type: 'open', extra: Number.NaN } } } },
  ],
  [
    'a comment at the top level',
    { '#note': Number.NaN, TermdbTest: { '*': { '*': { type: 'forbidden' } } } },
  ],
])('a NaN in %s is reported as a ConfigError, not a zod "Unmergable intersection" error', (_where, raw) => {
  expect(() => loadPolicy(raw, { baseDir: ctx.dir, env: ctx.env })).toThrow(ConfigError);
});

it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
  'secret {"env": %j} is reported as a ConfigError naming the entry, not a TypeError from Object.prototype',
  (name) => {
    const raw = { TermdbTest: { '*': { 'portal.example.org': { type: 'jwt', secret: { env: name } } } } };
    let error: unknown;
    try {
      loadPolicy(raw, { baseDir: ctx.dir, env: { ...ctx.env } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.path)).toContain(
      'dsCredentials.TermdbTest.*.portal.example.org.secret',
    );
  },
);

it.each(['constructor', 'PP_SECURITY_UNSET_VARIABLE'])(
  'the built viz-server refuses secret {"env": %j} at start, exit 1, naming the JSON path',
  (name) => {
    const config = join(ctx.dir, `env-${name}.json`);
    writeFileSync(
      config,
      JSON.stringify({
        datasets: [{ label: 'TermdbTest', genome: 'hg38', file: generatedDataset() }],
        dsCredentials: {
          TermdbTest: { '*': { 'portal.example.org': { type: 'jwt', secret: { env: name } } } },
        },
      }),
    );
    const run = spawnSync(process.execPath, [VIZ_MAIN, '--config', config, '--port', '0'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('dsCredentials.TermdbTest.*.portal.example.org.secret');
  },
);
