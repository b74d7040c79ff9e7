import { expect, test } from '@playwright/test';
import {
  chartCounts,
  chooseTerm,
  env,
  events,
  recordEvents,
  recordTokens,
  recordVizRequests,
  screenshot,
  signIn,
  sqlCounts,
} from '../support/fixtures.js';

// The reference portal embedding the widget from the visualization server (two origins), as a researcher uses it.

test('a visitor who is not signed in sees the barchart, and a sign-in sentence for sample-level data', async ({
  page,
}) => {
  await recordEvents(page);
  await page.goto(`${env.portal}/datasets/PPDemo`);
  await chooseTerm(page, ['demographics', 'sex']);
  const counts = await chartCounts(page);
  expect(counts).toEqual(sqlCounts(env.dataset, 'sex'));
  await expect(page.getByText('Sign in to see sample-level data for PPDemo.')).toBeVisible();
  await expect(page.getByRole('table')).toHaveCount(0);
  const fired = await events(page);
  expect(fired.some((e) => e.type === 'pp-auth-required' && e.detail.code === 'token_missing')).toBe(true);
  await screenshot(page, 'signed-out');
});

test('a granted user sees the sample table; every request carries the token in the header, never in the URL', async ({
  page,
}) => {
  const requests = recordVizRequests(page);
  const tokens = recordTokens(page);
  await signIn(page, 'ana@example.org', '/datasets/PPDemo');
  await chooseTerm(page, ['demographics', 'sex']);
  await expect(page.getByRole('table')).toBeVisible();
  await expect(page.getByRole('table').getByRole('row')).not.toHaveCount(0);
  expect(tokens.length).toBeGreaterThan(0);
  const dataRequests = requests.filter(
    (r) => new URL(r.url()).pathname.startsWith('/termdb/') && r.method() === 'GET',
  );
  expect(dataRequests.length).toBeGreaterThanOrEqual(3);
  for (const request of dataRequests) {
    const header = (await request.allHeaders())['x-ds-access-token'];
    expect(tokens, `${request.url()} carries a token the portal minted`).toContain(header);
  }
  for (const request of requests) {
    for (const token of tokens) expect(request.url()).not.toContain(token.split('.')[1]);
  }
  await screenshot(page, 'granted');
});

test('a user granted another dataset only keeps the aggregated views and reads "not granted"', async ({
  page,
}) => {
  await signIn(page, 'cleo@example.org', '/datasets/PPDemo');
  await chooseTerm(page, ['demographics', 'sex']);
  expect(await chartCounts(page)).toEqual(sqlCounts(env.dataset, 'sex'));
  await expect(
    page.getByText('Your account is not granted access to sample-level data for PPDemo.'),
  ).toBeVisible();
  await screenshot(page, 'not-granted');
});

test('a user restricted to one cohort sees counts of that cohort only', async ({ page }) => {
  await signIn(page, 'ben@example.org', '/datasets/PPDemo');
  await chooseTerm(page, ['demographics', 'sex']);
  const expected = sqlCounts(env.dataset, 'sex', 'ALPHA');
  await expect.poll(() => chartCounts(page)).toEqual(expected);
  expect(expected).not.toEqual(sqlCounts(env.dataset, 'sex'));
  await screenshot(page, 'one-cohort');
});

test('signing out: the next protected request is refused and the viewer says so', async ({
  page,
  context,
}) => {
  await signIn(page, 'ana@example.org', '/datasets/PPDemo');
  await chooseTerm(page, ['demographics', 'sex']);
  await expect(page.getByRole('table')).toBeVisible();
  // Sign out from another tab of the same browser, as a user would; this page stays open.
  const other = await context.newPage();
  await other.goto(env.portal);
  await other.getByRole('button', { name: 'Sign out' }).click();
  await expect(other.getByRole('link', { name: 'Sign in' }).first()).toBeVisible();
  // The token provider learns of it at its next refresh (tokens live 60 s here) and the viewer reloads.
  await expect(page.getByText('Sign in to see sample-level data for PPDemo.')).toBeVisible({
    timeout: 75_000,
  });
  await expect(page.getByRole('table')).toHaveCount(0);
});
