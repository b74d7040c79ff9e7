/**
 * Helpers for component tests running in the browser: scenarios on the fixture server, queries that see
 * through shadow roots, and waiting.
 * @module
 */
import { afterEach, inject, vi } from 'vitest';
import type { TokenCallback } from '../src/client/client.js';
import type { PpViewer } from '../src/components/pp-viewer/pp-viewer.js';
import type { RecordedRequest, ScenarioOptions } from './fixture/server.js';

/**
 * A scenario on the fixture server, seen from a test.
 *
 * @example
 * const s = await scenario();
 * const [request] = await s.requestsTo('/termdb/config');
 */
export interface Scenario {
  id: string;
  /** The host to give the widget: `http://127.0.0.1:<port>/s/<id>`. */
  host: string;
  /** Every request the widget made to this scenario, preflights included. */
  requests(): Promise<RecordedRequest[]>;
  /** The GET requests to one path, e.g. `/termdb/barchart`. */
  requestsTo(path: string): Promise<RecordedRequest[]>;
  update(options: ScenarioOptions): Promise<void>;
}

/**
 * A fresh scenario on the fixture server.
 *
 * @example
 * const s = await scenario({ tokens: { good: 'ok' } });
 */
export async function scenario(options: ScenarioOptions = {}): Promise<Scenario> {
  const base = inject('fixtureUrl');
  const response = await fetch(`${base}/__control/scenarios`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(options),
  });
  const { id, host } = (await response.json()) as { id: string; host: string };
  const requests = async () =>
    (await (await fetch(`${base}/__control/scenarios/${id}/requests`)).json()) as RecordedRequest[];
  return {
    id,
    host,
    requests,
    requestsTo: async (path) => (await requests()).filter((r) => r.method === 'GET' && r.path === path),
    update: async (update) => {
      await fetch(`${base}/__control/scenarios/${id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(update),
      });
    },
  };
}

// Duck-typed rather than `instanceof Element`, so that elements of an iframe's document work too.
function roots(root: ParentNode): ParentNode[] {
  const out: ParentNode[] = [root];
  const own = (root as Partial<Element>).shadowRoot;
  if (own) out.push(...roots(own));
  for (const element of root.querySelectorAll('*')) {
    if (element.shadowRoot) out.push(...roots(element.shadowRoot));
  }
  return out;
}

/**
 * Every element matching `selector` in `root` and all shadow roots below it.
 *
 * @example
 * const bars = deepQueryAll(viewer, 'rect.bar');
 */
export function deepQueryAll<E extends Element = Element>(root: ParentNode, selector: string): E[] {
  return roots(root).flatMap((node) => [...node.querySelectorAll<E>(selector)]);
}

/**
 * The first element matching `selector` in `root` and its shadow roots.
 *
 * @example
 * const svg = deepQuery<SVGSVGElement>(viewer, 'svg[role="img"]');
 */
export function deepQuery<E extends Element = Element>(root: ParentNode, selector: string): E | undefined {
  return deepQueryAll<E>(root, selector)[0];
}

/**
 * The text a user sees, read through shadow roots, with whitespace collapsed.
 *
 * @example
 * expect(deepText(viewer)).toContain('Sign in');
 */
export function deepText(node: Node): string {
  const parts: string[] = [];
  const visit = (current: Node) => {
    if (current.nodeType === Node.TEXT_NODE) parts.push(current.textContent ?? '');
    if (current instanceof HTMLStyleElement || current instanceof SVGStyleElement) return;
    // Element boundaries separate words; adjacent text nodes (Lit splits text around bindings) do not.
    if (current instanceof Element) parts.push(' ');
    if (current instanceof Element && current.shadowRoot) current.shadowRoot.childNodes.forEach(visit);
    current.childNodes.forEach(visit);
    if (current instanceof Element) parts.push(' ');
  };
  visit(node);
  return parts.join('').replace(/\s+/g, ' ').trim();
}

/**
 * The markup of `root` and every shadow root below it, for "never in the DOM" checks.
 *
 * @example
 * expect(deepMarkup(document.body)).not.toContain(token);
 */
export function deepMarkup(root: Element): string {
  return roots(root)
    .map((node) => (node instanceof ShadowRoot ? node.innerHTML : (node as Element).outerHTML))
    .join('\n');
}

/**
 * Waits until `check` stops throwing (or returns a truthy value).
 *
 * @example
 * await until(() => expect(deepText(el)).toContain('Female'));
 */
export function until<T>(check: () => T | Promise<T>, timeout = 5000): Promise<T> {
  return vi.waitFor(
    async () => {
      const value = await check();
      if (value === false || value === undefined || value === null) throw new Error('not yet');
      return value;
    },
    { timeout, interval: 20 },
  );
}

/**
 * Resolves after `ms` milliseconds, to show that nothing more happens.
 *
 * @example
 * await sleep(300);
 */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An event as seen at the document by {@link captureEvents}.
 *
 * @example
 * const first: CapturedEvent | undefined = events.list[0];
 */
export interface CapturedEvent {
  type: string;
  detail: unknown;
  bubbles: boolean;
  composed: boolean;
}

/**
 * Records `pp-*` events that reach the document (so only bubbling, composed ones).
 *
 * @example
 * const events = captureEvents();
 * ...
 * expect(events.of('pp-error')).toEqual([{ code: 'token_missing', status: 401, route: 'samples' }]);
 */
export function captureEvents(types = ['pp-ready', 'pp-error', 'pp-auth-required']) {
  const list: CapturedEvent[] = [];
  const listener = (event: Event) => {
    const custom = event as CustomEvent;
    list.push({ type: event.type, detail: custom.detail, bubbles: event.bubbles, composed: event.composed });
  };
  for (const type of types) document.addEventListener(type, listener);
  return {
    list,
    of: (type: string) => list.filter((event) => event.type === type).map((event) => event.detail),
    stop: () => types.forEach((type) => document.removeEventListener(type, listener)),
  };
}

/**
 * A function that adds a `<pp-viewer>` with these attributes (and token callback, which may be anything a page
 * might set) to the page; every viewer it added is removed after each test.
 *
 * @example
 * const mount = viewerMounter();
 * const el = mount({ host, dslabel: 'TermdbTest' }, () => 'token');
 */
export function viewerMounter(): (attributes: Record<string, string>, callback?: unknown) => PpViewer {
  const mounted: Element[] = [];
  afterEach(() => {
    for (const element of mounted.splice(0)) element.remove();
  });
  return (attributes, callback) => {
    const element = document.createElement('pp-viewer');
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    if (callback !== undefined) element.getDatasetAccessToken = callback as TokenCallback;
    document.body.append(element);
    mounted.push(element);
    return element;
  };
}

/** The sentences a viewer shows. @example expect(messageText(el)).toEqual(['Sign in to see TermdbTest.']); */
export const messageText = (el: Element): string[] =>
  deepQueryAll(el, '[part="message"]').map((m) => deepText(m));

/** The accessible label of a viewer's chart, if one is drawn. @example expect(chartLabel(el)).toContain('Sex'); */
export const chartLabel = (el: Element): string | null | undefined =>
  deepQuery(el, 'svg[role="img"]')?.getAttribute('aria-label');
