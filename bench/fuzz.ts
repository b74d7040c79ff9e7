/**
 * The security suite's fuzz properties (security/fuzz/properties.ts), run much longer than in CI: prints runs/s
 * and the outcome counts of each property, and any counterexample with the seed and path to replay it.
 *
 * Run: PP_FUZZ_RUNS=100000 node --import tsx/esm --conditions=source bench/fuzz.ts
 *      (PP_FUZZ_SEED=<seed> to replay a reported run)
 */
import {
  configLoaderProperty,
  type FuzzProperty,
  fuzzContext,
  verifierOptionsProperty,
  verifierProperty,
} from '../security/fuzz/properties.js';

const RUNS = Number(process.env.PP_FUZZ_RUNS ?? 20_000);
const SEED = process.env.PP_FUZZ_SEED === undefined ? undefined : Number(process.env.PP_FUZZ_SEED);

async function main(): Promise<number> {
  if (!Number.isInteger(RUNS) || RUNS < 1) {
    console.error('PP_FUZZ_RUNS must be a whole number of runs');
    return 2;
  }
  const ctx = fuzzContext();
  let failed = 0;
  try {
    const properties: FuzzProperty[] = [
      configLoaderProperty(ctx),
      verifierProperty(ctx),
      verifierOptionsProperty(ctx),
    ];
    console.log(
      `# Fuzzing, ${RUNS.toLocaleString('en-US')} runs per property${SEED === undefined ? '' : `, seed ${SEED}`}`,
    );
    for (const property of properties) {
      const start = performance.now();
      const details = await property.run(RUNS, SEED);
      const seconds = (performance.now() - start) / 1000;
      const done = details.numRuns;
      const rate = Math.round(done / seconds).toLocaleString('en-US');
      const outcomes = Object.entries(property.tally)
        .sort(([, a], [, b]) => b - a)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      console.log(
        `${property.name.padEnd(48)} ${done.toLocaleString('en-US').padStart(9)} runs  ${seconds.toFixed(1).padStart(6)} s  ${rate.padStart(7)} runs/s`,
      );
      console.log(`  outcomes: ${outcomes}`);
      if (details.failed) {
        failed++;
        console.log(`  COUNTEREXAMPLE (seed ${details.seed}, path "${details.path ?? ''}"):`);
        console.log(details.report.replace(/^/gm, '    '));
      } else {
        console.log('  no counterexample');
      }
    }
  } finally {
    ctx.cleanup();
  }
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
