import { existsSync } from 'node:fs';

/**
 * Flags for the system Chromium in a container: no sandbox (no user namespaces), no GPU, and nothing that
 * would reach the network on its own. Shared by the viewer's browser tests, the end-to-end tests and the
 * benchmarks, so every browser in the project starts the same way.
 *
 * @example
 * await chromium.launch({ ...chromiumLaunchOptions() });
 */
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
 * A system Chromium: `$PP_CHROMIUM` when set (an error when it does not exist), else Debian's
 * `/usr/bin/chromium`. Undefined means Playwright's own browser.
 *
 * @example
 * systemChromium(); // '/usr/bin/chromium'
 */
export function systemChromium(): string | undefined {
  const fromEnv = process.env.PP_CHROMIUM;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!existsSync(fromEnv)) throw new Error(`PP_CHROMIUM=${fromEnv} does not exist`);
    return fromEnv;
  }
  return ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
}

/**
 * Playwright launch options: the system Chromium when there is one, otherwise Playwright's own browser.
 *
 * @example
 * const browser = await chromium.launch(chromiumLaunchOptions());
 */
export function chromiumLaunchOptions(): { headless: true; executablePath?: string; args: string[] } {
  const executablePath = systemChromium();
  return executablePath
    ? { headless: true, executablePath, args: CHROMIUM_ARGS }
    : { headless: true, args: [] };
}
