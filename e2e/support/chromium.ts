// One way to find and start Chromium for the whole project: the viewer's browser tests define it.
export { CHROMIUM_ARGS, systemChromium } from '../../packages/viewer/test/chromium.js';
