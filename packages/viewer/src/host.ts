/**
 * Where the visualization server is when the embedding page does not say.
 * @module
 */

let defaultHost: string | undefined;

/**
 * Sets the host used by `<pp-viewer>` and `runproteinpaint()` when none is given. The script-tag bundle
 * calls it with the server it was loaded from.
 *
 * @example
 * setDefaultHost('https://viz.example.org');
 */
export function setDefaultHost(host: string | undefined): void {
  defaultHost = host;
}

/**
 * The host set by {@link setDefaultHost}, if any.
 *
 * @example
 * const host = element.host || getDefaultHost();
 */
export function getDefaultHost(): string | undefined {
  return defaultHost;
}

/**
 * The server a script was loaded from: `https://viz.example.org/bin/proteinpaint.js` gives
 * `https://viz.example.org`, and a server mounted under a path keeps its path
 * (`https://example.org/pp/bin/proteinpaint.js` gives `https://example.org/pp`).
 *
 * @example
 * hostFromScriptUrl('https://viz.example.org/bin/proteinpaint.js'); // 'https://viz.example.org'
 */
export function hostFromScriptUrl(src: string | undefined): string | undefined {
  if (!src) return undefined;
  let url: URL;
  try {
    url = new URL(src);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  const path = url.pathname.replace(/\/bin\/[^/]*$/, '');
  return path === url.pathname ? url.origin : url.origin + path.replace(/\/+$/, '');
}
