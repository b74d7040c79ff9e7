import { afterEach, describe, expect, it } from 'vitest';
import { deepQuery, scenario, until } from '../test/browser.js';

// This file imports nothing from src: the page only has what the built script defines.

function loadScript(src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(script);
  });
}

const cleanup: Element[] = [];
afterEach(() => cleanup.splice(0).forEach((element) => element.remove()));

describe('dist/proteinpaint.js', () => {
  it('can be loaded twice on one page, keeps the first global, and defaults the host to its server', async () => {
    const s = await scenario({ tokens: { good: 'ok' } });
    const errors: unknown[] = [];
    const onError = (event: ErrorEvent) => errors.push(event.error ?? event.message);
    window.addEventListener('error', onError);

    // A tag written before the script arrives, with its callback set before the element is upgraded.
    const early = document.createElement('pp-viewer');
    early.setAttribute('dslabel', 'TermdbTest');
    early.setAttribute('term', 'race');
    early.getDatasetAccessToken = () => 'good';
    document.body.append(early);
    cleanup.push(early);

    await loadScript(`${s.host}/bin/proteinpaint.js`);
    const first = window.runproteinpaint;
    const definition = customElements.get('pp-viewer');
    expect(typeof first).toBe('function');
    await loadScript(`${s.host}/bin/proteinpaint.js?again`);
    expect(window.runproteinpaint).toBe(first);
    expect(customElements.get('pp-viewer')).toBe(definition);

    const holder = document.createElement('div');
    document.body.append(holder);
    cleanup.push(holder);
    const handle = window.runproteinpaint?.({
      holder,
      term: 'sex',
      mass: { state: { dslabel: 'TermdbTest', genome: 'hg38' } },
      getDatasetAccessToken: () => 'good',
    });
    await until(() => deepQuery(holder, 'svg[role="img"]'));
    expect(deepQuery(holder, 'svg[role="img"]')?.getAttribute('aria-label')).toBe(
      'Bar chart of Sex: Female 60, Male 40',
    );
    await until(() => deepQuery(early, 'table'));

    const samples = await s.requestsTo('/termdb/samples');
    expect(samples.length).toBeGreaterThanOrEqual(2);
    for (const request of samples) expect(request.headers['x-ds-access-token']).toBe('good');
    handle?.destroy();
    window.removeEventListener('error', onError);
    expect(errors).toEqual([]);
  });

  it('waits for the page to set the callback, so each route is asked once and with the token', async () => {
    const s = await scenario({ tokens: { 'tok-page': 'ok' } });
    const frame = document.createElement('iframe');
    frame.style.width = '900px';
    frame.style.height = '700px';
    // The usual portal page: the script, the tag, then a module script (run just before DOMContentLoaded)
    // that hands over the token.
    frame.srcdoc = `<!doctype html>
      <script src="${s.host}/bin/proteinpaint.js"></script>
      <pp-viewer dslabel="TermdbTest" term="sex"></pp-viewer>
      <script type="module">
        document.querySelector('pp-viewer').getDatasetAccessToken = () => 'tok-page';
      </script>`;
    document.body.append(frame);
    cleanup.push(frame);
    await until(() => {
      const viewer = frame.contentDocument?.querySelector('pp-viewer');
      return viewer && deepQuery(viewer, 'table');
    });
    for (const path of ['/termdb/config', '/termdb/barchart', '/termdb/samples']) {
      const requests = await s.requestsTo(path);
      expect(requests.map((r) => r.headers['x-ds-access-token'])).toEqual(['tok-page']);
    }
  });
});
