import { afterEach, describe, expect, it, vi } from 'vitest';
import { deepQuery, deepText, scenario, until } from '../test/browser.js';
import { runproteinpaint } from './index.js';

const holders: HTMLElement[] = [];
function holder(): HTMLElement {
  const element = document.createElement('div');
  document.body.append(element);
  holders.push(element);
  return element;
}
afterEach(() => holders.splice(0).forEach((element) => element.remove()));

const chartLabel = (root: Element) => deepQuery(root, 'svg[role="img"]')?.getAttribute('aria-label');

describe('runproteinpaint', () => {
  it('renders into the holder and returns a handle that changes the term and the callback', async () => {
    const s = await scenario({ tokens: { good: 'ok' } });
    const target = holder();
    const handle = runproteinpaint({
      host: s.host,
      holder: target,
      mass: { state: { dslabel: 'TermdbTest', genome: 'hg38', plots: [{ term: { id: 'sex' } }] } },
    });
    expect(handle.element?.parentElement).toBe(target);
    await until(() => chartLabel(target) === 'Bar chart of Sex: Female 60, Male 40');
    await until(() => deepText(target).includes('Sign in to see sample-level data for TermdbTest.'));

    handle.update({ term: 'race' });
    await until(() => chartLabel(target)?.startsWith('Bar chart of Race'));

    handle.update({ getDatasetAccessToken: () => 'good' });
    await until(() => deepQuery(target, 'table'));
    const [last] = (await s.requestsTo('/termdb/samples')).slice(-1);
    expect(last?.headers['x-ds-access-token']).toBe('good');
  });

  it('accepts a selector as holder', async () => {
    const s = await scenario();
    const target = holder();
    target.id = 'viz-holder';
    const handle = runproteinpaint({
      host: s.host,
      holder: '#viz-holder',
      mass: { state: { dslabel: 'TermdbTest' } },
    });
    expect(target.querySelector('pp-viewer')).toBe(handle.element);
  });

  it('destroy() removes the viewer, aborts its requests and makes the handle inert', async () => {
    const s = await scenario({ delays: { barchart: 500 } });
    const target = holder();
    const handle = runproteinpaint({
      host: s.host,
      holder: target,
      term: 'sex',
      mass: { state: { dslabel: 'TermdbTest' } },
    });
    await until(async () => (await s.requestsTo('/termdb/barchart')).length === 1);
    handle.destroy();
    expect(target.children).toHaveLength(0);
    expect(handle.element).toBeUndefined();
    await until(async () => (await s.requestsTo('/termdb/barchart'))[0]?.aborted);
    expect(() => {
      handle.update({ term: 'race' });
      handle.refresh();
      handle.destroy();
    }).not.toThrow();
  });

  it('warns once and returns an inert handle when the holder is missing', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const first = runproteinpaint({ holder: '#nowhere', mass: { state: { dslabel: 'TermdbTest' } } });
    runproteinpaint({ holder: '#nowhere-either', mass: { state: { dslabel: 'TermdbTest' } } });
    expect(first.element).toBeUndefined();
    const warnings = warn.mock.calls.map((call) => String(call[0]));
    expect(warnings.filter((message) => message.startsWith('[pp-embed PP_HOLDER_MISSING]'))).toHaveLength(1);
    warn.mockRestore();
  });
});
