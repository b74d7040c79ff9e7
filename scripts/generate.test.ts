import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expected, GENERATED, ROOT } from './generate.js';

describe('generated files', () => {
  it.each(
    GENERATED.map((item) => [`${item.file}${item.section ? ` (${item.section})` : ''}`, item] as const),
  )(
    '%s is what the code generates (run `npx -y pnpm@10 run generate` after a change)',
    async (_name, item) => {
      const current = readFileSync(join(ROOT, item.file), 'utf8');
      expect(current).toBe(await expected(item, current));
    },
  );
});
