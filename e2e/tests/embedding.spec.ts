import { existsSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import {
  chartCounts,
  chooseTerm,
  env,
  mintToken,
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

test('a page on an origin that is not in dsCredentials gets no data and no Access-Control-Allow-Origin', async ({
  page,
}) => {
  const attempted: string[] = [];
  const allowOrigin: (string | undefined)[] = [];
  const isData = (url: string) => url.startsWith(env.viz) && new URL(url).pathname.startsWith('/termdb/');
  page.on('request', (request) => {
    if (isData(request.url())) attempted.push(request.url());
  });
  // Chromium reports an answer without CORS permission as a failed request; any answer that does reach the
  // page must not carry the header either.
  page.on('response', (response) => {
    if (isData(response.url())) allowOrigin.push(response.headers()['access-control-allow-origin']);
  });
  await page.goto(`${env.outsider}/embed.html`);
  await expect(page.getByText(/cannot be reached|not allowed to show/).first()).toBeVisible();
  expect(attempted.length).toBeGreaterThan(0);
  expect(allowOrigin.filter((value) => value !== undefined)).toEqual([]);
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

test('the real TermdbTest dataset through the whole stack', async ({ page }) => {
  test.skip(env.termdbTest === '' || !existsSync(env.termdbTest), 'TermdbTest.db is not beside the checkout');
  await signIn(page, 'cleo@example.org', '/datasets/TermdbTest');
  await chooseTerm(page, ['Demographic Variables', 'sex']);
  expect(await chartCounts(page)).toEqual(sqlCounts(env.termdbTest, 'sex'));
  await expect(page.getByRole('table')).toBeVisible();
  await screenshot(page, 'termdbtest');
});
