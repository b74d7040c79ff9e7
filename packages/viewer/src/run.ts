import type { TokenCallback } from './client/client.js';
import type { NumericView, PpViewer } from './components/pp-viewer/pp-viewer.js';
import type { Filter } from './types.js';
import { defineElements } from './define.js';
import { getDefaultHost } from './host.js';
import { warnOnce } from './warnings.js';

/**
 * Options of {@link runproteinpaint}, in the shape of ProteinPaint's own `runproteinpaint()`.
 *
 * @example
 * const options: RunProteinPaintOptions = {
 *   host: 'https://viz.example.org',
 *   holder: document.querySelector('#viz')!,
 *   mass: { state: { dslabel: 'TermdbTest', genome: 'hg38' } },
 *   getDatasetAccessToken: () => token,
 * };
 */
export interface RunProteinPaintOptions {
  /** The visualization server; defaults to the server the script was loaded from. */
  host?: string;
  /** The element to render into, or a selector for it. */
  holder: Element | string;
  mass: {
    state: {
      dslabel: string;
      genome?: string;
      /**
       * ProteinPaint's plot list, e.g. `[{ chartType: 'summary', term: { id: 'sex' } }]`; the first plot's
       * `term.id` is the term charted first. Without a term (here or in `term`) the widget shows the term tree
       * and charts the term the user chooses.
       */
      plots?: { chartType?: string; term?: { id?: string } }[];
    };
  };
  getDatasetAccessToken?: TokenCallback;
  /** The initial term id (wins over `mass.state.plots`). */
  term?: string;
  /** The overlay (or split) term and the divide-by term, as ProteinPaint's barchart takes them. */
  term2?: string;
  term0?: string;
  /** How a numeric term is drawn: `bars`, `box` or `violin`. */
  view?: NumericView;
  /** A filter every chart and the sample table apply. */
  filter?: Filter;
  /** Rows per page of the sample table. */
  pageSize?: number;
}

/**
 * What {@link runproteinpaint} returns. Every method is safe to call after `destroy()`.
 *
 * @example
 * const handle = runproteinpaint(options);
 * handle.update({ term: 'agedx' });
 * handle.destroy();
 */
export interface ProteinPaintHandle {
  /** The rendered `<pp-viewer>`, until `destroy()`; `undefined` if nothing could be rendered. */
  readonly element: PpViewer | undefined;
  /** Replaces the token callback (e.g. after sign-in, which reloads) and/or changes what is shown. */
  update(changes: {
    getDatasetAccessToken?: TokenCallback | undefined;
    term?: string | undefined;
    term2?: string | undefined;
    term0?: string | undefined;
    view?: NumericView;
    filter?: Filter;
  }): void;
  /** Loads again what depends on the token, for a callback that now returns a different token. */
  refresh(): void;
  /** Removes the viewer from the holder and aborts its requests. */
  destroy(): void;
}

function resolveHolder(holder: Element | string | undefined): Element | undefined {
  if (typeof holder === 'string') {
    try {
      return document.querySelector(holder) ?? undefined;
    } catch {
      return undefined;
    }
  }
  return holder instanceof Element ? holder : undefined;
}

const inert: ProteinPaintHandle = {
  element: undefined,
  update: () => undefined,
  refresh: () => undefined,
  destroy: () => undefined,
};

/**
 * Renders a `<pp-viewer>` into `holder`, the way ProteinPaint's `runproteinpaint()` is called by portals.
 * It never throws at the page: a missing holder is a console warning (`PP_HOLDER_MISSING`) and an inert
 * handle, and every other problem is shown in the viewer.
 *
 * @example
 * <script src="https://viz.example.org/bin/proteinpaint.js"></script>
 * <script>
 *   const handle = runproteinpaint({
 *     holder: document.querySelector('#viz'),
 *     mass: { state: { dslabel: 'TermdbTest', genome: 'hg38' } },
 *     getDatasetAccessToken: () => window.portalSession?.token,
 *   });
 *   // after sign-in
 *   handle.update({ getDatasetAccessToken: () => window.portalSession.token });
 * </script>
 */
export function runproteinpaint(options: RunProteinPaintOptions): ProteinPaintHandle {
  try {
    defineElements();
    const holder = resolveHolder(options?.holder);
    if (!holder) {
      warnOnce(
        'PP_HOLDER_MISSING',
        'runproteinpaint() needs a holder element (or a selector that matches one).',
      );
      return inert;
    }
    const state = options.mass?.state;
    let element: PpViewer | undefined = document.createElement('pp-viewer');
    const host = options.host ?? getDefaultHost();
    if (host) element.host = host;
    if (state?.dslabel) element.dslabel = state.dslabel;
    if (state?.genome) element.genome = state.genome;
    const term = options.term ?? state?.plots?.find((plot) => plot?.term?.id)?.term?.id;
    if (term) element.term = term;
    if (options.term2) element.term2 = options.term2;
    if (options.term0) element.term0 = options.term0;
    if (options.view) element.view = options.view;
    if (Array.isArray(options.filter)) element.filter = options.filter;
    if (options.pageSize) element.pageSize = options.pageSize;
    element.getDatasetAccessToken = options.getDatasetAccessToken;
    holder.append(element);

    return {
      get element() {
        return element;
      },
      update(changes) {
        if (!element || !changes) return;
        if ('getDatasetAccessToken' in changes) element.getDatasetAccessToken = changes.getDatasetAccessToken;
        if ('term' in changes) element.term = changes.term;
        if ('term2' in changes) element.term2 = changes.term2;
        if ('term0' in changes) element.term0 = changes.term0;
        if (changes.view) element.view = changes.view;
        if (Array.isArray(changes.filter)) element.filter = changes.filter;
      },
      refresh() {
        element?.refresh();
      },
      destroy() {
        element?.remove();
        element = undefined;
      },
    };
  } catch {
    // Only a broken page (e.g. a frozen DOM) gets here; the portal keeps running either way.
    return inert;
  }
}
