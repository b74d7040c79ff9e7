import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, systemChromium } from './support/chromium.js';

const executablePath = systemChromium();

export default defineConfig({
  testDir: './tests',
  globalSetup: './support/global-setup.ts',
  // One set of servers for the run; the scenarios sign different users in, so they run one at a time.
  workers: 1,
  fullyParallel: false,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  retries: 0,
  reporter: [['list']],
  outputDir: '../test-results/e2e',
  use: {
    browserName: 'chromium',
    viewport: { width: 1280, height: 900 },
    trace: 'retain-on-failure',
    launchOptions:
      executablePath === undefined ? { args: CHROMIUM_ARGS } : { executablePath, args: CHROMIUM_ARGS },
  },
});
