import { defaultServerConditions } from 'vite';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

// Workspace packages export their TypeScript sources under the "source" condition, so tests run
// against the code as written, with no build step in between.
const sourceConditions = ['source', ...defaultServerConditions];

function nodeProject(
  dir: string,
  options: {
    include?: string[];
    testTimeout?: number;
    hookTimeout?: number;
    name?: string;
    globalSetup?: string[];
  } = {},
): TestProjectInlineConfiguration {
  return {
    resolve: { conditions: sourceConditions },
    ssr: { resolve: { conditions: sourceConditions, externalConditions: ['source'] } },
    test: {
      name: options.name ?? dir,
      root: dir,
      ...(options.globalSetup !== undefined && { globalSetup: options.globalSetup }),
      environment: 'node',
      include: options.include ?? ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: options.testTimeout ?? 20_000,
      hookTimeout: options.hookTimeout ?? 20_000,
    },
  };
}

export default defineConfig({
  test: {
    projects: [
      nodeProject('packages/viz-api'),
      nodeProject('packages/client-address'),
      nodeProject('packages/server-runtime'),
      nodeProject('packages/dataset-token'),
      nodeProject('packages/passport'),
      nodeProject('packages/revocation'),
      nodeProject('packages/api-token'),
      nodeProject('packages/embedder-registry'),
      nodeProject('packages/access-policy'),
      nodeProject('packages/token-provider'),
      nodeProject('packages/server-config'),
      nodeProject('packages/cli'),
      nodeProject('apps/viz-server'),
      nodeProject('apps/portal'),
      // The same portal suite against PostgreSQL, in a throwaway cluster (initdb into a temporary folder, a free
      // port, removed at the end): about 10 s more.
      nodeProject('apps/portal', {
        name: 'apps/portal (postgres)',
        globalSetup: ['./test/postgres-setup.ts'],
      }),
      // Checks that the generated docs and schemas are current.
      nodeProject('scripts', { include: ['*.test.ts'] }),
      // Attacks against the built servers, run as child processes over real HTTP (after `pnpm build`).
      nodeProject('security', { include: ['**/*.test.ts'], testTimeout: 60_000, hookTimeout: 120_000 }),
      // Two portal and three visualization server replicas behind HAProxy on PostgreSQL (after `pnpm build`):
      // about 20 s, most of it starting the processes.
      nodeProject('scale-out', { include: ['*.test.ts'], testTimeout: 60_000, hookTimeout: 120_000 }),
      // Scripts with personal API tokens against the built portal and visualization server (after `pnpm build`):
      // the Python example with Debian's python3, the Node example and pp-token fetch. About 15 s.
      nodeProject('clients', { include: ['*.test.ts'], testTimeout: 60_000, hookTimeout: 120_000 }),
      // Browser-side packages bring their own config (Vitest browser mode).
      'packages/*/vite.config.ts',
    ],
  },
});
