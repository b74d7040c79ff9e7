import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { README_FILES, renderReadme, renderSchema, SCHEMA_FILE } from '../scripts/generate.js';

const STALE = 'is stale: run `pnpm --filter @pp-embed/access-policy run generate`';

describe('generated files', () => {
  it('dscredentials.schema.json matches the zod schema', async () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8'), `dscredentials.schema.json ${STALE}`).toBe(
      await renderSchema(),
    );
  });

  it.each(README_FILES)('the explain examples in %s are what explain says', async (file) => {
    const readme = readFileSync(file, 'utf8');
    expect(readme, `${file} ${STALE}`).toBe(await renderReadme(readme, file));
  });
});
