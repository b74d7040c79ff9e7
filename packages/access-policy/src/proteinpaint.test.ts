import { readFileSync } from 'node:fs';
import { generateSecret } from '@pp-embed/dataset-token';
import { ConfigError, type ConfigProblem } from '@pp-embed/server-runtime';
import { describe, expect, it } from 'vitest';
import { load } from '../test/helpers.js';
import { migrateDsCredentials } from './migrate.js';
import { hashPassword } from './password.js';

interface Example {
  source: string;
  datasets: string[];
  dsCredentials: unknown;
  refused?: string[];
}

const fixture = JSON.parse(
  readFileSync(new URL('../test/proteinpaint-dscredentials.json', import.meta.url), 'utf8'),
) as { examples: Example[] };
const guide = readFileSync(new URL('../../../docs/moving-from-proteinpaint.md', import.meta.url), 'utf8');

/** Each refusal the migration guide defends, by the id of its section, and how a problem shows it. */
const REASONS: Record<string, RegExp> = {
  'weak-secret': /bytes, HS256 needs at least|well-known example secret|too few distinct characters/,
  'plaintext-password': /plaintext dataset password/,
  'legacy-shape': /ProteinPaint's legacy/,
  'demo-token': /demo-token route is not part of pp-embed/,
  'jwt-without-key': /a "jwt" entry needs a key/,
  'unserved-dataset': /names no dataset this server serves/,
  'pattern-key': /patterns are not supported/,
  'unknown-type': /unknown type/,
  'not-a-block': /expected an object whose keys are route names/,
};

/** What `pp-token migrate-config` cannot rewrite: only the operator knows what the key or type was meant to be. */
const OPERATOR_ONLY = new Set(['unserved-dataset', 'pattern-key', 'unknown-type', 'not-a-block']);

function reasonsOf(problems: readonly ConfigProblem[]): string[] {
  const found = new Set<string>();
  for (const problem of problems) {
    const reason = Object.keys(REASONS).find((id) => REASONS[id]?.test(problem.message));
    if (reason === undefined)
      throw new Error(`a refusal the guide does not explain: ${problem.path}: ${problem.message}`);
    found.add(reason);
  }
  return [...found].sort();
}

function outcome(dsCredentials: unknown, datasets: string[], env: NodeJS.ProcessEnv = {}): string[] {
  try {
    load(dsCredentials, { datasets, env });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return reasonsOf(error.problems);
    throw error;
  }
}

// Strong secrets for the variables a migrated config reads its new secrets from.
const env = Object.fromEntries(
  ['PP_DS_SECRET', 'PP_DS_SECRET_2', 'PP_DS_SECRET_3', 'PP_DS_TOKEN_SECRET'].map((n) => [
    n,
    generateSecret(),
  ]),
);

describe("ProteinPaint's own dsCredentials blocks", () => {
  it("are all here: the documented example, the test blocks and the test server's", () => {
    expect(fixture.examples).toHaveLength(33);
  });

  it.each(fixture.examples.map((e) => [e.source, e] as const))(
    '%s loads, or is refused only for reasons the migration guide gives',
    (_source, example) => {
      expect(outcome(example.dsCredentials, example.datasets)).toEqual([...(example.refused ?? [])].sort());
    },
  );

  it('load as the migration guide counts them: 5 as written, 29 after migrate-config', () => {
    const asWritten = fixture.examples.filter((e) => e.refused === undefined).length;
    const operatorOnly = fixture.examples.filter((e) => e.refused?.some((r) => OPERATOR_ONLY.has(r))).length;
    expect([asWritten, fixture.examples.length - operatorOnly]).toEqual([5, 29]);
    expect(guide).toMatch(/\| load as written +\| 5 +\|/);
    expect(guide).toMatch(/\| load after `pp-token migrate-config`.*\| 29 +\|/);
  });

  it('has a section in the migration guide for every reason a block is refused', () => {
    for (const id of Object.keys(REASONS)) expect(guide).toContain(`<a id="${id}"></a>`);
  });

  it.each(fixture.examples.map((e) => [e.source, e] as const))(
    '%s loads after `pp-token migrate-config`, unless only its operator can fix it',
    async (_source, example) => {
      const { dsCredentials } = await migrateDsCredentials(example.dsCredentials, {
        hashPassword: (password) => hashPassword(password, { ln: 14, r: 8, p: 1 }),
      });
      const expected = (example.refused ?? []).filter((reason) => OPERATOR_ONLY.has(reason)).sort();
      expect(outcome(dsCredentials, example.datasets, env)).toEqual(expected);
    },
  );
});
