import { existsSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { generateSecret } from '@pp-embed/dataset-token';
import {
  chartCounts,
  chooseTerm,
  env,
  events,
  mintToken,
  recordEvents,
  screenshot,
  signIn,
  sqlCounts,
} from '../support/fixtures.js';

// The two ways of embedding, on a page of an embedder's own origin, and a page on an origin nobody allowed.

test('the <pp-viewer> tag, with proteinpaint.js included twice on the page', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.addInitScript(
    (token) => {
      document.addEventListener('DOMContentLoaded', () => {
        (
          document.getElementById('tagged') as unknown as { getDatasetAccessToken: () => string }
        ).getDatasetAccessToken = () => token;
      });
    },
    mintToken(['PPDemo']),
  );
  await page.goto(`${env.embedding}/tag.html`);
  expect(await chartCounts(page)).toEqual(sqlCounts(env.dataset, 'sex'));
  await expect(page.getByRole('table')).toBeVisible();
  expect(
    await page.evaluate(() => typeof (window as unknown as { runproteinpaint: unknown }).runproteinpaint),
  ).toBe('function');
  expect(errors).toEqual([]);
  await screenshot(page, 'tag');
});

test('the runproteinpaint() call, with the token from a synchronous callback', async ({ page }) => {
  await page.addInitScript(
    (token) => ((window as unknown as { ppToken: string }).ppToken = token),
    mintToken(['PPDemo']),
  );
  await page.goto(`${env.embedding}/script.html`);
  await chooseTerm(page, ['demographics', 'sex']);
  expect(await chartCounts(page)).toEqual(sqlCounts(env.dataset, 'sex'));
  await expect(page.getByRole('table')).toBeVisible();
  // The handle changes the term shown, and destroys the view.
  await page.evaluate(() =>
    (window as unknown as { handle: { update(o: object): void } }).handle.update({ term: 'race' }),
  );
  await expect(page.getByRole('img', { name: /^Bar chart of Race/ })).toBeVisible();
  await page.evaluate(() => (window as unknown as { handle: { destroy(): void } }).handle.destroy());
  await expect(page.locator('pp-viewer')).toHaveCount(0);
});

test('a page on an origin that is not in dsCredentials reads why, and no data: embedder_not_allowed, not "cannot be reached"', async ({
  page,
}) => {
  await recordEvents(page);
  // The page hands over a good token, as a copy of a portal's page on another host would: the request that
  // carries it fails its CORS preflight, and the widget asks again without it.
  await page.addInitScript(
    (token) => ((window as unknown as { ppToken: string }).ppToken = token),
    mintToken(['PPDemo']),
  );
  const granted: { path: string; status: number }[] = [];
  const isData = (url: string) => url.startsWith(env.viz) && new URL(url).pathname.startsWith('/termdb/');
  page.on('response', (response) => {
    if (isData(response.url()) && response.headers()['access-control-allow-origin'] !== undefined)
      granted.push({ path: new URL(response.url()).pathname, status: response.status() });
  });
  await page.goto(`${env.outsider}/embed.html`);
  await expect(page.getByText('This site is not allowed to show PPDemo.')).toBeVisible();
  await expect(page.getByText(/cannot be reached/)).toHaveCount(0);
  expect(await events(page)).toEqual([
    { type: 'pp-error', detail: { code: 'embedder_not_allowed', status: 403, route: 'config' } },
  ]);
  // The one answer the page could read is the refusal of its config request.
  expect(granted).toEqual([{ path: '/termdb/config', status: 403 }]);
  const readable = await page.evaluate(async (viz) => {
    try {
      await fetch(`${viz}/termdb/barchart?dslabel=PPDemo&term=sex`);
      return true;
    } catch {
      return false;
    }
  }, env.viz);
  expect(readable).toBe(false);
  // What the server answers that origin, seen outside the browser: no CORS grant, and sample-level data refused.
  const token = mintToken(['PPDemo']);
  const aggregated = await fetch(`${env.viz}/termdb/barchart?dslabel=PPDemo&term=sex`, {
    headers: { origin: env.outsider },
  });
  expect(aggregated.headers.get('access-control-allow-origin')).toBeNull();
  const direct = await fetch(`${env.viz}/termdb/samples?dslabel=PPDemo&term=sex`, {
    headers: { origin: env.outsider, 'x-ds-access-token': token },
  });
  expect(direct.status).toBe(403);
  expect(direct.headers.get('access-control-allow-origin')).toBeNull();
  expect(((await direct.json()) as { error: { code: string } }).error.code).toBe('embedder_not_allowed');
  await screenshot(page, 'outsider');
});

test('a portal that signs with the wrong secret: the researcher is not sent to sign in, the developer reads the reason in the console', async ({
  page,
}) => {
  await recordEvents(page);
  const console: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') console.push(message.text());
  });
  await page.addInitScript(
    (token) => ((window as unknown as { ppToken: string }).ppToken = token),
    mintToken(['PPDemo'], 600, generateSecret()),
  );
  await page.goto(`${env.embedding}/script.html`);
  await chooseTerm(page, ['demographics', 'sex']);
  // Aggregated counts stay open; sample-level data is refused for what only the portal can fix.
  expect(await chartCounts(page)).toBeDefined();
  await expect(page.getByText(/is set up wrongly, so it cannot be shown/)).toBeVisible();
  const seen = await events(page);
  expect(seen.filter((e) => e.type === 'pp-auth-required')).toEqual([]);
  expect(seen.filter((e) => e.type === 'pp-error').map((e) => e.detail)).toEqual([
    { code: 'token_invalid', status: 401, route: 'samples', reason: 'signature' },
  ]);
  const rejected = console.filter((text) => text.startsWith('[pp-embed PP_TOKEN_REJECTED]'));
  expect(rejected).toHaveLength(1);
  expect(rejected[0]).toContain('token_invalid (reason "signature"');
  await screenshot(page, 'wrong-secret');
});

test('the real TermdbTest dataset through the whole stack', async ({ page }) => {
  test.skip(env.termdbTest === '' || !existsSync(env.termdbTest), 'TermdbTest.db is not beside the checkout');
  await signIn(page, 'cleo@example.org', '/datasets/TermdbTest');
  await chooseTerm(page, ['Demographic Variables', 'sex']);
  expect(await chartCounts(page)).toEqual(sqlCounts(env.termdbTest, 'sex'));
  await expect(page.getByRole('table')).toBeVisible();
  await screenshot(page, 'termdbtest');
});
