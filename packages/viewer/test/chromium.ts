import { existsSync } from 'node:fs';

/**
 * Flags for the system Chromium in a container: no sandbox (no user namespaces), no GPU, and nothing that
 * would reach the network on its own.
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
];

/**
 * Playwright launch options: the Chromium at `$CHROMIUM_PATH` or `/usr/bin/chromium` when one exists,
 * otherwise Playwright's own browser.
 *
 * @example
 * const browser = await chromium.launch(chromiumLaunchOptions());
 */
export function chromiumLaunchOptions(): { headless: true; executablePath?: string; args: string[] } {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].filter(
    (path): path is string => !!path,
  );
  const executablePath = candidates.find((path) => existsSync(path));
  return executablePath
    ? { headless: true, executablePath, args: CHROMIUM_ARGS }
    : { headless: true, args: [] };
}
