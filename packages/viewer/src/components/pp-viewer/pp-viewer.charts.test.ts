// <pp-viewer>'s charts beyond the plain barchart, in Chromium against the fixture server: overlays, divide-by
// terms, box plots and violins, survival curves, filters, term search and exports.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  captureEvents,
  chartLabel,
  deepQuery,
  deepQueryAll,
  deepText,
  scenario,
  until,
  viewerMounter,
} from '../../../test/browser.js';
import { defineElements } from '../../define.js';

defineElements();

const mount = viewerMounter();

afterEach(() => vi.restoreAllMocks());

const label = (el: Element) => chartLabel(el) ?? '';
const button = (el: Element, text: string) =>
  deepQueryAll<HTMLButtonElement>(el, 'button').find(
    (b) => b.textContent?.replace(/\s+/g, ' ').trim() === text,
  );
const query = async (s: Awaited<ReturnType<typeof scenario>>, path: string) =>
  (await s.requestsTo(path)).map((r) => new URL(r.url, 'http://x').searchParams);

/** The search box and result list of a term search (the open picker's, or the sidebar's). */
async function searchBox(el: Element, where: '.picker' | '.sidebar') {
  const search = (await until(() => deepQuery(el, `${where} pp-term-search`)))!;
  const input = (await until(() => search.shadowRoot?.querySelector('input') ?? undefined))!;
  return {
    type(text: string) {
      input.value = text;
      input.dispatchEvent(new Event('input'));
    },
    key: (key: string) => input.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true })),
    option: (id: string) =>
      until(
        () => search.shadowRoot?.querySelector<HTMLElement>(`[role="option"][data-id="${id}"]`) ?? undefined,
      ),
    text: () => deepText(search),
  };
}

/** Types into the open picker's search box and chooses the term `id`. */
async function pick(el: Element, typed: string, id: string): Promise<void> {
  const box = await searchBox(el, '.picker');
  box.type(typed);
  (await box.option(id))!.click();
}

/** Blobs the widget offers as downloads, with their file names. */
function captureDownloads() {
  const files: { name: string; blob: Blob }[] = [];
  const blobs = new Map<string, Blob>();
  const create = URL.createObjectURL.bind(URL);
  vi.spyOn(URL, 'createObjectURL').mockImplementation((blob) => {
    const url = create(blob as Blob);
    blobs.set(url, blob as Blob);
    return url;
  });
  // The link's click would start a real download: recorded instead.
  vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
    const blob = blobs.get(this.href);
    if (blob) files.push({ name: this.download, blob });
  });
  return files;
}

describe('<pp-viewer> overlays and divide-by terms', () => {
  it('overlays a term chosen by search: stacked segments with a legend, term2 in the request', async () => {
    const s = await scenario({ tokens: { t: 'ok' } });
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'diaggrp' }, () => 't');
    await until(() => label(el).startsWith('Bar chart of Diagnosis group'));
    button(el, '+ Overlay')?.click();
    // A survival term is listed, and says why it cannot be chosen here.
    const box = await searchBox(el, '.picker');
    box.type('survival');
    const survival = await box.option('efs');
    expect(survival!.getAttribute('aria-disabled')).toBe('true');
    expect(survival!.textContent).toContain('not for this choice');
    await pick(el, 'sex', 'sex');
    await until(() => label(el).startsWith('Bar chart of Diagnosis group by Sex'));
    expect((await query(s, '/termdb/barchart')).at(-1)?.get('term2')).toBe('sex');
    expect(deepQueryAll(el, 'rect.bar[fill^="#"]').length).toBeGreaterThan(4);
    expect(deepText(deepQuery(el, '[part="legend"]') as Node)).toContain('Female');
    expect(deepText(el)).toContain('Overlay: Sex');
    // Removing the overlay goes back to plain bars.
    deepQuery<HTMLButtonElement>(el, 'button[aria-label="Remove overlay Sex"]')?.click();
    await until(() => label(el).startsWith('Bar chart of Diagnosis group:'));
  });

  it('draws one chart per value of a divide-by term, on one scale', async () => {
    const s = await scenario({ tokens: { t: 'ok' } });
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'race', term0: 'sex' }, () => 't');
    await until(() => label(el).includes('Female: '));
    expect(label(el)).toMatch(/^Bar chart of Race: Female: White \d+.*; Male: White \d+/);
    expect(deepQueryAll(el, 'text.title').map((t) => t.textContent?.split(' (')[0])).toEqual([
      'Female',
      'Male',
    ]);
    expect((await query(s, '/termdb/barchart')).at(-1)?.get('term0')).toBe('sex');
  });

  it('says why an overlay is refused, with the sentence for its code', async () => {
    const s = await scenario({ tokens: { t: 'ok' }, refuse: { barchart: { code: 'too_many_values' } } });
    const events = captureEvents();
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'sex', term2: 'race' }, () => 't');
    await until(() => deepText(el).includes('too many categories'));
    expect(deepText(el)).toContain(
      'This term has too many categories to overlay or split by. Choose a term with fewer categories.',
    );
    expect(events.of('pp-error')).toContainEqual({ code: 'too_many_values', status: 400, route: 'barchart' });
    events.stop();
  });
});

describe('<pp-viewer> numeric summaries', () => {
  it('switches a numeric term between bars, a box plot and a violin, split by a term', async () => {
    const s = await scenario({ tokens: { t: 'ok' } });
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'agedx', term2: 'sex' }, () => 't');
    await until(() => label(el).startsWith('Bar chart of Age at diagnosis'));
    button(el, 'Box plot')?.click();
    await until(() => label(el).startsWith('Box plot of Age at diagnosis (years) by Sex: Female median'));
    expect(deepQueryAll(el, 'rect.box')).toHaveLength(2);
    const table = deepQuery(el, 'pp-summary')?.shadowRoot?.querySelector('table');
    expect(deepText(table as Node)).toMatch(/Female \d+/);
    const summaries = await query(s, '/termdb/summary');
    expect(summaries.at(-1)?.get('term2')).toBe('sex');
    button(el, 'Violin')?.click();
    await until(() => label(el).startsWith('Violin plot'));
    expect(deepQueryAll(el, 'polygon.violin')).toHaveLength(2);
    // Box and violin come from one answer.
    expect(await s.requestsTo('/termdb/summary')).toHaveLength(summaries.length);
  });

  it('shows no numbers for a suppressed group', async () => {
    const s = await scenario();
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'agedx', term2: 'race', view: 'box' });
    await until(() => label(el).startsWith('Box plot'));
    expect(label(el)).toContain('Other fewer than 5 samples');
    expect(deepText(el)).toContain('fewer than 5 samples, hidden to protect privacy');
  });
});

describe('<pp-viewer> survival', () => {
  it('draws Kaplan-Meier curves with bands, the log-rank test and the number at risk, and no sample table', async () => {
    const s = await scenario({ tokens: { t: 'ok' } });
    const el = mount({ host: s.host, dslabel: 'TermdbTest' }, () => 't');
    await until(() => deepQuery(el, 'pp-term-tree'));
    // Chosen in the tree, where it is a supported leaf.
    const item = (name: string) =>
      deepQueryAll<HTMLElement>(el, '[role="treeitem"]').find(
        (n) => n.querySelector('.name')?.textContent?.trim() === name,
      );
    (await until(() => item('Clinical outcomes')))!.querySelector<HTMLElement>('.row')?.click();
    (await until(() => item('Event-free survival')))!.querySelector<HTMLElement>('.row')?.click();
    await until(() => label(el).startsWith('Kaplan-Meier curves of Event-free survival'));
    expect(deepQueryAll(el, 'path.curve')).toHaveLength(1);
    expect(deepQueryAll(el, 'path.band')).toHaveLength(1);
    expect(deepText(el)).toContain('Number at risk');
    expect(deepText(el)).not.toContain('Samples');
    expect(await s.requestsTo('/termdb/samples')).toHaveLength(0);

    button(el, '+ Split by')?.click();
    await pick(el, 'sex', 'sex');
    await until(() => deepQueryAll(el, 'path.curve').length === 2);
    expect(deepText(el)).toMatch(/Log-rank test: χ² = 6\.20, df = 1, p = 0\.013/);
  });

  it('charts a survival term given by id before the tree has shown it', async () => {
    const s = await scenario({ tokens: { t: 'ok' }, refuse: {} });
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'efs' }, () => 't');
    await until(() => label(el).startsWith('Kaplan-Meier curves'));
    expect(await s.requestsTo('/termdb/survival')).toHaveLength(1);
  });
});

describe('<pp-viewer> filters', () => {
  it('adds a category filter, sends it with every request, and removes it', async () => {
    const s = await scenario({ tokens: { t: 'ok' } });
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'race' }, () => 't');
    await until(() => label(el).startsWith('Bar chart of Race'));
    button(el, '+ Add filter')?.click();
    await pick(el, 'sex', 'sex');
    (await until(() => deepQuery<HTMLInputElement>(el, '.editor input[value="Female"]')))!.click();
    deepQuery<HTMLFormElement>(el, '.editor')?.requestSubmit();
    await until(() => deepText(el).includes('Sex: Female'));
    const expected = JSON.stringify([{ term: 'sex', values: ['Female'] }]);
    await until(async () => (await query(s, '/termdb/samples')).at(-1)?.get('filter') === expected);
    expect((await query(s, '/termdb/barchart')).at(-1)?.get('filter')).toBe(expected);
    expect(el.filter).toEqual([{ term: 'sex', values: ['Female'] }]);

    deepQuery<HTMLButtonElement>(el, 'button[aria-label="Remove filter Sex: Female"]')?.click();
    await until(async () => (await query(s, '/termdb/barchart')).at(-1)?.get('filter') === null);
    expect(deepText(el)).toContain('All samples');
  });

  it('adds a range filter on a numeric term, and takes one from the filter attribute', async () => {
    const s = await scenario({ tokens: { t: 'ok' } });
    const el = mount(
      { host: s.host, dslabel: 'TermdbTest', term: 'sex', filter: '[{"term":"race","values":["White"]}]' },
      () => 't',
    );
    await until(() => deepText(el).includes('Race: White'));
    button(el, '+ Add filter')?.click();
    await pick(el, 'age', 'agedx');
    (await until(() => deepQuery<HTMLInputElement>(el, '.editor input[name="gte"]')))!.value = '5';
    deepQuery<HTMLInputElement>(el, '.editor input[name="lt"]')!.value = '15';
    deepQuery<HTMLFormElement>(el, '.editor')?.requestSubmit();
    await until(() => deepText(el).includes('≥ 5 and < 15'));
    const expected = [
      { term: 'race', values: ['White'] },
      { term: 'agedx', gte: 5, lt: 15 },
    ];
    await until(
      async () => (await query(s, '/termdb/barchart')).at(-1)?.get('filter') === JSON.stringify(expected),
    );
  });

  it('explains a filter the server refuses', async () => {
    const s = await scenario({ tokens: { t: 'ok' } });
    const el = mount(
      { host: s.host, dslabel: 'TermdbTest', term: 'sex', filter: '[{"term":"race","values":["Martian"]}]' },
      () => 't',
    );
    await until(() => deepText(el).includes('This filter cannot be applied to TermdbTest.'));
    expect(deepText(el)).not.toContain('Loading samples');
  });
});

describe('<pp-viewer> term search', () => {
  it('finds terms by name, shows where they are, and charts the one chosen', async () => {
    const s = await scenario({ tokens: { t: 'ok' } });
    const el = mount({ host: s.host, dslabel: 'TermdbTest' }, () => 't');
    const box = await searchBox(el, '.sidebar');
    box.type('diag');
    // Both match, each with where it is in the tree.
    expect(deepText((await box.option('diaggrp'))!)).toBe('Diagnosis group Diagnosis');
    expect(deepText((await box.option('agedx'))!)).toBe('Age at diagnosis (years) Demographic Variables');
    box.type('group');
    await until(() => box.text() === 'Diagnosis group Diagnosis');
    box.key('ArrowDown');
    box.key('Enter');
    await until(() => label(el).startsWith('Bar chart of Diagnosis group'));
    expect(el.term).toBe('diaggrp');
    expect((await query(s, '/termdb/search')).map((q) => q.get('q'))).toEqual(['diag', 'group']);
  });

  it('lists terms it cannot chart as disabled, and says when nothing matches', async () => {
    const s = await scenario({ tokens: { t: 'ok' } });
    const el = mount({ host: s.host, dslabel: 'TermdbTest' }, () => 't');
    const box = await searchBox(el, '.sidebar');
    box.type('cardio');
    const option = await box.option('Cardiovascular System');
    expect(option!.getAttribute('aria-disabled')).toBe('true');
    expect(option!.textContent).toContain('not supported yet');
    option!.click();
    expect(el.term).toBeUndefined();
    box.type('zzz');
    await until(() => box.text().includes('No terms match “zzz”.'));
  });
});

describe('<pp-viewer> exports', () => {
  it('downloads the chart as SVG with its title and legend, as PNG, and its numbers as CSV', async () => {
    const s = await scenario();
    const files = captureDownloads();
    const el = mount({ host: s.host, dslabel: 'TermdbTest', term: 'race', term2: 'sex' });
    await until(() => label(el).startsWith('Bar chart of Race by Sex'));
    button(el, 'CSV')?.click();
    button(el, 'SVG')?.click();
    button(el, 'PNG')?.click();
    await until(() => files.length === 3);
    expect(files.map((f) => f.name)).toEqual([
      'TermdbTest-Race-by-Sex.csv',
      'TermdbTest-Race-by-Sex.svg',
      'TermdbTest-Race-by-Sex.png',
    ]);
    const csv = await files[0]!.blob.text();
    expect(csv.split('\r\n')[0]).toBe(
      'key,label,term2_key,term2_label,count,hidden,disclosure_tier,disclosure_rule',
    );
    // The same disclosure control as the screen: a small cell is the rule's mark, never a number, and the rule is
    // said on every row.
    expect(csv).toMatch(
      /\r\n[^,\r\n]*,Other,[^,\r\n]*,Female,<5,suppressed,anonymous,threshold=5;hidden_as=<5;/,
    );
    const svg = await files[1]!.blob.text();
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('Race by Sex');
    expect(svg).toContain('>Female</text>');
    expect(svg).toContain('fill:');
    expect(svg).toContain('&#60;5: 1 to 4 samples');
    expect(files[2]!.blob.type).toBe('image/png');
    const png = new Uint8Array(await files[2]!.blob.arrayBuffer());
    expect([...png.slice(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
  });

  it('downloads the sample table as CSV where samples are granted, with the filter, and offers nothing where they are not', async () => {
    const s = await scenario({ tokens: { good: 'ok' } });
    const files = captureDownloads();
    const granted = mount(
      { host: s.host, dslabel: 'TermdbTest', term: 'sex', filter: '[{"term":"race","values":["Black"]}]' },
      () => 'good',
    );
    await until(() => deepQuery(granted, 'pp-sample-table'));
    button(granted, 'Download CSV')?.click();
    await until(() => files.length === 1);
    const lines = (await files[0]!.blob.text()).trim().split('\r\n');
    expect(lines[0]).toBe('sample,Sex');
    expect(lines).toHaveLength(13);
    const [request] = await s.requestsTo('/termdb/export');
    expect(request?.headers['x-ds-access-token']).toBe('good');
    expect(new URL(request!.url, 'http://x').searchParams.get('filter')).toBe(
      '[{"term":"race","values":["Black"]}]',
    );

    const signedOut = mount({ host: s.host, dslabel: 'TermdbTest', term: 'sex' });
    await until(() => deepText(signedOut).includes('Sign in to see sample-level data'));
    expect(button(signedOut, 'Download CSV')).toBeUndefined();
  });
});
