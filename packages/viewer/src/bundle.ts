/*
 * Entry of dist/proteinpaint.js, the script a portal loads from https://<viz server>/bin/proteinpaint.js.
 * It defines the elements and the global runproteinpaint(); it exports nothing.
 */
import { defineElements } from './define.js';
import { hostFromScriptUrl, setDefaultHost } from './host.js';
import { runproteinpaint } from './run.js';

declare global {
  interface Window {
    runproteinpaint?: typeof runproteinpaint;
  }
}

// document.currentScript is only set while a classic script runs for the first time, i.e. right here.
const script = document.currentScript;
setDefaultHost(hostFromScriptUrl(script instanceof HTMLScriptElement ? script.src : undefined));
defineElements();

// A second copy of the script (or ProteinPaint's own bundle) keeps the global it found: replacing it
// would switch live handles' defaults under a page that is already running.
if (typeof window.runproteinpaint !== 'function') window.runproteinpaint = runproteinpaint;
