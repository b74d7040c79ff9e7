import { PpBarchart } from './components/pp-barchart/pp-barchart.js';
import { PpSampleTable } from './components/pp-sample-table/pp-sample-table.js';
import { PpSummary } from './components/pp-summary/pp-summary.js';
import { PpSurvival } from './components/pp-survival/pp-survival.js';
import { PpTermSearch } from './components/pp-term-search/pp-term-search.js';
import { PpTermTree } from './components/pp-term-tree/pp-term-tree.js';
import { PpViewer } from './components/pp-viewer/pp-viewer.js';

function define(tag: string, element: CustomElementConstructor): void {
  // Portal pages end up loading the script twice (a template and a page both include it); the first
  // definition wins and later ones are skipped, as shoelace's define() does.
  if (customElements.get(tag)) return;
  customElements.define(tag, element);
}

/**
 * Registers `<pp-viewer>` and the elements it renders (`<pp-barchart>`, `<pp-summary>`, `<pp-survival>`,
 * `<pp-term-tree>`, `<pp-term-search>`, `<pp-sample-table>`), skipping any tag that is already defined.
 * Importing the package calls it; calling it again is harmless.
 *
 * @example
 * import { defineElements } from '@pp-embed/viewer';
 * defineElements();
 */
export function defineElements(): void {
  if (typeof customElements === 'undefined') return;
  define('pp-barchart', PpBarchart);
  define('pp-summary', PpSummary);
  define('pp-survival', PpSurvival);
  define('pp-sample-table', PpSampleTable);
  define('pp-term-tree', PpTermTree);
  define('pp-term-search', PpTermSearch);
  define('pp-viewer', PpViewer);
}
