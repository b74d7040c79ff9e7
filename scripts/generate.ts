// Writes every file, or part of a file, that is generated from the code, so that the docs say what the code
// does: the JSON Schemas of dsCredentials and serverconfig.json, the explain examples in two READMEs, the route
// and error tables of docs/http-api.md, and the disclosure presets of docs/disclosure.md. scripts/generate.test.ts
// fails when one is stale.
// Run: npx -y pnpm@10 run generate
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dsCredentialsJsonSchema } from '@pp-embed/access-policy';
import { serverConfigJsonSchema } from '@pp-embed/server-config';
import * as prettier from 'prettier';
import { presetTable } from './disclosure-tables.js';
import { explainExamples } from './explain-examples.js';
import { errorTable, reasonTable, routeTable } from './http-api-tables.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** One generated file, or one marked section of a hand-written one. */
export interface Generated {
  /** Path from the repository root. */
  file: string;
  /** The section's name between `<!-- generated:NAME:start -->` and `<!-- generated:NAME:end -->`; none: the whole file. */
  section?: string;
  render(): string | Promise<string>;
}

export const GENERATED: readonly Generated[] = [
  {
    file: 'packages/access-policy/dscredentials.schema.json',
    render: () => JSON.stringify(dsCredentialsJsonSchema()),
  },
  {
    file: 'packages/server-config/serverconfig.schema.json',
    render: () => JSON.stringify(serverConfigJsonSchema()),
  },
  { file: 'packages/access-policy/README.md', section: 'explain-examples', render: explainExamples },
  { file: 'README.md', section: 'explain-examples', render: explainExamples },
  { file: 'docs/http-api.md', section: 'routes', render: routeTable },
  { file: 'docs/http-api.md', section: 'errors', render: errorTable },
  { file: 'docs/http-api.md', section: 'token-invalid-reasons', render: reasonTable },
  { file: 'docs/disclosure.md', section: 'presets', render: presetTable },
];

const start = (name: string): string => `<!-- generated:${name}:start (scripts/generate.ts) -->`;
const end = (name: string): string => `<!-- generated:${name}:end -->`;

/** Replaces the text between a section's markers. */
export function withSection(text: string, name: string, body: string): string {
  const from = text.indexOf(start(name));
  const to = text.indexOf(end(name));
  if (from === -1 || to < from) throw new Error(`missing markers ${start(name)} … ${end(name)}`);
  return `${text.slice(0, from + start(name).length)}\n\n${body}\n\n${text.slice(to)}`;
}

/** What `current` (the file's text now) should be, formatted as Prettier formats the repository. */
export async function expected(item: Generated, current: string): Promise<string> {
  const path = join(ROOT, item.file);
  const options = (await prettier.resolveConfig(path)) ?? {};
  const body = await item.render();
  const text = item.section === undefined ? body : withSection(current, item.section, body);
  return prettier.format(text, { ...options, filepath: path });
}

async function main(): Promise<void> {
  // Sections of one file are applied in turn.
  for (const item of GENERATED) {
    const path = join(ROOT, item.file);
    writeFileSync(path, await expected(item, readFileSync(path, 'utf8')));
    console.log(`wrote ${item.file}${item.section === undefined ? '' : ` (${item.section})`}`);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
