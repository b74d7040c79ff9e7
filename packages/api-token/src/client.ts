/**
 * A client for scripts on Node: exchanges a personal API token at the portal for a short dataset token, exchanges
 * again before that expires, and reads the visualization server's routes with it (the sample table streamed as
 * TSV, row by row).
 * @module
 */
import { type ErrorBody, type RouteId, type RouteResponse, ROUTES, type SampleRow } from '@pp-embed/viz-api';
import {
  ACCESS_PATH,
  type AccessInfo,
  EXCHANGE_GRANT_TYPE,
  type ExchangeResponse,
  formatScope,
  type OAuthErrorBody,
  type OAuthErrorCode,
  SCRIPT_CLIENT_ID,
  type Scope,
  TOKEN_PATH,
} from './contract.js';

/**
 * @example
 * const options: ScriptClientOptions = {
 *   portal: 'https://portal.example.org', vizServer: 'https://viz.example.org',
 *   apiToken: process.env.PP_API_TOKEN ?? '', scope: { datasets: ['PPDemo'] },
 * };
 */
export interface ScriptClientOptions {
  /** The portal that issued the API token, e.g. `https://portal.example.org`. */
  portal: string | URL;
  /** The visualization server, e.g. `https://viz.example.org`. */
  vizServer: string | URL;
  /** The personal API token. Read it from the environment or a file, never from a command-line argument. */
  apiToken: string;
  /** Ask for less than the API token holds (one dataset, `aggregated` only); by default all of it. */
  scope?: Partial<Scope>;
  /** Exchange again this many seconds before the dataset token expires. Default 60. */
  refreshMarginSeconds?: number;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
}

/**
 * The portal refused: the exchange, with its OAuth 2.0 error code (`invalid_grant` means the API token no longer
 * works, expired, revoked or mistyped: make a new one on the portal's tokens page), or the access endpoint, with
 * the portal's code (`invalid_token`, `too_many_requests`).
 *
 * @example
 * if (error instanceof ExchangeError && error.code === 'invalid_grant') console.error('make a new API token');
 */
export class ExchangeError extends Error {
  override readonly name = 'ExchangeError';
  readonly code:
    OAuthErrorCode | 'invalid_token' | 'too_many_requests' | 'unexpected_response' | (string & {});
  readonly status: number;

  constructor(status: number, code: unknown, description: unknown) {
    // Only what looks like a code is repeated: whatever else an answer holds stays out of messages and logs.
    const known = typeof code === 'string' && /^[a-z_]{1,40}$/.test(code) ? code : 'unexpected_response';
    const said =
      typeof description === 'string' && description !== '' ? ` (${description.slice(0, 300)})` : '';
    super(`the portal refused: ${known}${said}`);
    this.code = known;
    this.status = status;
  }
}

/**
 * The visualization server refused a request, with the wire contract's code (`insufficient_scope`,
 * `scripts_not_allowed`, …).
 *
 * @example
 * if (error instanceof VizError && error.status === 403) console.error(error.code);
 */
export class VizError extends Error {
  override readonly name = 'VizError';
  readonly code: string;
  readonly status: number;

  constructor(status: number, body: Partial<ErrorBody> | undefined) {
    const code = body?.error?.code ?? 'unexpected_response';
    super(
      `the visualization server refused the request: ${code}${body?.error?.message ? ` (${body.error.message})` : ''}`,
    );
    this.code = code;
    this.status = status;
  }
}

/** Parameters of a route, as the wire contract names them (`dslabel`, `term`, …). */
export type RouteQuery = Readonly<Record<string, string | number | undefined>>;

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return undefined;
  }
}

/**
 * One script's access: an API token, the dataset token it was last exchanged for, and requests with it.
 *
 * @example
 * const client = new ScriptClient({ portal, vizServer, apiToken: process.env.PP_API_TOKEN ?? '' });
 * for await (const row of client.sampleRows('PPDemo', 'agedx')) console.log(row.sample, row.value);
 */
export class ScriptClient {
  readonly #portal: URL;
  readonly #viz: URL;
  readonly #apiToken: string;
  readonly #scope: string | undefined;
  readonly #marginMs: number;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  #current: { token: string; refreshAt: number } | undefined;
  #pending: Promise<string> | undefined;

  constructor(options: ScriptClientOptions) {
    this.#portal = new URL(options.portal);
    this.#viz = new URL(options.vizServer);
    if (typeof options.apiToken !== 'string' || options.apiToken.trim() === '') {
      throw new TypeError('apiToken is empty: read it from the environment or a file');
    }
    this.#apiToken = options.apiToken.trim();
    const scope = options.scope;
    this.#scope =
      scope === undefined
        ? undefined
        : formatScope({ datasets: scope.datasets ?? [], routeClasses: scope.routeClasses ?? [] }) ||
          undefined;
    this.#marginMs = (options.refreshMarginSeconds ?? 60) * 1000;
    this.#fetch = options.fetch ?? fetch;
    this.#now = options.now ?? Date.now;
  }

  /**
   * A dataset token for the visualization server: the last one while it has more than the margin left, else a new
   * exchange (one at a time: concurrent callers share it). Throws {@link ExchangeError} when the portal refuses.
   *
   * @example
   * const headers = { authorization: `Bearer ${await client.accessToken()}` };
   */
  accessToken(): Promise<string> {
    const current = this.#current;
    if (current !== undefined && this.#now() < current.refreshAt) return Promise.resolve(current.token);
    this.#pending ??= this.#exchange().finally(() => (this.#pending = undefined));
    return this.#pending;
  }

  async #exchange(): Promise<string> {
    const body = new URLSearchParams({
      grant_type: EXCHANGE_GRANT_TYPE,
      refresh_token: this.#apiToken,
      client_id: SCRIPT_CLIENT_ID,
    });
    if (this.#scope !== undefined) body.set('scope', this.#scope);
    const asked = this.#now();
    const response = await this.#fetch(new URL(TOKEN_PATH, this.#portal), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
    });
    const answer = (await readJson(response)) as Partial<ExchangeResponse & OAuthErrorBody> | undefined;
    if (!response.ok || typeof answer?.access_token !== 'string') {
      throw new ExchangeError(response.status, answer?.error, answer?.error_description);
    }
    const lifetimeMs = Math.max(0, Number(answer.expires_in) * 1000);
    // Timed from when the exchange was asked, so that a slow answer errs early; at half the lifetime when the
    // portal's tokens do not outlive the margin.
    const earlyMs = lifetimeMs > this.#marginMs ? this.#marginMs : lifetimeMs / 2;
    this.#current = { token: answer.access_token, refreshAt: asked + lifetimeMs - earlyMs };
    return answer.access_token;
  }

  /**
   * GETs a route of the visualization server with the dataset token. A token that expired or was revoked on the way
   * (401 `token_expired`, `token_revoked`) is exchanged again once and the request sent again. Other refusals throw
   * {@link VizError}; the response of a granted request is returned unread.
   *
   * @example
   * const response = await client.get('barchart', { dslabel: 'PPDemo', term: 'sex' });
   */
  async get(route: RouteId, query: RouteQuery, init: { accept?: string; signal?: AbortSignal } = {}) {
    const url = new URL(ROUTES[route].path, this.#viz);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    for (let attempt = 0; ; attempt++) {
      const response = await this.#fetch(url, {
        headers: {
          authorization: `Bearer ${await this.accessToken()}`,
          accept: init.accept ?? 'application/json',
        },
        ...(init.signal !== undefined && { signal: init.signal }),
      });
      if (response.ok) return response;
      const body = (await readJson(response)) as Partial<ErrorBody> | undefined;
      const code = body?.error?.code;
      if (
        attempt === 0 &&
        response.status === 401 &&
        (code === 'token_expired' || code === 'token_revoked')
      ) {
        this.#current = undefined;
        continue;
      }
      throw new VizError(response.status, body);
    }
  }

  /**
   * A route's JSON answer, typed by the wire contract.
   *
   * @example
   * const chart = await client.json('barchart', { dslabel: 'PPDemo', term: 'sex' });
   */
  async json<R extends RouteId>(route: R, query: RouteQuery): Promise<RouteResponse<R>> {
    return (await (await this.get(route, query)).json()) as RouteResponse<R>;
  }

  /**
   * Every row of a term's sample table, read from the server's TSV answer as it arrives: a million rows never sit
   * in memory at once. Values are text as the table writes them (a number's digits, a category's label).
   *
   * @example
   * for await (const { sample, value } of client.sampleRows('PPDemo', 'agedx')) total += Number(value);
   */
  async *sampleRows(
    dataset: string,
    term: string,
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<{ sample: string; value: SampleRow['value'] }> {
    const response = await this.get(
      'samples',
      { dslabel: dataset, term, format: 'tsv' },
      { accept: 'text/tab-separated-values', ...options },
    );
    if (response.body === null) return;
    let header = true;
    for await (const record of tsvRecords(response.body)) {
      if (header) {
        header = false;
        continue;
      }
      yield { sample: record[0] ?? '', value: record[1] ?? '' };
    }
  }

  /**
   * What the API token opens now, from the portal (`GET /api/access`).
   *
   * @example
   * const info = await client.access(); // info.datasets: [{ dataset: 'PPDemo', routeClasses: [...], cohorts: null }]
   */
  async access(): Promise<AccessInfo> {
    const response = await this.#fetch(new URL(ACCESS_PATH, this.#portal), {
      headers: { authorization: `Bearer ${this.#apiToken}`, accept: 'application/json' },
    });
    const body = await readJson(response);
    if (!response.ok) {
      const { error } = (body ?? {}) as Partial<ErrorBody>;
      throw new ExchangeError(response.status, error?.code, error?.message);
    }
    return body as AccessInfo;
  }
}

/**
 * The records of a TSV body as it arrives: fields split at tabs, records at `\n` (a `\r` before it dropped), a
 * field in double quotes read whole (tabs, line breaks and doubled quotes in it kept), as the server writes them.
 *
 * @example
 * for await (const [sample, value] of tsvRecords(response.body)) console.log(sample, value);
 */
export async function* tsvRecords(body: ReadableStream<Uint8Array>): AsyncGenerator<string[]> {
  const decoder = new TextDecoder();
  let field = '';
  let record: string[] = [];
  let quoted = false;
  // Inside quotes, a quote may close the field or be the first of a doubled pair: decided by the next character.
  let quoteSeen = false;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    const text = decoder.decode(chunk, { stream: true });
    const out: string[][] = [];
    for (const ch of text) {
      if (quoted) {
        if (quoteSeen) {
          quoteSeen = false;
          if (ch === '"') {
            field += '"';
            continue;
          }
          quoted = false;
        } else if (ch === '"') {
          quoteSeen = true;
          continue;
        } else {
          field += ch;
          continue;
        }
      }
      if (ch === '"' && field === '') quoted = true;
      else if (ch === '\t') {
        record.push(field);
        field = '';
      } else if (ch === '\n') {
        record.push(field.endsWith('\r') ? field.slice(0, -1) : field);
        out.push(record);
        record = [];
        field = '';
      } else field += ch;
    }
    yield* out;
  }
  if (field !== '' || record.length > 0) yield [...record, field];
}
