import { html } from 'hono/html';
import type { DatasetEntry } from '../config.js';
import type { Grant } from '../db/grants.js';
import type { ApiTokenRecord } from '../db/api-tokens.js';
import type { RecordedRevocation } from '../db/revocations.js';
import { apiTokensSection } from './api-tokens.js';
import { type Html, layout, type PageUser } from './layout.js';

/**
 * A grant's clientAuthResult in words, e.g. `role: analyst · cohorts: ABC`; "full access" when it is empty.
 *
 * @example
 * describeAccess({ role: 'analyst', cohorts: ['ABC'] }); // 'role: analyst · cohorts: ABC'
 */
export function describeAccess(clientAuthResult: Record<string, unknown>): string {
  const parts = Object.entries(clientAuthResult).map(([key, value]) => {
    const text = Array.isArray(value)
      ? value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')
      : typeof value === 'string'
        ? value
        : JSON.stringify(value);
    return `${key}: ${text}`;
  });
  return parts.length === 0 ? 'full access' : parts.join(' · ');
}

/**
 * The sign-in link that brings the user back to `path` afterwards.
 *
 * @example
 * signInHref('/datasets/PPDemo'); // '/login?next=%2Fdatasets%2FPPDemo'
 */
export function signInHref(path: string): string {
  return `/login?next=${encodeURIComponent(path)}`;
}

/**
 * The list of datasets, with what the visitor may see of each.
 *
 * @example
 * c.html(homePage({ datasets: config.datasets, user, grants }));
 */
export function homePage(props: {
  datasets: readonly DatasetEntry[];
  user: PageUser | undefined;
  grants: readonly Grant[];
}): Html {
  const { user, grants } = props;
  const access = (label: string) => {
    if (user === undefined) return 'Aggregated views. Sign in to see sample-level data you are granted.';
    const grant = grants.find((g) => g.dataset === label);
    return grant === undefined
      ? 'Aggregated views only: your account has no grant for this dataset.'
      : `Your access: ${describeAccess(grant.clientAuthResult)}`;
  };
  const main = html`<h1>Datasets</h1>
    <p class="lede">
      Each dataset lives on the visualization server. Everyone sees its aggregated counts; sample-level data
      is shown to signed-in users with a grant, within that grant.
    </p>
    <ul class="datasets">
      ${props.datasets.map(
        (d) =>
          html`<li>
            <a class="name" href="/datasets/${encodeURIComponent(d.label)}">${d.label}</a>
            ${d.genome === undefined ? '' : html`<span class="tag">${d.genome}</span>`}
            <span class="access">${access(d.label)}</span>
          </li>`,
      )}
    </ul>
    ${user === undefined ? html`<p><a href="/login">Sign in</a></p>` : ''}`;
  return layout({ title: 'Datasets', main, user });
}

/**
 * The sign-in form. `email` is what the visitor typed (shown again after a failure, escaped); `error` is one of
 * the fixed sentences, never an account detail.
 *
 * @example
 * c.html(loginPage({ csrf, next: '/datasets/PPDemo', email: '', error: undefined }));
 */
export function loginPage(props: {
  csrf: string;
  next: string;
  email: string;
  error: string | undefined;
  user?: PageUser | undefined;
  /** The institution's name, when users may sign in with it. */
  institution?: string | undefined;
}): Html {
  const main = html`<section class="card narrow">
    <h1>Sign in</h1>
    ${
      props.institution === undefined
        ? ''
        : html`<p>
              <a class="button" href="/login/institution?next=${encodeURIComponent(props.next)}"
                >Sign in with ${props.institution}</a
              >
            </p>
            <p class="muted">or with a portal account:</p>`
    }
    <form method="post" action="/login" class="stack" novalidate>
      ${props.error === undefined ? '' : html`<p class="error" role="alert">${props.error}</p>`}
      <input type="hidden" name="csrf" value="${props.csrf}" />
      <input type="hidden" name="next" value="${props.next}" />
      <label
        >Email
        <input
          type="email"
          name="email"
          autocomplete="username"
          maxlength="320"
          required
          autofocus
          value="${props.email}"
      /></label>
      <label
        >Password
        <input type="password" name="password" autocomplete="current-password" maxlength="1024" required
      /></label>
      <button type="submit">Sign in</button>
    </form>
  </section>`;
  return layout({ title: 'Sign in', main, user: props.user });
}

/**
 * What the dataset page knows about its visitor.
 *
 * @example
 * const access: DatasetAccess = { kind: 'granted', grant, tokenEndpoint: '/api/dataset-token?dataset=PPDemo' };
 */
export type DatasetAccess =
  | { kind: 'anonymous' }
  /** `tokenEndpoint` mints for another of the user's datasets, when there is one (see pageRoutes). */
  | { kind: 'no-grant'; tokenEndpoint: string | undefined }
  | { kind: 'granted'; grant: Grant; tokenEndpoint: string };

/**
 * A dataset's page: the widget from the visualization server, fed by the token provider when the user has a
 * grant. Everything the page script needs is in `data-` attributes and the CSRF `<meta>`; there is no inline
 * script.
 *
 * @example
 * c.html(datasetPage({ dataset, vizServerUrl, user, access, csrf }));
 */
export function datasetPage(props: {
  dataset: DatasetEntry;
  vizServerUrl: string;
  user: PageUser | undefined;
  access: DatasetAccess;
  /** The session's CSRF token, for the token endpoint. */
  csrf: string | undefined;
}): Html {
  const { dataset, access } = props;
  const here = `/datasets/${encodeURIComponent(dataset.label)}`;
  const signIn = signInHref(here);
  const accessLine =
    access.kind === 'anonymous'
      ? html`<div class="notice" id="sign-in-prompt">
          <p>
            You are seeing the aggregated views that are open to everyone.
            <a href="${signIn}">Sign in</a> to see the sample-level data you are granted.
          </p>
        </div>`
      : access.kind === 'no-grant'
        ? html`<p class="access-line">
            Your account has no grant for ${dataset.label}: you see the aggregated views that are open to
            everyone.
          </p>`
        : html`<p class="access-line">Your access: ${describeAccess(access.grant.clientAuthResult)}</p>`;
  const main = html`<nav class="crumbs"><a href="/">Datasets</a> / ${dataset.label}</nav>
    <h1>
      ${dataset.label} ${dataset.genome === undefined ? '' : html`<span class="tag">${dataset.genome}</span>`}
    </h1>
    ${accessLine}
    ${
      access.kind === 'granted'
        ? html`<div class="notice" id="auth-required" hidden>
            <p>Your session has ended. <a href="${signIn}">Sign in</a> again to see sample-level data.</p>
          </div>`
        : ''
    }
    <div
      id="viewer"
      class="viewer"
      data-host="${props.vizServerUrl}"
      data-dslabel="${dataset.label}"
      data-genome="${dataset.genome ?? ''}"
      data-token-endpoint="${access.kind === 'anonymous' ? '' : (access.tokenEndpoint ?? '')}"
    >
      <p class="viewer-status" id="viewer-status">Loading the viewer…</p>
      <noscript><p class="viewer-status">The viewer needs JavaScript.</p></noscript>
    </div>`;
  return layout({
    title: dataset.label,
    main,
    user: props.user,
    csrfMeta: access.kind !== 'anonymous' && access.tokenEndpoint !== undefined ? props.csrf : undefined,
    scripts: [
      { src: `${props.vizServerUrl}/bin/proteinpaint.js` },
      { src: '/assets/dataset-page.js', module: true },
    ],
  });
}

/**
 * A short page for refusals and errors: a title, one sentence and a way on.
 *
 * @example
 * c.html(messagePage({ title: 'Not found', message: 'There is no such page.' }), 404);
 */
export function messagePage(props: {
  title: string;
  message: string;
  user?: PageUser | undefined;
  link?: { href: string; text: string };
}): Html {
  const link = props.link ?? { href: '/', text: 'Back to the datasets' };
  const main = html`<section class="card narrow">
    <h1>${props.title}</h1>
    <p>${props.message}</p>
    <p><a href="${link.href}">${link.text}</a></p>
  </section>`;
  return layout({ title: props.title, main, user: props.user });
}

/**
 * The administrator's revocation page: forms that withdraw tokens (one user's, one grant's, one token's, or every
 * token of the portal) on every visualization server within seconds, and the latest revocations.
 *
 * @example
 * c.html(adminPage({ user, csrf, recent, apiTokens, now: Date.now(), notice: 'Revoked.' }));
 */
export function adminPage(props: {
  user: PageUser;
  csrf: string;
  recent: readonly RecordedRevocation[];
  apiTokens: readonly ApiTokenRecord[];
  now: number;
  notice?: string | undefined;
  error?: string | undefined;
}): Html {
  const when = (seconds: number) => new Date(seconds * 1000).toISOString();
  const what = (r: RecordedRevocation['revocation']) =>
    r.type === 'token'
      ? `token ${r.jti}`
      : r.type === 'user'
        ? `every token of user ${r.sub.slice(0, 10)}… issued before ${when(r.before)}`
        : r.type === 'grant'
          ? `tokens of user ${r.sub.slice(0, 10)}… for ${r.dataset} issued before ${when(r.before)}`
          : `every token issued before ${when(r.before)}`;
  const form = (kind: string, legend: string, fields: Html) =>
    html`<form method="post" action="/admin/revoke" class="stack">
      <fieldset>
        <legend>${legend}</legend>
        <input type="hidden" name="csrf" value="${props.csrf}" />
        <input type="hidden" name="kind" value="${kind}" />
        ${fields}
        <button type="submit">Revoke</button>
      </fieldset>
    </form>`;
  const main = html`<h1>Revoke access</h1>
    <p class="lede">
      A revocation reaches every visualization server within seconds; tokens it covers are refused with
      <code>token_revoked</code>.
    </p>
    ${props.notice === undefined ? '' : html`<p class="notice" role="status">${props.notice}</p>`}
    ${props.error === undefined ? '' : html`<p class="error" role="alert">${props.error}</p>`}
    ${form('user', "A user's tokens", html`<label>Email <input name="email" type="email" required /></label>`)}
    ${form(
      'grant',
      "A user's tokens for one dataset",
      html`<label>Email <input name="email" type="email" required /></label>
        <label>Dataset <input name="dataset" required /></label>`,
    )}
    ${form('token', 'One token', html`<label>Token id (jti) <input name="jti" required /></label>`)}
    ${form('all', 'Every token this portal has issued until now', html``)}
    <h2>Latest revocations</h2>
    <table>
      <thead>
        <tr>
          <th>#</th>
          <th>at</th>
          <th>what</th>
          <th>why</th>
          <th>by</th>
        </tr>
      </thead>
      <tbody>
        ${props.recent.map(
          (r) =>
            html`<tr>
              <td>${r.seq}</td>
              <td>${when(r.revocation.at)}</td>
              <td>${what(r.revocation)}</td>
              <td>${r.revocation.reason}</td>
              <td>${r.actor ?? ''}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${apiTokensSection({ tokens: props.apiTokens, now: props.now, csrf: props.csrf })}`;
  return layout({ title: 'Revoke access', main, user: props.user });
}
