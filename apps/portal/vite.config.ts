import { defaultClientConditions, defineConfig } from 'vite';

/*
 * `vite build` bundles the dataset page's script, with the token provider, into dist/public/dataset-page.js;
 * `tsc -p tsconfig.build.json` builds the server into dist/. The script is served by the portal itself, so the
 * page's Content-Security-Policy needs no inline script.
 */
export default defineConfig({
  // The workspace packages' TypeScript sources, so that building the portal does not need them built first.
  resolve: { conditions: ['source', ...defaultClientConditions] },
  build: {
    outDir: 'dist/public',
    emptyOutDir: true,
    target: 'es2022',
    minify: true,
    sourcemap: false,
    lib: {
      entry: 'src/client/dataset-page.ts',
      formats: ['es'],
      fileName: () => 'dataset-page.js',
    },
  },
});
