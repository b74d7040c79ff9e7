/**
 * Writes PNGs of the widget's main states to docs/screenshots/viewer-*.png, from the real script bundle
 * running on a page of another origin against the fixture server.
 *
 *   npx tsx packages/viewer/scripts/screenshots.ts
 */
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright';
import { chromiumLaunchOptions } from '../test/chromium.js';
import { buildBundle } from '../test/fixture/build-bundle.js';
import { startFixtureServer, startPageServer, type ScenarioOptions } from '../test/fixture/server.js';

const outDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../docs/screenshots');

interface Shot {
  name: string;
  scenario?: ScenarioOptions;
  /** Replaces the scenario host, e.g. with an address where nothing listens. */
  host?: string;
  token?: string;
  term?: string;
  width?: number;
  /** Parent terms to expand in the tree before the picture. */
  expand?: string[];
  /** More attributes of the element: term2, term0, view, filter. */
  attributes?: Record<string, string>;
  /** Text typed into the term search before the picture. */
  search?: string;
}

const shots: Shot[] = [
  {
    name: 'chart',
    scenario: { tokens: { good: 'ok' } },
    token: 'good',
    term: 'diaggrp',
    expand: ['Diagnosis'],
  },
  {
    name: 'table',
    scenario: { tokens: { good: 'ok' } },
    token: 'good',
    term: 'agedx',
    expand: ['Demographic Variables'],
  },
  { name: 'signed-out', scenario: {}, term: 'race', expand: ['Demographic Variables'] },
  { name: 'not-granted', scenario: { tokens: { t: 'dataset_not_granted' } }, token: 't', term: 'sex' },
  { name: 'expired', scenario: { tokens: { t: 'token_expired' } }, token: 't', term: 'sex' },
  { name: 'unreachable', host: 'http://127.0.0.1:9', term: 'sex' },
  {
    name: 'unsupported',
    scenario: { tokens: { good: 'ok' } },
    token: 'good',
    term: 'dxdate',
    expand: ['Clinical outcomes'],
  },
  { name: 'narrow', scenario: { tokens: { good: 'ok' } }, token: 'good', term: 'sex', width: 420 },
  {
    name: 'overlay',
    scenario: { tokens: { good: 'ok' } },
    token: 'good',
    term: 'diaggrp',
    attributes: { term2: 'sex' },
    expand: ['Diagnosis'],
  },
  {
    name: 'divide',
    scenario: {},
    term: 'race',
    attributes: { term0: 'sex' },
    expand: ['Demographic Variables'],
  },
  {
    name: 'box',
    scenario: { tokens: { good: 'ok' } },
    token: 'good',
    term: 'agedx',
    attributes: { term2: 'sex', view: 'box' },
  },
  {
    name: 'violin',
    scenario: { tokens: { good: 'ok' } },
    token: 'good',
    term: 'hrtavg',
    attributes: { term2: 'sex', view: 'violin' },
  },
  {
    name: 'survival',
    scenario: { tokens: { good: 'ok' } },
    token: 'good',
    term: 'efs',
    attributes: { term2: 'sex' },
    expand: ['Clinical outcomes'],
  },
  {
    name: 'filter',
    scenario: { tokens: { good: 'ok' } },
    token: 'good',
    term: 'diaggrp',
    attributes: {
      filter: JSON.stringify([
        { term: 'sex', values: ['Female'] },
        { term: 'agedx', gte: 5, lt: 20 },
      ]),
    },
  },
  { name: 'search', scenario: { tokens: { good: 'ok' } }, token: 'good', term: 'race', search: 'diag' },
];

function page(scriptUrl: string, host: string, shot: Shot): string {
  const token = shot.token === undefined ? 'undefined' : JSON.stringify(shot.token);
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Survivorship portal</title>
    <style>
      body { margin: 0; padding: 28px; background: #f1f3f6; }
      pp-viewer { max-width: ${shot.width ?? 1040}px; }
    </style>
    <script src="${scriptUrl}"></script>
  </head>
  <body>
    <pp-viewer host="${host}" dslabel="TermdbTest" genome="hg38" term="${shot.term ?? ''}" page-size="8" ${Object.entries(
      shot.attributes ?? {},
    )
      .map(([name, value]) => `${name}='${value}'`)
      .join(' ')}></pp-viewer>
    <script>
      document.querySelector('pp-viewer').getDatasetAccessToken = () => ${token};
    </script>
  </body>
</html>`;
}

async function main(): Promise<void> {
  const bundlePath = await buildBundle();
  const fixture = await startFixtureServer({ bundlePath });
  const pages: Record<string, string> = {};
  for (const shot of shots) {
    const { host } = fixture.createScenario(shot.scenario ?? {});
    pages[`/${shot.name}`] = page(`${host}/bin/proteinpaint.js`, shot.host ?? host, shot);
  }
  const site = await startPageServer(pages);
  const browser = await chromium.launch(chromiumLaunchOptions());
  await mkdir(outDir, { recursive: true });
  try {
    for (const shot of shots) {
      const context = await browser.newContext({
        viewport: { width: (shot.width ?? 1040) + 56, height: 900 },
        deviceScaleFactor: 2,
        reducedMotion: 'reduce',
      });
      const tab = await context.newPage();
      await tab.goto(`${site.url}/${shot.name}`);
      const viewer = tab.locator('pp-viewer');
      // Playwright's locators pierce open shadow roots.
      await viewer.locator('svg[role="img"], [part="message"]').first().waitFor();
      for (const parent of shot.expand ?? []) {
        await viewer.locator('[role="treeitem"] .row', { hasText: parent }).first().click();
      }
      if (shot.expand?.length) await tab.waitForTimeout(150);
      if (shot.search) {
        await viewer.locator('.sidebar pp-term-search input').fill(shot.search);
        await viewer.locator('[role="option"]').first().waitFor();
      }
      await viewer
        .locator('[part="loading"]')
        .first()
        .waitFor({ state: 'detached' })
        .catch(() => undefined);
      await tab.mouse.move(0, 0);
      const path = join(outDir, `viewer-${shot.name}.png`);
      await viewer.screenshot({ path, animations: 'disabled' });
      console.log(`wrote ${path}`);
      await context.close();
    }
  } finally {
    await browser.close();
    await site.close();
    await fixture.close();
    await rm(dirname(bundlePath), { recursive: true, force: true });
  }
}

await main();
