import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

/**
 * A fragment made with hono's `html` tag: interpolated values are escaped, `raw()` is never used on input.
 *
 * @example
 * const main: Html = html`<h1>${dataset.label}</h1>`;
 */
export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/**
 * Who is looking at a page: the signed-in user's email and the CSRF token for the sign-out form.
 *
 * @example
 * const viewer: PageUser = { email: 'ana@example.org', csrf };
 */
export interface PageUser {
  email: string;
  csrf: string;
}

/**
 * Everything a page passes to the layout.
 *
 * @example
 * layout({ title: 'Sign in', main: html`<h1>Sign in</h1>` });
 */
export interface LayoutProps {
  title: string;
  main: Html;
  user?: PageUser | undefined;
  /** Put in `<meta name="csrf-token">` for the page's script. */
  csrfMeta?: string | undefined;
  /** Script URLs, loaded deferred, in this order. */
  scripts?: readonly { src: string; module?: boolean }[];
}

/**
 * The page frame: header with the account area (email and a sign-out button that POSTs with the CSRF token),
 * the main content and a footer. No inline script or style.
 *
 * @example
 * return c.html(layout({ title: 'Datasets', main, user }));
 */
export function layout(props: LayoutProps): Html {
  const { user } = props;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${props.title} · PP Portal</title>
        <link rel="stylesheet" href="/assets/portal.css" />
        ${props.csrfMeta === undefined ? '' : html`<meta name="csrf-token" content="${props.csrfMeta}" />`}
        ${(props.scripts ?? []).map((s) =>
          s.module
            ? html`<script type="module" src="${s.src}"></script>`
            : html`<script src="${s.src}" defer></script>`,
        )}
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/">PP Portal</a>
          <nav>
            <a href="/">Datasets</a>
            ${user === undefined ? '' : html`<a href="/tokens">API tokens</a>`}
          </nav>
          <div class="account">
            ${
              user === undefined
                ? html`<a href="/login">Sign in</a>`
                : html`<span>${user.email}</span>
                    <form method="post" action="/logout">
                      <input type="hidden" name="csrf" value="${user.csrf}" />
                      <button type="submit" class="quiet">Sign out</button>
                    </form>`
            }
          </div>
        </header>
        <main>${props.main}</main>
        <footer>A reference portal for embedding ProteinPaint datasets with per-user access tokens.</footer>
      </body>
    </html>`;
}
