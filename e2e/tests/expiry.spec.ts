import { expect, test } from '@playwright/test';
import { chooseTerm, env, recordTokens, recordVizRequests, signIn } from '../support/fixtures.js';

test('the token expires while the page is open: the provider refreshes it and the view stays', async ({
  page,
}) => {
  test.setTimeout(150_000);
  const tokens = recordTokens(page);
  const requests = recordVizRequests(page);
  await signIn(page, 'ana@example.org', '/datasets/PPDemo');
  await chooseTerm(page, ['demographics', 'sex']);
  await expect(page.getByRole('table')).toBeVisible();
  // A marker that a reload would wipe.
  await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
  const first = tokens[0] as string;
  const firstExp = (
    JSON.parse(Buffer.from(first.split('.')[1] as string, 'base64url').toString()) as { exp: number }
  ).exp;

  // Tokens live 60 s here; the provider renews before expiry, using the server's expiresIn.
  await expect.poll(() => tokens.length, { timeout: 70_000, intervals: [1000] }).toBeGreaterThan(1);
  // Wait until the first token is really expired at the server, then use the view.
  const wait = firstExp * 1000 - Date.now() + 6_000;
  if (wait > 0) await page.waitForTimeout(wait);
  const before = requests.length;
  await page.getByRole('button', { name: 'Next' }).click();
  await expect
    .poll(() => requests.slice(before).some((r) => new URL(r.url()).pathname === '/termdb/samples'))
    .toBe(true);
  const later = requests.slice(before).filter((r) => new URL(r.url()).pathname === '/termdb/samples');
  for (const request of later) {
    const header = (await request.allHeaders())['x-ds-access-token'];
    expect(header).not.toBe(first);
    expect(tokens).toContain(header);
    expect((await request.response())?.status()).toBe(200);
  }
  await expect(page.getByText(/Showing (51|9)/)).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
  expect(env.portal).toBeTruthy();
});
