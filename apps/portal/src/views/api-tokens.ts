import { DEFAULT_API_TOKEN_DAYS, MAX_API_TOKEN_DAYS, TOKEN_PATH } from '@pp-embed/api-token';
import { html } from 'hono/html';
import { type ApiTokenRecord, apiTokenStatus, MAX_API_TOKEN_NAME_LENGTH } from '../db/api-tokens.js';
import type { Grant } from '../db/grants.js';
import { type Html, layout, type PageUser } from './layout.js';

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const when = (ms: number | null): string =>
  ms === null ? 'never' : new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** What a token opens, in words: `PPDemo, TermdbTest · aggregated and sample-level`. */
export function describeScope(record: Pick<ApiTokenRecord, 'datasets' | 'routeClasses'>): string {
  const classes = record.routeClasses.includes('sample-level')
    ? 'aggregated and sample-level'
    : 'aggregated only';
  return `${record.datasets.join(', ')} · ${classes}`;
}

function statusOf(record: ApiTokenRecord, now: number): string {
  const status = apiTokenStatus(record, now);
  if (status === 'revoked')
    return `revoked ${when(record.revokedAt)}${record.revokedBy === null ? '' : ` by ${record.revokedBy}`}`;
  return status;
}

/**
 * The table of tokens, for their owner or the administrator; live ones have a revoke button that posts `id` and the
 * CSRF token to `action`.
 */
function tokenTable(props: {
  tokens: readonly ApiTokenRecord[];
  now: number;
  csrf: string;
  action: string;
  owner: boolean;
}): Html {
  if (props.tokens.length === 0) return html`<p class="lede">No tokens.</p>`;
  return html`<table class="tokens">
    <thead>
      <tr>
        ${props.owner ? '' : html`<th>user</th>`}
        <th>name</th>
        <th>id</th>
        <th>scope</th>
        <th>created</th>
        <th>last used</th>
        <th>expires</th>
        <th>status</th>
        <th></th>
      </tr>
    </thead>
    <tbody>
      ${props.tokens.map((t) => {
        const live = apiTokenStatus(t, props.now) === 'active';
        return html`<tr>
          ${props.owner ? '' : html`<td>${t.email}</td>`}
          <td>${t.name}</td>
          <td><code>${t.id}</code></td>
          <td>${describeScope(t)}${t.pinned ? ' · pinned' : ''}</td>
          <td>${day(t.createdAt)}</td>
          <td>${when(t.lastUsedAt)}</td>
          <td>${day(t.expiresAt)}</td>
          <td>${statusOf(t, props.now)}</td>
          <td>
            ${
              live
                ? html`<form method="post" action="${props.action}">
                    <input type="hidden" name="csrf" value="${props.csrf}" />
                    <input type="hidden" name="id" value="${t.id}" />
                    <button type="submit" class="quiet">Revoke</button>
                  </form>`
                : ''
            }
          </td>
        </tr>`;
      })}
    </tbody>
  </table>`;
}

/**
 * The owner's page of personal API tokens: the one just made (shown once), the list, and the form that makes one
 * within the owner's grants.
 *
 * @example
 * c.html(apiTokensPage({ user, grants, tokens, now, portalOrigin, created: { token, record } }));
 */
export function apiTokensPage(props: {
  user: PageUser;
  grants: readonly Grant[];
  /** Datasets the institution granted this session only: no API token carries them. */
  sessionOnly?: readonly string[] | undefined;
  tokens: readonly ApiTokenRecord[];
  now: number;
  /** The portal's origin, for the examples. */
  portalOrigin: string;
  created?: { token: string; record: ApiTokenRecord } | undefined;
  notice?: string | undefined;
  error?: string | undefined;
}): Html {
  const { user, created } = props;
  const shown =
    created === undefined
      ? ''
      : html`<section class="notice" role="status">
          <p>
            <strong>${created.record.name}</strong>: copy the token now. It is shown this once; the portal
            keeps only its hash.
          </p>
          <p><code class="secret">${created.token}</code></p>
          <p>
            Keep it where your script reads it, e.g. in the environment as <code>PP_API_TOKEN</code>, never in
            the script's text or a repository. A script exchanges it at
            <code>${props.portalOrigin}${TOKEN_PATH}</code>.
          </p>
        </section>`;
  // What the institution granted at sign-in lasts as long as the session; a script's token outlives it.
  const sessionOnly =
    (props.sessionOnly ?? []).length === 0
      ? ''
      : html`<p class="lede">
          What your institution granted at sign-in (${(props.sessionOnly ?? []).join(', ')}) lasts only as
          long as this session, so no API token carries it. For scripts, ask the portal's administrators for a
          grant of your own.
        </p>`;
  const form =
    props.grants.length === 0
      ? html`<p class="lede">Your account has no dataset grants, so a token would open nothing.</p>`
      : html`<form method="post" action="/tokens" class="card stack">
          <input type="hidden" name="csrf" value="${user.csrf}" />
          <label
            >Name
            <input
              type="text"
              name="name"
              maxlength="${MAX_API_TOKEN_NAME_LENGTH}"
              required
              placeholder="laptop, cluster, nextflow…"
          /></label>
          <fieldset>
            <legend>Datasets (of your grants)</legend>
            ${props.grants.map(
              (g) =>
                html`<label class="check"
                  ><input type="checkbox" name="datasets" value="${g.dataset}" checked /> ${g.dataset}</label
                >`,
            )}
          </fieldset>
          <fieldset>
            <legend>Data</legend>
            <label class="check"
              ><input type="radio" name="access" value="aggregated" /> Aggregated data only (counts,
              charts)</label
            >
            <label class="check"
              ><input type="radio" name="access" value="sample-level" checked /> Sample-level data too (sample
              tables)</label
            >
          </fieldset>
          <label
            >Expires after (days, at most ${MAX_API_TOKEN_DAYS})
            <input
              type="number"
              name="days"
              min="1"
              max="${MAX_API_TOKEN_DAYS}"
              value="${DEFAULT_API_TOKEN_DAYS}"
              required
          /></label>
          <label class="check"
            ><input type="checkbox" name="pinned" /> Pin each access token to the address that asked for it
            (for a script that runs on one machine; scripts on a cluster leave this off)</label
          >
          <button type="submit">Make a token</button>
        </form>`;
  const main = html`<h1>API tokens</h1>
    <p class="lede">
      A personal API token lets a script (R, Python, a workflow) read the datasets you are granted, without a
      browser. The script exchanges it for an access token of a few minutes, which follows your grants as they
      are at that moment. Revoke a token you no longer use, or that may have leaked: it stops working at once.
    </p>
    ${props.notice === undefined ? '' : html`<p class="notice" role="status">${props.notice}</p>`}
    ${props.error === undefined ? '' : html`<p class="error" role="alert">${props.error}</p>`} ${shown}
    <h2>Your tokens</h2>
    ${tokenTable({ tokens: props.tokens, now: props.now, csrf: user.csrf, action: '/tokens/revoke', owner: true })}
    <h2>Make a token</h2>
    ${sessionOnly} ${form}`;
  return layout({ title: 'API tokens', main, user });
}

/**
 * The administrator's list of everyone's API tokens, with a revoke button on each live one.
 *
 * @example
 * html`${apiTokensSection({ tokens, now, csrf })}`;
 */
export function apiTokensSection(props: {
  tokens: readonly ApiTokenRecord[];
  now: number;
  csrf: string;
}): Html {
  return html`<h2>Personal API tokens</h2>
    <p class="lede">
      Revoking a token refuses its next exchange and withdraws the access tokens it was exchanged for on every
      visualization server within seconds.
    </p>
    ${tokenTable({ ...props, action: '/admin/api-tokens/revoke', owner: false })}`;
}
