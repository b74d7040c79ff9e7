import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Where the house rules on imports and configuration come from: apps never import each other (code two apps
// need moves to packages/), nothing imports a package's src/ (packages are used through their entry), and the
// environment is read in the modules that read configuration, once, at start.
const APPS = ['viz-server', 'portal'];
const NO_SRC_IMPORTS = [
  { group: ['**/packages/*/src', '**/packages/*/src/**'], message: 'Import the package by its name.' },
  { group: ['@pp-embed/*/src', '@pp-embed/*/src/**'], message: 'Import the package by its entry.' },
  {
    group: ['**/apps/*/src', '**/apps/*/src/**'],
    message: "Use the app's public entry (e.g. @pp-embed/portal).",
  },
];
const JWT_LIBRARIES = [
  { name: 'jsonwebtoken', message: 'Use @pp-embed/dataset-token.' },
  { name: 'jose', message: 'Use @pp-embed/dataset-token (jose is a test-only interop check).' },
];

/** The import restrictions for a part of the tree; one rule entry, so that overrides add rather than replace. */
function restrictedImports({ jwt = true, otherApps = [] } = {}) {
  return [
    'error',
    {
      paths: jwt ? JWT_LIBRARIES : [],
      patterns: [
        ...NO_SRC_IMPORTS,
        ...otherApps.map((app) => ({
          group: [`@pp-embed/${app}`, `@pp-embed/${app}/**`, `**/${app}/**`],
          message: 'Apps never import each other; move what both need to packages/.',
        })),
      ],
    },
  ];
}

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', 'test-results/**', 'playwright-report/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node, ...globals.browser },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': 'off',
      'no-restricted-imports': restrictedImports(),
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message:
            'Read the environment in the configuration module (config.ts, main.ts) and pass values down.',
        },
      ],
    },
  },
  // Only the token package may touch JWT libraries; everything else goes through it.
  {
    files: ['packages/dataset-token/**'],
    rules: { 'no-restricted-imports': restrictedImports({ jwt: false }) },
  },
  ...APPS.map((app) => ({
    files: [`apps/${app}/**`],
    rules: { 'no-restricted-imports': restrictedImports({ otherApps: APPS.filter((a) => a !== app) }) },
  })),
  {
    // The modules that read configuration and the environment, and code that is not shipped.
    files: [
      'apps/*/src/config.ts',
      'apps/*/src/main.ts',
      'apps/portal/src/cli.ts',
      'packages/cli/src/io.ts',
      // `{ secret: { env: NAME } }` names a variable; this is where its value is read.
      'packages/dataset-token/src/keys.ts',
      '**/*.test.ts',
      '**/test/**',
      'e2e/**',
      'security/**',
      'scale-out/**',
      'clients/**',
      'bench/**',
      'scripts/**',
      '**/vite.config.ts',
      '**/*.config.ts',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // The widget and the token provider run in the embedding page: a promise nobody awaits or catches is an error
    // that reaches the page as an unhandled rejection.
    files: ['packages/viewer/src/**/*.ts', 'packages/token-provider/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
);
