/**
 * Size and speed of the script portals load from https://<viz server>/bin/proteinpaint.js.
 *
 *   npx -y pnpm@10 --filter @pp-embed/viewer run build
 *   npx tsx bench/viewer-bundle.ts [runs]
 *
 * Prints the gzipped size of packages/viewer/dist/proteinpaint.js (goal: at most 35 KB) and the time from
 * navigation start to the first frame that shows a chart (goal: at most 500 ms, median), in headless
 * Chromium, with the page and the fixture visualization server on different origins and a token on every
 * request (so each request has a CORS preflight, as on a portal). Each run uses a fresh browser context,
 * so nothing is cached.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { chromiumLaunchOptions } from '../packages/viewer/test/chromium.js';
import { startFixtureServer, startPageServer } from '../packages/viewer/test/fixture/server.js';

const GZIP_GOAL_KB = 35;
const FIRST_CHART_GOAL_MS = 500;

const bundlePath = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../packages/viewer/dist/proteinpaint.js',
);
const runs = Math.max(1, Number(process.argv[2] ?? 9) || 9);

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

// Runs in the page before any of its scripts: notes the first animation frame in which the chart exists.
const probe = `(() => {
  const check = () => {
    const chart = document.querySelector('pp-viewer')?.shadowRoot?.querySelector('pp-barchart');
    if (chart?.shadowRoot?.querySelector('svg[role="img"]')) window.__firstChart = performance.now();
    else requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();`;

async function main(): Promise<void> {
  if (!existsSync(bundlePath)) {
    console.error(`No ${bundlePath}. Build it first: npx -y pnpm@10 --filter @pp-embed/viewer run build`);
    process.exitCode = 1;
    return;
  }
  const bundle = readFileSync(bundlePath);
  const gzip = gzipSync(bundle, { level: 9 }).length;
  const brotli = brotliCompressSync(bundle, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;

  const fixture = await startFixtureServer({ bundlePath });
  const { host } = fixture.createScenario({ tokens: { 'bench-token': 'ok' } });
  const site = await startPageServer({
    '/': `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>bench</title><script src="${host}/bin/proteinpaint.js"></script></head>
  <body>
    <pp-viewer dslabel="TermdbTest" genome="hg38" term="sex"></pp-viewer>
    <script>document.querySelector('pp-viewer').getDatasetAccessToken = () => 'bench-token';</script>
  </body>
</html>`,
  });

  const browser = await chromium.launch(chromiumLaunchOptions());
  const times: number[] = [];
  try {
    // One unmeasured run warms up the browser process itself, not the page (each run has a fresh context).
    for (let run = 0; run <= runs; run++) {
      const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
      const page = await context.newPage();
      await page.addInitScript(probe);
      await page.goto(`${site.url}/`);
      const time = await page.waitForFunction(
        () => (window as { __firstChart?: number }).__firstChart,
        undefined,
        {
          timeout: 10_000,
        },
      );
      if (run > 0) times.push(Number(await time.jsonValue()));
      await context.close();
    }
  } finally {
    await browser.close();
    await site.close();
    await fixture.close();
  }

  const firstChart = median(times);
  const verdict = (ok: boolean) => (ok ? 'within goal' : 'OVER GOAL');
  console.log('dist/proteinpaint.js');
  console.log(`  raw      ${kb(bundle.length)}`);
  console.log(
    `  gzip -9  ${kb(gzip)}   (goal <= ${GZIP_GOAL_KB} KB: ${verdict(gzip <= GZIP_GOAL_KB * 1024)})`,
  );
  console.log(`  brotli   ${kb(brotli)}`);
  console.log(
    `time from navigation start to first chart, ${runs} runs, cold context, token + CORS preflights`,
  );
  console.log(
    `  median   ${firstChart.toFixed(0)} ms   (goal <= ${FIRST_CHART_GOAL_MS} ms: ${verdict(firstChart <= FIRST_CHART_GOAL_MS)})`,
  );
  console.log(`  min/max  ${Math.min(...times).toFixed(0)} / ${Math.max(...times).toFixed(0)} ms`);
  // Browser, pages and server share this machine: a busy machine shows up here, not in the widget.
  const [load1 = 0] = loadavg();
  console.log(`  machine  ${cpus().length} CPUs, load average ${load1.toFixed(1)}`);
}

await main();
