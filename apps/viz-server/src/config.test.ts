// What the server adds to the shared serverconfig.json loader (@pp-embed/server-config, tested there): opening
// each termdb file, and reporting a file that cannot be served beside every other problem.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@pp-embed/server-runtime';
import { describe, expect, it } from 'vitest';
import { demoDataset } from '../test/harness.js';
import { loadConfig } from './config.js';

function folder(files: Record<string, string | Buffer>, config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'pp-config-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  writeFileSync(join(dir, 'serverconfig.json'), JSON.stringify(config));
  return join(dir, 'serverconfig.json');
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
  it('opens every dataset, relative to the config file, ready to serve', () => {
    const file = folder(
      { 'data.db': readFileSync(demoDataset()) },
      { datasets: [{ label: 'PPDemo', genome: 'hg38', file: 'data.db', minSampleSize: 5 }] },
    );
    const config = loadConfig(file);
    const dataset = config.datasets.get('PPDemo');
    expect(dataset?.disclosure.anonymous.rule?.threshold).toBe(5);
    expect(dataset?.terms(null).length).toBeGreaterThan(0);
    dataset?.close();
  });

  it('names a file that is not a termdb database, beside the other problems', () => {
    const file = folder(
      { 'junk.db': 'this is not sqlite' },
      {
        datasets: [
          { label: 'J', genome: 'hg38', file: 'junk.db' },
          { label: 'Missing', genome: 'hg38', file: 'nowhere.db' },
        ],
        colour: 'blue',
      },
    );
    expect(problems(file)).toEqual([
      'colour: is not a known setting',
      expect.stringMatching(/^datasets\[0\]\.file: Dataset file .*junk\.db cannot be used/),
      expect.stringMatching(/^datasets\[1\]\.file: .*nowhere\.db not found$/),
    ]);
  });

  it('skips an optional dataset whose file is missing, with a warning', () => {
    const config = loadConfig(
      folder(
        {},
        {
          datasets: [
            { label: 'PPDemo', genome: 'hg38', file: demoDataset() },
            { label: 'TermdbTest', genome: 'hg38', file: 'absent.db', optional: true },
          ],
        },
      ),
    );
    expect([...config.datasets.keys()]).toEqual(['PPDemo']);
    expect(config.warnings).toEqual([expect.stringContaining('TermdbTest is skipped')]);
    for (const dataset of config.datasets.values()) dataset.close();
  });
});
