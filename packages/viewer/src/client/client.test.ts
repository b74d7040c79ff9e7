import { describe, expect, inject, it, vi } from 'vitest';
import { scenario } from '../../test/browser.js';
import { VizClient, normaliseHost } from './client.js';
import { PpRequestError } from './errors.js';

const signal = () => new AbortController().signal;

async function failure(promise: Promise<unknown>): Promise<PpRequestError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PpRequestError);
  return error as PpRequestError;
}

describe('VizClient', () => {
  it('sends the token in x-ds-access-token with credentials omitted, and never in the URL', async () => {
    const s = await scenario({ tokens: { 'tok-one': 'ok' } });
    const fetchSpy = vi.fn(globalThis.fetch);
    // A spy calls through with itself as `this`, as a careless wrapper would.
    const client = new VizClient({
      host: s.host,
      dslabel: 'TermdbTest',
      getDatasetAccessToken: () => 'tok-one',
      fetch: fetchSpy,
    });
    await client.config(signal());
    await client.samples('sex', { page: 1, pageSize: 10 }, signal());

    const gets = (await s.requests()).filter((r) => r.method === 'GET');
    expect(gets.map((r) => r.path)).toEqual(['/termdb/config', '/termdb/samples']);
    for (const request of gets) {
      expect(request.headers['x-ds-access-token']).toBe('tok-one');
      expect(request.url).not.toContain('tok-one');
      expect(request.headers.cookie).toBeUndefined();
    }
    for (const [, init] of fetchSpy.mock.calls) {
      expect(init).toMatchObject({ credentials: 'omit', mode: 'cors', method: 'GET' });
      expect(init?.signal).toBeInstanceOf(AbortSignal);
    }
  });

  it('uses the header key the server names in its config', async () => {
    const s = await scenario({ headerKey: 'x-portal-token', tokens: { 'tok-two': 'ok' } });
    const client = new VizClient({
      host: s.host,
      dslabel: 'TermdbTest',
      getDatasetAccessToken: () => 'tok-two',
    });
    const config = await client.config(signal());
    expect(config.auth.headerKey).toBe('x-portal-token');
    expect(client.headerKey).toBe('x-portal-token');

    const samples = await client.samples('sex', { page: 1, pageSize: 5 }, signal());
    expect(samples.rows).toHaveLength(5);
    const [request] = await s.requestsTo('/termdb/samples');
    expect(request?.headers['x-portal-token']).toBe('tok-two');
    expect(request?.headers['x-ds-access-token']).toBeUndefined();
  });

  it('still reads the config of a server whose CORS policy allows only its own custom header', async () => {
    const s = await scenario({
      headerKey: 'x-portal-token',
      corsAllowHeaders: 'headerKey',
      tokens: { t: 'ok' },
    });
    const client = new VizClient({ host: s.host, dslabel: 'TermdbTest', getDatasetAccessToken: () => 't' });
    await client.config(signal());
    const rows = await client.samples('sex', { page: 1, pageSize: 5 }, signal());
    expect(rows.total).toBe(100);
    const [request] = await s.requestsTo('/termdb/samples');
    expect(request?.headers['x-portal-token']).toBe('t');
  });

  it('retries a token_expired refusal once with the renewed token', async () => {
    const s = await scenario({ tokens: { '*': 'ok' }, once: [{ route: 'samples', code: 'token_expired' }] });
    let calls = 0;
    const callback = vi.fn(() => `tok-${++calls}`);
    const client = new VizClient({ host: s.host, dslabel: 'TermdbTest', getDatasetAccessToken: callback });
    const result = await client.samples('sex', { page: 1, pageSize: 5 }, signal());
    expect(result.rows).toHaveLength(5);
    const requests = await s.requestsTo('/termdb/samples');
    expect(requests.map((r) => [r.status, r.headers['x-ds-access-token']])).toEqual([
      [401, 'tok-1'],
      [200, 'tok-2'],
    ]);
    expect(callback).toHaveBeenCalledTimes(2);
  });

  it('does not retry when the callback returns the same token again', async () => {
    const s = await scenario({ tokens: { '*': 'ok' }, once: [{ route: 'samples', code: 'token_expired' }] });
    const client = new VizClient({
      host: s.host,
      dslabel: 'TermdbTest',
      getDatasetAccessToken: () => 'stale',
    });
    const error = await failure(client.samples('sex', { page: 1, pageSize: 5 }, signal()));
    expect(error.toDetail()).toEqual({ code: 'token_expired', status: 401, route: 'samples' });
    expect(await s.requestsTo('/termdb/samples')).toHaveLength(1);
  });

  it('does not retry when the renewal returns nothing', async () => {
    const s = await scenario({ tokens: { '*': 'ok' }, once: [{ route: 'samples', code: 'token_expired' }] });
    const tokens = ['first', undefined];
    const client = new VizClient({
      host: s.host,
      dslabel: 'TermdbTest',
      getDatasetAccessToken: () => tokens.shift(),
    });
    expect((await failure(client.samples('sex', { page: 1, pageSize: 5 }, signal()))).code).toBe(
      'token_expired',
    );
    expect(await s.requestsTo('/termdb/samples')).toHaveLength(1);
  });

  it('retries at most once, however many new tokens the callback offers', async () => {
    const s = await scenario({ refuse: { samples: { code: 'token_expired' } } });
    let calls = 0;
    const client = new VizClient({
      host: s.host,
      dslabel: 'TermdbTest',
      getDatasetAccessToken: () => `t${++calls}`,
    });
    expect((await failure(client.samples('sex', { page: 1, pageSize: 5 }, signal()))).code).toBe(
      'token_expired',
    );
    expect(await s.requestsTo('/termdb/samples')).toHaveLength(2);
    expect(calls).toBe(2);
  });

  it('does not retry other 401 refusals', async () => {
    const s = await scenario({ refuse: { samples: { code: 'token_invalid' } } });
    let calls = 0;
    const client = new VizClient({
      host: s.host,
      dslabel: 'TermdbTest',
      getDatasetAccessToken: () => `t${++calls}`,
    });
    expect((await failure(client.samples('sex', { page: 1, pageSize: 5 }, signal()))).code).toBe(
      'token_invalid',
    );
    expect(await s.requestsTo('/termdb/samples')).toHaveLength(1);
  });

  it('sends no header when the callback throws, and says so once without quoting the error', async () => {
    const s = await scenario();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const client = new VizClient({
      host: s.host,
      dslabel: 'TermdbTest',
      getDatasetAccessToken: () => {
        throw new Error('could not read tok-secret-from-error');
      },
    });
    await client.barchart('sex', signal());
    await client.barchart('race', signal());
    for (const request of await s.requestsTo('/termdb/barchart')) {
      expect(request.headers['x-ds-access-token']).toBeUndefined();
    }
    const messages = warn.mock.calls.map((call) => String(call[0]));
    expect(messages.filter((m) => m.includes('PP_TOKEN_CALLBACK_THREW'))).toHaveLength(1);
    expect(messages.join('\n')).not.toContain('tok-secret');
    warn.mockRestore();
  });

  it('sends no header when the callback returns nothing or an empty string', async () => {
    const s = await scenario();
    for (const value of [undefined, null, '']) {
      const client = new VizClient({
        host: s.host,
        dslabel: 'TermdbTest',
        getDatasetAccessToken: () => value,
      });
      await client.barchart('sex', signal());
    }
    const requests = await s.requestsTo('/termdb/barchart');
    expect(requests).toHaveLength(3);
    for (const request of requests) expect(request.headers['x-ds-access-token']).toBeUndefined();
  });

  it('awaits a callback that returns a Promise', async () => {
    const s = await scenario({ tokens: { 'tok-async': 'ok' } });
    const client = new VizClient({
      host: s.host,
      dslabel: 'TermdbTest',
      getDatasetAccessToken: () => new Promise((resolve) => setTimeout(() => resolve('tok-async'), 30)),
    });
    const result = await client.samples('sex', { page: 1, pageSize: 5 }, signal());
    expect(result.total).toBe(100);
    const [request] = await s.requestsTo('/termdb/samples');
    expect(request?.headers['x-ds-access-token']).toBe('tok-async');
  });

  it('reads the latest callback before each request', async () => {
    const s = await scenario();
    let token = 'before';
    const client = new VizClient({ host: s.host, dslabel: 'TermdbTest', getDatasetAccessToken: () => token });
    await client.barchart('sex', signal());
    token = 'after';
    await client.barchart('sex', signal());
    const requests = await s.requestsTo('/termdb/barchart');
    expect(requests.map((r) => r.headers['x-ds-access-token'])).toEqual(['before', 'after']);
  });

  it('normalises refusals into {code, status, route}', async () => {
    const s = await scenario({
      refuse: { barchart: { code: 'dataset_not_granted' }, terms: { status: 418, code: 'teapot' } },
    });
    const client = new VizClient({ host: s.host, dslabel: 'TermdbTest' });
    expect((await failure(client.barchart('sex', signal()))).toDetail()).toEqual({
      code: 'dataset_not_granted',
      status: 403,
      route: 'barchart',
    });
    expect((await failure(client.terms(undefined, signal()))).toDetail()).toEqual({
      code: 'teapot',
      status: 418,
      route: 'terms',
    });
    const other = new VizClient({ host: s.host, dslabel: 'NoSuchDataset' });
    expect((await failure(other.config(signal()))).toDetail()).toEqual({
      code: 'dataset_not_found',
      status: 404,
      route: 'config',
    });
  });

  it('reports an unreachable server as network_error with status 0', async () => {
    const client = new VizClient({
      host: inject('unreachableHost'),
      dslabel: 'TermdbTest',
      getDatasetAccessToken: () => 't',
    });
    expect((await failure(client.config(signal()))).toDetail()).toEqual({
      code: 'network_error',
      status: 0,
      route: 'config',
    });
  });

  it('reports a body that is not the documented JSON as unexpected_response', async () => {
    const client = new VizClient({
      host: 'https://viz.example.org',
      dslabel: 'TermdbTest',
      fetch: async () => new Response('<html>proxy error</html>', { status: 502 }),
    });
    expect((await failure(client.barchart('sex', signal()))).toDetail()).toEqual({
      code: 'internal_error',
      status: 502,
      route: 'barchart',
    });
    const odd = new VizClient({
      host: 'https://viz.example.org',
      dslabel: 'TermdbTest',
      fetch: async () => Response.json({ bars: 'nope' }),
    });
    expect((await failure(odd.barchart('sex', signal()))).code).toBe('unexpected_response');
  });

  it('rejects with an AbortError when aborted, even while waiting for the token', async () => {
    const s = await scenario({ delays: { barchart: 300 } });
    const controller = new AbortController();
    const client = new VizClient({ host: s.host, dslabel: 'TermdbTest' });
    const pending = client.barchart('sex', controller.signal);
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });

    const waiting = new AbortController();
    const slowToken = new VizClient({
      host: s.host,
      dslabel: 'TermdbTest',
      getDatasetAccessToken: () => new Promise<string>(() => undefined),
    });
    const never = slowToken.barchart('sex', waiting.signal);
    waiting.abort();
    await expect(never).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('keeps a host path prefix and drops query, fragment and trailing slashes', () => {
    expect(normaliseHost('https://viz.example.org/')).toBe('https://viz.example.org');
    expect(normaliseHost('https://example.org/pp/?x=1#y')).toBe('https://example.org/pp');
    expect(normaliseHost('viz.example.org')).toBeUndefined();
    expect(normaliseHost('javascript:alert(1)')).toBeUndefined();
    expect(normaliseHost('https://user:pw@viz.example.org')).toBeUndefined();
  });
});
