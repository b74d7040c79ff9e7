import { describe, expect, inject, it, vi } from 'vitest';
import {
  captureEvents,
  chartLabel,
  deepMarkup,
  deepQuery,
  deepQueryAll,
  deepText,
  scenario,
  messageText,
  sleep,
  until,
  viewerMounter,
} from '../../../test/browser.js';
import '../../define.js';
import { defineElements } from '../../define.js';

defineElements();

const mount = viewerMounter();

describe('<pp-viewer> and the token', () => {
  it('sends the token in x-ds-access-token on every request and never in a URL', async () => {
    const s = await scenario({ tokens: { 'tok-A1': 'ok' } });
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'sex' }, () => 'tok-A1');
    await until(() => deepQuery(el, 'table'));
    const gets = (await s.requests()).filter((r) => r.method === 'GET');
    expect(gets.map((r) => r.path).sort()).toEqual(['/termdb/barchart', '/termdb/config', '/termdb/samples']);
    for (const request of gets) {
      expect(request.headers['x-ds-access-token']).toBe('tok-A1');
      expect(request.url).not.toContain('tok-A1');
    }
    for (const entry of performance.getEntriesByType('resource')) expect(entry.name).not.toContain('tok-A1');
  });

  it('sends the token in the header the server configures', async () => {
    const s = await scenario({ headerKey: 'x-portal-auth', tokens: { 'tok-B2': 'ok' } });
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'sex' }, () => 'tok-B2');
    await until(() => deepQuery(el, 'table'));
    for (const path of ['/termdb/barchart', '/termdb/samples']) {
      const requests = await s.requestsTo(path);
      // The answer shown came under the configured header...
      const shown = requests.at(-1);
      expect(shown?.status).toBe(200);
      expect(shown?.headers['x-portal-auth']).toBe('tok-B2');
      expect(shown?.headers['x-ds-access-token']).toBeUndefined();
      // ...and at most one early request went under the default key, before the config named another.
      expect(requests.length).toBeLessThanOrEqual(2);
      for (const early of requests.slice(0, -1)) expect(early.headers['x-portal-auth']).toBeUndefined();
    }
  });

  it('works with a server whose CORS policy allows only its custom header key, without reporting errors', async () => {
    const s = await scenario({
      headerKey: 'x-portal-auth',
      corsAllowHeaders: 'headerKey',
      tokens: { 'tok-C3': 'ok' },
    });
    const events = captureEvents();
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'race' }, () => 'tok-C3');
    await until(() => deepQuery(el, 'table') && chartLabel(el));
    expect(chartLabel(el)).toBe('Bar chart of Race: White 78, Black 12, Asian 7, Other 3');
    expect(events.of('pp-error')).toEqual([]);
    const [samples] = (await s.requestsTo('/termdb/samples')).filter((r) => r.status === 200);
    expect(samples?.headers['x-portal-auth']).toBe('tok-C3');
    events.stop();
  });

  it('starts the chart alongside the config when the server keeps the default header key', async () => {
    const s = await scenario({ delays: { config: 300 }, tokens: { t: 'ok' } });
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'sex' }, () => 't');
    await until(() => chartLabel(el));
    const [config] = await s.requestsTo('/termdb/config');
    const charts = await s.requestsTo('/termdb/barchart');
    expect(charts).toHaveLength(1);
    expect(charts[0]?.receivedAt).toBeLessThan(config?.answeredAt ?? 0);
    expect(await s.requestsTo('/termdb/samples')).toHaveLength(1);
  });

  it('awaits a callback that returns a Promise', async () => {
    const s = await scenario({ tokens: { 'tok-async': 'ok' } });
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'sex' }, async () => 'tok-async');
    await until(() => deepQuery(el, 'table'));
    const [request] = await s.requestsTo('/termdb/samples');
    expect(request?.headers['x-ds-access-token']).toBe('tok-async');
  });

  it('treats a throwing callback as signed out: no header, chart shown, samples refused', async () => {
    const s = await scenario({ tokens: { '*': 'ok' } });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'sex' }, () => {
      throw new Error('no session');
    });
    await until(() => messageText(el).length > 0 && chartLabel(el));
    expect(chartLabel(el)).toBe('Bar chart of Sex: Female 60, Male 40');
    expect(messageText(el)).toEqual(['Sign in to see sample-level data for TermdbTest.']);
    for (const request of (await s.requests()).filter((r) => r.method === 'GET')) {
      expect(request.headers['x-ds-access-token']).toBeUndefined();
    }
    warn.mockRestore();
  });

  it('retries a token_expired refusal once with the renewed token, without telling the page', async () => {
    const s = await scenario({ tokens: { '*': 'ok' }, once: [{ route: 'samples', code: 'token_expired' }] });
    let calls = 0;
    const events = captureEvents();
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'sex' }, () => `tok-${++calls}`);
    await until(() => deepQuery(el, 'table'));
    const requests = await s.requestsTo('/termdb/samples');
    expect(requests.map((r) => r.status)).toEqual([401, 200]);
    expect(requests[0]?.headers['x-ds-access-token']).not.toBe(requests[1]?.headers['x-ds-access-token']);
    expect(events.of('pp-error')).toEqual([]);
    events.stop();
  });

  it('does not retry with the same token and shows the expired sentence', async () => {
    const s = await scenario({ tokens: { 'tok-old': 'token_expired' } });
    const events = captureEvents();
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'sex' }, () => 'tok-old');
    await until(() => messageText(el).length > 0);
    expect(messageText(el)).toEqual([
      'Your session has expired. Sign in again to see sample-level data for TermdbTest.',
    ]);
    expect(await s.requestsTo('/termdb/samples')).toHaveLength(1);
    expect(events.of('pp-auth-required')).toEqual([
      { dslabel: 'TermdbTest', route: 'samples', code: 'token_expired' },
    ]);
    events.stop();
  });

  it('never loops on token_expired, whatever the callback returns', async () => {
    const s = await scenario({ refuse: { samples: { code: 'token_expired' } } });
    let calls = 0;
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'sex' }, () => `fresh-${++calls}`);
    await until(() => messageText(el).length > 0);
    await sleep(300);
    expect(await s.requestsTo('/termdb/samples')).toHaveLength(2);
  });

  it('keeps the token out of the DOM, events, console and storage', async () => {
    const token = 'tok-SECRET-7f3a';
    const s = await scenario({
      tokens: { [token]: 'dataset_not_granted' },
      once: [{ route: 'barchart', code: 'token_expired' }],
    });
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((name) =>
      vi.spyOn(console, name).mockImplementation(() => undefined),
    );
    const events = captureEvents();
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'race' }, () => token);
    await until(() => messageText(el).length > 0);
    expect(deepMarkup(document.body)).not.toContain(token);
    expect(JSON.stringify(events.list)).not.toContain(token);
    for (const spy of spies) expect(JSON.stringify(spy.mock.calls)).not.toContain(token);
    expect(JSON.stringify({ ...localStorage })).not.toContain(token);
    expect(JSON.stringify({ ...sessionStorage })).not.toContain(token);
    expect(document.cookie).not.toContain(token);
    for (const request of await s.requests()) expect(request.url).not.toContain(token);
    for (const spy of spies) spy.mockRestore();
    events.stop();
  });
});

describe('<pp-viewer> refusals', () => {
  const sampleRefusals: {
    name: string;
    setup: Parameters<typeof scenario>[0];
    token?: string;
    sentence: string;
    auth: boolean;
    reason?: string;
  }[] = [
    {
      name: 'token_missing',
      setup: {},
      sentence: 'Sign in to see sample-level data for TermdbTest.',
      auth: true,
    },
    {
      name: 'token_expired',
      setup: { tokens: { t: 'token_expired' } },
      token: 't',
      sentence: 'Your session has expired. Sign in again to see sample-level data for TermdbTest.',
      auth: true,
    },
    {
      name: 'token_invalid',
      setup: { tokens: { t: 'token_invalid:signature' } },
      token: 't',
      sentence:
        "This site's access to sample-level data for TermdbTest is set up wrongly, so it cannot be shown. This is not a problem with your account; the site's developers can see why in the browser console.",
      auth: false,
      reason: 'signature',
    },
    {
      name: 'token_not_yet_valid',
      setup: { tokens: { t: 'token_not_yet_valid' } },
      token: 't',
      sentence:
        "This site's access to sample-level data for TermdbTest is not valid yet (a clock is off), so it cannot be shown. This is not a problem with your account; the site's developers can see why in the browser console.",
      auth: false,
    },
    {
      name: 'dataset_not_granted',
      setup: { tokens: { t: 'dataset_not_granted' } },
      token: 't',
      sentence: 'Your account is not granted access to sample-level data for TermdbTest.',
      auth: false,
    },
    {
      name: 'ip_mismatch',
      setup: { tokens: { t: 'ip_mismatch' } },
      token: 't',
      sentence:
        'Your session was started on another network. Sign in again to see sample-level data for TermdbTest.',
      auth: true,
    },
    {
      name: 'route_forbidden',
      setup: { refuse: { samples: { code: 'route_forbidden' } } },
      sentence: 'TermdbTest does not share sample-level data.',
      auth: false,
    },
    {
      name: 'embedder_not_allowed',
      setup: { refuse: { samples: { code: 'embedder_not_allowed' } } },
      sentence: 'This site is not allowed to show sample-level data for TermdbTest.',
      auth: false,
    },
  ];

  for (const { name, setup, token, sentence, auth, reason } of sampleRefusals) {
    it(`shows "${name}" on the sample table while the aggregated chart keeps working`, async () => {
      const s = await scenario(setup);
      const events = captureEvents();
      const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'sex' }, token ? () => token : undefined);
      await until(() => messageText(el).length > 0 && chartLabel(el));
      expect(messageText(el)).toEqual([sentence]);
      expect(chartLabel(el)).toBe('Bar chart of Sex: Female 60, Male 40');
      const status = name.startsWith('token_') ? 401 : 403;
      expect(events.of('pp-error')).toEqual([
        { code: name, status, route: 'samples', ...(reason !== undefined && { reason }) },
      ]);
      expect(events.of('pp-auth-required')).toEqual(
        auth ? [{ dslabel: 'TermdbTest', route: 'samples', code: name }] : [],
      );
      expect(events.list.every((event) => event.bubbles && event.composed)).toBe(true);
      events.stop();
    });
  }

  const viewRefusals: {
    name: string;
    host?: () => string;
    dslabel?: string;
    setup?: Parameters<typeof scenario>[0];
    sentence: (host: string) => string;
    error: object;
  }[] = [
    {
      name: 'embedder_not_allowed',
      setup: { refuse: { config: { code: 'embedder_not_allowed' } } },
      sentence: () => 'This site is not allowed to show TermdbTest.',
      error: { code: 'embedder_not_allowed', status: 403, route: 'config' },
    },
    {
      name: 'dataset_not_found',
      dslabel: 'NoSuchData',
      sentence: () => 'The visualization server has no dataset named NoSuchData.',
      error: { code: 'dataset_not_found', status: 404, route: 'config' },
    },
    {
      name: 'an unreachable server',
      host: () => inject('unreachableHost'),
      sentence: (host) => `The visualization server at ${host} cannot be reached.`,
      error: { code: 'network_error', status: 0, route: 'config' },
    },
    {
      name: 'internal_error',
      setup: { refuse: { config: { code: 'internal_error' } } },
      sentence: () => 'The visualization server ran into a problem. Please try again later.',
      error: { code: 'internal_error', status: 500, route: 'config' },
    },
    {
      name: 'an unknown code',
      setup: { refuse: { config: { status: 418, code: 'teapot' } } },
      sentence: () => 'Something went wrong while loading TermdbTest. Please try again later.',
      error: { code: 'teapot', status: 418, route: 'config' },
    },
  ];

  for (const { name, host, dslabel, setup, sentence, error } of viewRefusals) {
    it(`replaces the whole view with a sentence for ${name}`, async () => {
      const s = await scenario(setup);
      const target = host?.() ?? s.host;
      const events = captureEvents();
      const el = mount({ host: target, dslabel: dslabel ?? 'TermdbTest', term: 'sex' }, () => 'tok');
      await until(() => messageText(el).length > 0);
      expect(messageText(el)).toEqual([sentence(target)]);
      expect(deepQuery(el, 'pp-term-tree')).toBeUndefined();
      expect(events.of('pp-error')).toEqual([error]);
      expect(events.of('pp-ready')).toEqual([]);
      events.stop();
    });
  }

  it('asks a signed-out user to sign in when every route of the dataset needs a token', async () => {
    const s = await scenario({ protect: '*' });
    const events = captureEvents();
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'sex' });
    await until(() => messageText(el).length > 0);
    expect(messageText(el)).toEqual(['Sign in to see TermdbTest.']);
    expect(events.of('pp-ready')).toEqual([{ dslabel: 'TermdbTest', genome: 'hg38' }]);
    expect(events.of('pp-auth-required')).toEqual([
      { dslabel: 'TermdbTest', route: 'terms', code: 'token_missing' },
    ]);
  });

  it('explains a term that cannot be charted, and offers no sample table, overlay or download for it', async () => {
    const s = await scenario({ tokens: { t: 'ok' } });
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'dxdate' }, () => 't');
    await until(() => messageText(el).length > 0);
    expect(messageText(el)).toEqual(['This kind of term cannot be charted yet.']);
    expect(deepText(el)).not.toContain('Samples');
    expect(deepQuery(el, '[part="toolbar"]')).toBeUndefined();
  });

  it('reports a repeated refusal once, and again after sign-in changes the outcome', async () => {
    const s = await scenario({ tokens: { good: 'ok' } });
    const events = captureEvents();
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'sex' });
    await until(() => messageText(el).length > 0);
    el.term = 'race';
    await until(
      async () => (await s.requestsTo('/termdb/samples')).length === 2 && messageText(el).length > 0,
    );
    expect(events.of('pp-auth-required')).toHaveLength(1);

    el.getDatasetAccessToken = () => 'good';
    await until(() => deepQuery(el, 'table') && chartLabel(el));
    expect(messageText(el)).toEqual([]);
    // Signed in, the small "Other" cell is no longer suppressed.
    expect(chartLabel(el)).toBe('Bar chart of Race: White 78, Black 12, Asian 7, Other 3');
    events.stop();
  });
});

describe('<pp-viewer> loading and interaction', () => {
  it('fires pp-ready once when the config loads, and no event for property sets', async () => {
    const s = await scenario();
    const events = captureEvents();
    const el = mount({ host: s.host, dslabel: 'TermdbTest' });
    await until(() => events.of('pp-ready').length === 1);
    el.term = 'sex';
    el.pageSize = 10;
    expect(events.list).toHaveLength(1);
    await until(() => chartLabel(el));
    expect(events.of('pp-ready')).toHaveLength(1);
    events.stop();
  });

  it('does not load the config again when the callback is set just after the tag', async () => {
    const s = await scenario({ tokens: { t: 'ok' } });
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'sex' });
    await el.updateComplete;
    el.getDatasetAccessToken = () => 't';
    await until(() => deepQuery(el, 'table'));
    expect(await s.requestsTo('/termdb/config')).toHaveLength(1);
    const shown = (await s.requestsTo('/termdb/samples')).filter((r) => r.status === 200);
    expect(shown.map((r) => r.headers['x-ds-access-token'])).toEqual(['t']);
  });

  it('loads the config again on refresh() after it failed', async () => {
    const s = await scenario({ once: [{ route: 'config', code: 'internal_error' }] });
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'sex' });
    await until(() => messageText(el).length > 0);
    el.refresh();
    await until(() => chartLabel(el));
    expect(await s.requestsTo('/termdb/config')).toHaveLength(2);
  });

  it('shows a loading state, then an empty state until a term is chosen', async () => {
    const s = await scenario({ delays: { config: 150 } });
    const el = mount({ host: s.host, dslabel: 'TermdbTest' });
    await until(() => deepText(el).includes('Loading TermdbTest…'));
    await until(() =>
      deepText(el).includes('Choose a term to see how the samples of TermdbTest are distributed.'),
    );
  });

  it('says so when no sample has a value for the term', async () => {
    const s = await scenario();
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'unused' });
    await until(() => deepText(el).includes('No samples have a value for Genetic ancestry (not collected).'));
  });

  it('drops a stale response when the term changes quickly', async () => {
    const s = await scenario({ delays: { 'barchart:sex': 600, 'samples:sex': 600 } });
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'sex' });
    await until(async () => (await s.requestsTo('/termdb/barchart')).length === 1);
    el.term = 'race';
    await until(() => chartLabel(el)?.startsWith('Bar chart of Race'));
    await sleep(800);
    expect(chartLabel(el)).toMatch(/^Bar chart of Race/);
    expect(deepQuery(el, '#chart-title')?.textContent).toBe('Race');
    const [sexChart] = await s.requestsTo('/termdb/barchart');
    expect(sexChart?.url).toContain('term=sex');
    expect(sexChart?.aborted).toBe(true);
  });

  it('browses the term tree: expands parents, disables unsupported terms, charts a chosen leaf', async () => {
    const s = await scenario({ tokens: { t: 'ok' } });
    const el = mount({ host: s.host, dslabel: 'TermdbTest' }, () => 't');
    const item = (name: string) =>
      deepQueryAll<HTMLElement>(el, '[role="treeitem"]').find(
        (node) => node.querySelector('.name')?.textContent?.replace('not supported yet', '').trim() === name,
      );
    await until(() => item('Clinical outcomes'));
    item('Clinical outcomes')?.querySelector<HTMLElement>('.row')?.click();
    await until(() => item('Cardiovascular System'));
    const condition = item('Cardiovascular System');
    expect(condition?.getAttribute('aria-disabled')).toBe('true');
    expect(deepText(condition as Node)).toContain('not supported yet');
    condition?.querySelector<HTMLElement>('.row')?.click();
    expect(el.term).toBeUndefined();

    const [children] = await s.requestsTo('/termdb/terms');
    expect(children?.url).toContain('parent=outcomes');
    expect(children?.headers['x-ds-access-token']).toBe('t');

    item('Demographic Variables')?.querySelector<HTMLElement>('.row')?.click();
    await until(() => item('Sex'));
    item('Sex')?.querySelector<HTMLElement>('.row')?.click();
    await until(() => chartLabel(el) === 'Bar chart of Sex: Female 60, Male 40');
    expect(item('Sex')?.getAttribute('aria-selected')).toBe('true');
  });

  it('pages through the sample table', async () => {
    const s = await scenario({ tokens: { t: 'ok' } });
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'agedx', 'page-size': '25' }, () => 't');
    await until(() => deepText(el).includes('Showing 1–25 of 100 samples'));
    const next = deepQueryAll<HTMLButtonElement>(el, 'button').find((b) => b.textContent?.trim() === 'Next');
    next?.click();
    await until(() => deepText(el).includes('Showing 26–50 of 100 samples'));
    const pages = (await s.requestsTo('/termdb/samples')).map((r) =>
      new URL(r.url, 'http://x').searchParams.get('page'),
    );
    expect(pages).toEqual(['1', '2']);
  });

  it('shows suppressed cells as hatched bars labelled <N with a legend', async () => {
    const s = await scenario();
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'race' });
    await until(() => chartLabel(el));
    expect(chartLabel(el)).toBe('Bar chart of Race: White 78, Black 12, Asian 7, Other fewer than 5');
    const hatched = deepQueryAll(el, 'rect.bar.suppressed');
    expect(hatched).toHaveLength(1);
    expect(hatched[0]?.getAttribute('fill')).toBe('url(#hatch)');
    expect(deepText(el)).toContain('<5');
    expect(deepText(el)).toContain('Fewer than 5 samples, or withheld to protect privacy');
    // One line says how the counts are shown, and whose rule it is.
    expect(deepText(el)).toContain(
      '<5: 1 to 4 samples · hidden: withheld so that small counts cannot be worked out. This dataset’s rule, for visitors who are not signed in.',
    );
  });

  it('warns once, with a stable code, when the host is missing, and renders a sentence instead', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const events = captureEvents();
    const first = mount({ dslabel: 'TermdbTest' });
    const second = mount({ dslabel: 'TermdbTest' });
    await until(() => messageText(first).length > 0 && messageText(second).length > 0);
    expect(messageText(first)).toEqual([
      'This view has no visualization server address, so nothing can be shown.',
    ]);
    const codes = warn.mock.calls.map((call) => String(call[0])).filter((m) => m.includes('PP_HOST_MISSING'));
    expect(codes).toHaveLength(1);
    expect(events.of('pp-error')).toEqual([
      { code: 'host_missing', status: 0, route: 'config' },
      { code: 'host_missing', status: 0, route: 'config' },
    ]);
    warn.mockRestore();
    events.stop();
  });

  it('aborts its requests when removed from the page', async () => {
    const s = await scenario({ delays: { barchart: 500 } });
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'sex' });
    await until(async () => (await s.requestsTo('/termdb/barchart')).length === 1);
    el.remove();
    await until(async () => (await s.requestsTo('/termdb/barchart'))[0]?.aborted);
  });
});
