import { existsSync } from 'node:fs';

/** Flags for Chromium in a container without a desktop: no sandbox (root), no GPU, no calls home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * A system Chromium: `PP_CHROMIUM` when set, else Debian's `/usr/bin/chromium`. Undefined means Playwright's own
 * browser (installed with `npx playwright install chromium` where downloads are possible).
 */
export function systemChromium(): string | undefined {
  const fromEnv = process.env.PP_CHROMIUM;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!existsSync(fromEnv)) throw new Error(`PP_CHROMIUM=${fromEnv} does not exist`);
    return fromEnv;
  }
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}
