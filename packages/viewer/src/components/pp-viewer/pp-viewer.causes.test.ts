// The true cause of a refusal, for the researcher and the developer: an unlisted origin, a token the portal mints
// wrongly, a missing callback, and a dataset password. In a file of their own, because developer warnings show
// once per page.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  captureEvents,
  chartLabel,
  deepMarkup,
  deepQuery,
  deepText,
  messageText,
  scenario,
  until,
  viewerMounter,
} from '../../../test/browser.js';
import { defineElements } from '../../define.js';

defineElements();

const mount = viewerMounter();
afterEach(() => vi.restoreAllMocks());

describe('<pp-viewer> on a page whose origin the server does not list', () => {
  it('says the site is not allowed to embed the dataset, not that the server cannot be reached, even with a token', async () => {
    const s = await scenario({ unlisted: true });
    const events = captureEvents();
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'sex' }, () => 'a-token');
    await until(() => messageText(el).length > 0);
    expect(messageText(el)).toEqual(['This site is not allowed to show TermdbTest.']);
    expect(events.of('pp-error')).toEqual([{ code: 'embedder_not_allowed', status: 403, route: 'config' }]);
    expect(events.of('pp-auth-required')).toEqual([]);
    events.stop();
  });
});

describe('<pp-viewer> and a token the portal mints wrongly', () => {
  it('tells the developer in the console, with the server reason, and never asks the researcher to sign in', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const s = await scenario({ protect: '*', tokens: { t: 'token_invalid:signature' } });
    const events = captureEvents();
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'sex' }, () => 't');
    await until(() => messageText(el).length > 0);
    expect(messageText(el)[0]).toContain('This is not a problem with your account');
    expect(events.of('pp-error')).toEqual([
      { code: 'token_invalid', status: 401, route: 'terms', reason: 'signature' },
    ]);
    expect(events.of('pp-auth-required')).toEqual([]);
    const printed = error.mock.calls.map((call) => String(call[0]));
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^\[pp-embed PP_TOKEN_REJECTED\] /);
    expect(printed[0]).toContain(
      'token_invalid (reason "signature": the signature does not match the key the server holds for this portal)',
    );
    expect(printed[0]).toContain(
      'pp-token explain --config serverconfig.json --dataset TermdbTest --route termdb/terms',
    );
    expect(printed[0]).not.toContain('"t"');
    events.stop();
  });
});

describe('<pp-viewer> and its token callback', () => {
  it("calls getDatasetAccessToken with ProteinPaint's argument, the route key termdb", async () => {
    const s = await scenario({ tokens: { t: 'ok' } });
    const callback = vi.fn(() => 't');
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'sex' }, callback);
    await until(() => chartLabel(el));
    expect(callback.mock.calls.length).toBeGreaterThan(0);
    expect(callback.mock.calls.every((call: unknown[]) => call.length === 1 && call[0] === 'termdb')).toBe(
      true,
    );
  });

  it('warns, naming the option, when a route needs a token and no callback is set, and when the callback is no function', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const s = await scenario({});
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'sex' });
    await until(() => chartLabel(el));
    expect(warn.mock.calls.map((c) => String(c[0]))).toContainEqual(
      '[pp-embed PP_TOKEN_CALLBACK_MISSING] getDatasetAccessToken is not set, and TermdbTest needs a token from this page for samples, export: pass it to runproteinpaint({ getDatasetAccessToken }) or set it on <pp-viewer>.',
    );
    mount({ host: s.host, dslabel: 'TermdbTest' }, 'eyJ-a-token-pasted-as-a-string');
    await until(() => warn.mock.calls.some((c) => String(c[0]).includes('PP_TOKEN_CALLBACK_INVALID')));
    const invalid = warn.mock.calls
      .map((c) => String(c[0]))
      .find((m) => m.includes('PP_TOKEN_CALLBACK_INVALID'));
    expect(invalid).toBe(
      '[pp-embed PP_TOKEN_CALLBACK_INVALID] getDatasetAccessToken must be a function that returns the token, not a string; requests are sent without a token.',
    );
  });
});

describe('<pp-viewer> and a dataset password', () => {
  it('asks for the password instead of a sign-in, and shows the data once it is right', async () => {
    const s = await scenario({ protect: '*', password: 'open sesame' });
    const events = captureEvents();
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'sex' });
    await until(() => deepQuery(el, 'form[part="password"]'));
    const form = deepQuery<HTMLFormElement>(el, 'form[part="password"]') as HTMLFormElement;
    expect(deepText(form)).toContain('TermdbTest is protected by a password.');
    const input = deepQuery<HTMLInputElement>(el, 'input[type="password"]') as HTMLInputElement;

    input.value = 'not it';
    form.requestSubmit();
    await until(() => messageText(el).length > 0);
    expect(messageText(el)).toEqual(['That password is not correct for TermdbTest.']);

    input.value = 'open sesame';
    form.requestSubmit();
    await until(() => chartLabel(el));
    expect(chartLabel(el)).toBe('Bar chart of Sex: Female 60, Male 40');
    expect(deepQuery(el, 'form[part="password"]')).toBeUndefined();
    // The issued token travels in the header, and nowhere on the page.
    const samples = await s.requestsTo('/termdb/samples');
    const issued = samples.at(-1)?.headers['x-ds-access-token'] ?? '';
    expect(issued).toMatch(/^password-token-/);
    expect(deepMarkup(document.body)).not.toContain(issued);
    expect(JSON.stringify({ ...localStorage, ...sessionStorage })).not.toContain(issued);
    expect(document.cookie).toBe('');
    // Only the login request carried the password.
    const requests = await s.requests();
    expect(requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual([
      '/termdb/login',
      '/termdb/login',
    ]);
    expect(events.of('pp-auth-required')).toEqual([]);
    events.stop();
  });
});
