import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { chromiumLaunchOptions } from './test/chromium.js';

/*
 * One config, three uses:
 *   vite build                 -> dist/index.js, the ESM library (lit stays a dependency)
 *   vite build --mode bundle   -> dist/proteinpaint.js, the single-file script served at /bin/proteinpaint.js
 *   vitest (project "packages/viewer") -> component tests in the system Chromium
 */
export default defineConfig(({ mode }) => ({
  build:
    mode === 'bundle'
      ? {
          outDir: 'dist',
          emptyOutDir: false,
          target: 'es2022',
          minify: true,
          sourcemap: false,
          lib: {
            entry: 'src/bundle.ts',
            formats: ['iife'],
            name: 'ppEmbed',
            fileName: () => 'proteinpaint.js',
          },
        }
      : {
          outDir: 'dist',
          emptyOutDir: true,
          target: 'es2022',
          minify: false,
          sourcemap: true,
          lib: { entry: 'src/index.ts', formats: ['es'], fileName: () => 'index.js' },
          rolldownOptions: { external: [/^lit(\/|$)/, /^@lit\//] },
        },
  // Pre-bundled up front so that the first test file does not trigger a reload mid-run.
  optimizeDeps: { include: ['lit'] },
  test: {
    name: 'packages/viewer',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 20_000,
    browser: {
      enabled: true,
      headless: true,
      provider: playwright({ launchOptions: chromiumLaunchOptions() }),
      instances: [{ browser: 'chromium' }],
      screenshotFailures: false,
    },
  },
}));
