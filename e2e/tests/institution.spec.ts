import { expect, test } from '@playwright/test';
import {
  chartCounts,
  chooseTerm,
  env,
  recordTokens,
  recordVizRequests,
  signInWithInstitution,
  sqlCounts,
} from '../support/fixtures.js';

// "Sign in with your institution": the university's IdP (oidc-provider, its own process) vouches for the user and
// says what they hold (a group, GA4GH visas); the portal maps that to grants and mints its own short tokens.

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as {
    datasets: string[];
    email: string;
    exp: number;
  };

test('signing in at the IdP lands on the portal with the dataset the IdP group grants', async ({ page }) => {
  const tokens = recordTokens(page);
  const requests = recordVizRequests(page);
  await signInWithInstitution(page, 'uni-ana', '/datasets/PPDemo');
  await expect(page.getByText('ana@university.example.org')).toBeVisible();
  await chooseTerm(page, ['demographics', 'sex']);
  await expect(page.getByRole('table')).toBeVisible();
  // The widget carries the portal's own token, never anything from the IdP.
  expect(tokens.length).toBeGreaterThan(0);
  expect(claimsOf(tokens[0] as string)).toMatchObject({
    datasets: ['PPDemo'],
    email: 'ana@university.example.org',
  });
  const samples = requests.filter((r) => new URL(r.url()).pathname === '/termdb/samples');
  expect(samples.length).toBeGreaterThan(0);
  for (const request of samples) {
    expect(tokens).toContain((await request.allHeaders())['x-ds-access-token']);
    expect((await request.response())?.status()).toBe(200);
  }
});

test('a visa for another dataset grants nothing here: aggregated views only', async ({ page }) => {
  await signInWithInstitution(page, 'uni-olga', '/datasets/PPDemo');
  await expect(page.getByText('Your account has no grant for PPDemo')).toBeVisible();
  await chooseTerm(page, ['demographics', 'sex']);
  expect(await chartCounts(page)).toEqual(sqlCounts(env.dataset, 'sex'));
  await expect(page.getByRole('table')).toHaveCount(0);
});

test('a visa grants until it expires: then no token is minted and sample-level data is refused', async ({
  page,
}) => {
  // The visa lives 40 s from the sign-in at the IdP; this test waits it out.
  test.setTimeout(120_000);
  const tokens = recordTokens(page);
  const requests = recordVizRequests(page);
  await signInWithInstitution(page, 'uni-vic', '/datasets/PPDemo');
  await chooseTerm(page, ['demographics', 'sex']);
  await expect(page.getByRole('table')).toBeVisible();
  // No token outlives the visa: the first one already ends when the visa does (tokens live 60 s here).
  const visaEnd = claimsOf(tokens[0] as string).exp;
  expect(visaEnd * 1000 - Date.now()).toBeLessThan(40_000);
  for (const token of [...tokens]) expect(claimsOf(token).exp).toBeLessThanOrEqual(visaEnd);

  // Past the visa and the server's leeway, the next sample-level request is refused.
  await page.waitForTimeout(Math.max(0, visaEnd * 1000 - Date.now() + 6_000));
  const before = requests.length;
  await page.getByRole('button', { name: 'Next' }).click();
  await expect
    .poll(() => requests.slice(before).filter((r) => new URL(r.url()).pathname === '/termdb/samples').length)
    .toBeGreaterThan(0);
  for (const request of requests.slice(before)) {
    if (new URL(request.url()).pathname === '/termdb/samples') {
      expect((await request.response())?.status()).toBe(401);
    }
  }
  await expect(page.getByRole('table')).toHaveCount(0);
  for (const token of tokens) expect(claimsOf(token).exp).toBeLessThanOrEqual(visaEnd);

  // The portal no longer counts the visa: the page says so, and the aggregated views stay.
  await page.reload();
  await expect(page.getByText('Your account has no grant for PPDemo')).toBeVisible();
  await chooseTerm(page, ['demographics', 'sex']);
  expect(await chartCounts(page)).toEqual(sqlCounts(env.dataset, 'sex'));
});
