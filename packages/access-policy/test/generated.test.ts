import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { README_FILE, renderReadme, renderSchema, SCHEMA_FILE } from '../scripts/generate.js';

const STALE = 'is stale: run `pnpm --filter @pp-embed/access-policy run generate`';

describe('generated files', () => {
  it('dscredentials.schema.json matches the zod schema', async () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8'), `dscredentials.schema.json ${STALE}`).toBe(
      await renderSchema(),
    );
  });

  it('the explain examples in README.md are what explain says', async () => {
    const readme = readFileSync(README_FILE, 'utf8');
    expect(readme, `README.md ${STALE}`).toBe(await renderReadme(readme));
  });
});
