import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, type Page, type Request } from '@playwright/test';
import { createSigner } from '@pp-embed/dataset-token';
import Database from 'better-sqlite3';

/** What global-setup started, read from the environment it filled. */
export const env = {
  get viz(): string {
    return process.env.E2E_VIZ as string;
  },
  get portal(): string {
    return process.env.E2E_PORTAL as string;
  },
  get embedding(): string {
    return process.env.E2E_EMBEDDING as string;
  },
  get outsider(): string {
    return process.env.E2E_OUTSIDER as string;
  },
  get dataset(): string {
    return process.env.E2E_DATASET as string;
  },
  /** The university's OpenID Provider (a real oidc-provider in its own process). */
  get idp(): string {
    return process.env.E2E_IDP as string;
  },
  get termdbTest(): string {
    return process.env.E2E_TERMDB_TEST ?? '';
  },
  login(email: string): string {
    const password = (JSON.parse(process.env.E2E_LOGINS ?? '{}') as Record<string, string>)[email];
    if (password === undefined) throw new Error(`no demo login for ${email}`);
    return password;
  },
};

/**
 * A token minted with the shared secret, as an embedding page's own server would; or with another `secret`, as a
 * portal configured with the wrong one would.
 */
export function mintToken(datasets: string[], ttlSeconds = 600, secret?: string): string {
  const signer = createSigner({
    algorithm: 'HS256',
    key: { secret: secret ?? { file: process.env.E2E_SECRET_FILE as string } },
  });
  return signer.sign({ datasets, email: 'e2e@example.org', ip: '127.0.0.1', ttlSeconds });
}

/**
 * Signs in with the university's IdP as a user would: "Sign in with University" on the portal's sign-in page, the
 * IdP's own login form (any password for its test users), and back to `next` on the portal.
 */
export async function signInWithInstitution(page: Page, user: string, next = '/'): Promise<void> {
  await page.goto(`${env.portal}/login?next=${encodeURIComponent(next)}`);
  await page.getByRole('link', { name: 'Sign in with University' }).click();
  await expect(page).toHaveURL(new RegExp(`^${env.idp}/interaction/`));
  await page.getByPlaceholder('Enter any login').fill(user);
  await page.getByPlaceholder('and password').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await expect(page).toHaveURL(`${env.portal}${next}`);
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
}

export async function signIn(page: Page, email: string, next = '/'): Promise<void> {
  await page.goto(`${env.portal}/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(env.login(email));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
}

/** Opens a term in the widget's tree by the term ids on its path, e.g. ['demographics', 'sex']. */
export async function chooseTerm(scope: Page | ReturnType<Page['locator']>, path: string[]): Promise<void> {
  for (const id of path) {
    await scope.locator(`[role="treeitem"][data-id="${id}"] > .row`).first().click();
  }
}

/** The counts the barchart tells assistive technology, parsed from its description. */
export async function chartCounts(
  page: Page,
  scope = page.locator('body'),
): Promise<Record<string, number | null>> {
  const chart = scope.getByRole('img', { name: /^Bar chart of / }).first();
  await expect(chart).toBeVisible();
  const label = (await chart.getAttribute('aria-label')) ?? '';
  const counts: Record<string, number | null> = {};
  for (const part of label.replace(/^Bar chart of [^:]+: /, '').split(', ')) {
    const match = /^(.*) (?:([\d,]+)|fewer than \d+|suppressed)$/.exec(part);
    if (match !== null)
      counts[match[1] as string] = match[2] === undefined ? null : Number(match[2].replaceAll(',', ''));
  }
  return counts;
}

/** Counts per category label from SQL on the dataset file, optionally within one cohort. */
export function sqlCounts(file: string, term: string, cohort?: string): Record<string, number> {
  const db = new Database(file, { readonly: true });
  try {
    const values = (
      JSON.parse(db.prepare('SELECT jsondata FROM terms WHERE id = ?').pluck().get(term) as string) as {
        values: Record<string, { label: string }>;
      }
    ).values;
    const rows = db
      .prepare(
        `SELECT value, count(*) AS n FROM anno_categorical WHERE term_id = ?
         ${cohort === undefined ? '' : 'AND sample IN (SELECT sample FROM subcohort_samples WHERE subcohort = ?)'}
         GROUP BY value`,
      )
      .all(...(cohort === undefined ? [term] : [term, cohort])) as { value: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [values[r.value]?.label ?? r.value, r.n]));
  } finally {
    db.close();
  }
}

/** Every request the page sends to the visualization server, with the headers it carried. */
export function recordVizRequests(page: Page): Request[] {
  const requests: Request[] = [];
  page.on('request', (request) => {
    if (request.url().startsWith(env.viz)) requests.push(request);
  });
  return requests;
}

/** Every token the portal's endpoint handed to this page. */
export function recordTokens(page: Page): string[] {
  const tokens: string[] = [];
  page.on('response', async (response) => {
    if (new URL(response.url()).pathname === '/api/dataset-token' && response.ok()) {
      tokens.push(((await response.json()) as { token: string }).token);
    }
  });
  return tokens;
}

/** Records the widget's events on the page (they bubble and are composed, so document sees them). */
export async function recordEvents(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const seen: { type: string; detail: unknown }[] = [];
    (window as unknown as { ppEvents: typeof seen }).ppEvents = seen;
    for (const type of ['pp-ready', 'pp-error', 'pp-auth-required']) {
      document.addEventListener(type, (event) => seen.push({ type, detail: (event as CustomEvent).detail }));
    }
  });
}

export async function events(page: Page): Promise<{ type: string; detail: Record<string, unknown> }[]> {
  return page.evaluate(
    () => (window as unknown as { ppEvents: { type: string; detail: Record<string, unknown> }[] }).ppEvents,
  );
}

const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

/** Saves a screenshot of a main state for the README. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `e2e-${name}.png`) });
}
