import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSecret } from '@pp-embed/dataset-token';
import { describe, expect, it } from 'vitest';
import { demoDataset } from '../test/harness.js';
import { ConfigError } from '@pp-embed/server-runtime';
import { loadConfig } from './config.js';

function write(config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'pp-config-'));
  const file = join(dir, 'serverconfig.json');
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config));
  return file;
}

function problems(file: string): string[] {
  try {
    loadConfig(file, { env: {} });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('loads a good config with comment keys, datasets relative to the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-config-'));
    writeFileSync(join(dir, 'data.db'), readFileSync(demoDataset()));
    writeFileSync(
      join(dir, 'serverconfig.json'),
      JSON.stringify({
        '#': 'a comment',
        port: 4000,
        datasets: [{ label: 'PPDemo', genome: 'hg38', file: 'data.db' }],
        dsCredentials: {
          PPDemo: { termdb: { 'portal.example.org': { type: 'jwt', secret: generateSecret() } } },
        },
      }),
    );
    const config = loadConfig(join(dir, 'serverconfig.json'));
    expect(config.port).toBe(4000);
    expect([...config.datasets.keys()]).toEqual(['PPDemo']);
  });

  it('reports every problem at once, each with its JSON path', () => {
    const found = problems(
      write({
        datasets: [
          { label: 'PPDemo', genome: 'hg38', file: demoDataset() },
          { label: 'Missing', genome: 'hg38', file: 'nowhere.db' },
          { label: 'PPDemo', genome: 'hg38', file: demoDataset() },
        ],
        trustProxy: ['10.0.0.0/99'],
        corsOrigins: ['https://ok.example.org', 'https://bad.example.org/path'],
        colour: 'blue',
        dsCredentials: {
          PPDemo: {
            '*': {
              'portal.example.org': { type: 'jwt', secret: 'x'.repeat(12) },
              'https://portal.example.org/app': { type: 'jwt', secret: { env: 'UNSET_SECRET' } },
            },
          },
        },
      }),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^corsOrigins\[1\]: expected an origin/),
        'colour: is not a known setting',
        'dsCredentials.PPDemo.*.portal.example.org.secret: 12 bytes, HS256 needs at least 32',
        expect.stringMatching(/^dsCredentials\.PPDemo\.\*\.(https|"https).*/),
        expect.stringMatching(/UNSET_SECRET is not set/),
        'trustProxy[0]: the prefix length must be 0 to 32',
        expect.stringMatching(/^datasets\[1\]\.file: .*nowhere\.db not found$/),
        'datasets[2].label: "PPDemo" is used by another dataset',
      ]),
    );
  });

  it.each([
    ['a file that is not JSON', '{ "datasets": ', '(root): not valid JSON'],
    ['no datasets', { datasets: [] }, 'datasets: expected at least one dataset'],
    [
      'a dataset label with a slash',
      { datasets: [{ label: 'a/b', genome: 'hg38', file: 'x.db' }] },
      'datasets[0].label: expected a dataset label',
    ],
  ])('stops on %s', (_name, config, message) => {
    expect(problems(write(config))).toEqual([expect.stringContaining(message)]);
  });

  it('names a file that is not a termdb database', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-config-'));
    writeFileSync(join(dir, 'junk.db'), 'this is not sqlite');
    writeFileSync(
      join(dir, 'serverconfig.json'),
      JSON.stringify({ datasets: [{ label: 'J', genome: 'hg38', file: 'junk.db' }] }),
    );
    expect(problems(join(dir, 'serverconfig.json'))).toEqual([
      expect.stringMatching(/^datasets\[0\]\.file: /),
    ]);
  });

  it('skips an optional dataset whose file is missing, with a warning', () => {
    const config = loadConfig(
      write({
        datasets: [
          { label: 'PPDemo', genome: 'hg38', file: demoDataset() },
          { label: 'TermdbTest', genome: 'hg38', file: 'absent.db', optional: true },
        ],
      }),
    );
    expect([...config.datasets.keys()]).toEqual(['PPDemo']);
    expect(config.warnings).toEqual([expect.stringContaining('TermdbTest is skipped')]);
  });
});
