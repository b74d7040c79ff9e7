import { defaultServerConditions } from 'vite';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

// Workspace packages export their TypeScript sources under the "source" condition, so tests run
// against the code as written, with no build step in between.
const sourceConditions = ['source', ...defaultServerConditions];

function nodeProject(dir: string): TestProjectInlineConfiguration {
  return {
    resolve: { conditions: sourceConditions },
    ssr: { resolve: { conditions: sourceConditions, externalConditions: ['source'] } },
    test: {
      name: dir,
      root: dir,
      environment: 'node',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 20_000,
    },
  };
}

export default defineConfig({
  test: {
    projects: [
      nodeProject('packages/dataset-token'),
      nodeProject('packages/access-policy'),
      nodeProject('packages/token-provider'),
      nodeProject('packages/cli'),
      nodeProject('apps/viz-server'),
      nodeProject('apps/portal'),
      // Browser-side packages bring their own config (Vitest browser mode).
      'packages/*/vite.config.ts',
    ],
  },
});
