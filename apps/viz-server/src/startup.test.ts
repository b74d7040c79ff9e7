import { jsonLogger } from '@pp-embed/server-runtime';
import { describe, expect, it } from 'vitest';
import { harness, PORTAL_HOST } from '../test/harness.js';
import { logAccessTable } from './startup.js';

describe('the access table at start', () => {
  it("logs what each embedder needs for each dataset's routes, and which datasets are open to everyone, never a key", () => {
    const h = harness({
      datasets: [
        { label: 'PPDemo', genome: 'hg38', file: harness().config.datasets.get('PPDemo')?.file },
        { label: 'Open', genome: 'hg38', file: harness().config.datasets.get('PPDemo')?.file },
      ],
    });
    const lines: string[] = [];
    logAccessTable(
      h.config,
      jsonLogger(
        (line) => lines.push(line),
        () => 0,
      ),
    );
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.filter((e) => e.event === 'access' && e.dataset === 'PPDemo')).toEqual([
      expect.objectContaining({
        routes: 'discovery (termdb/config)',
        embedder: 'every origin',
        needs: 'nothing: open to everyone',
      }),
      expect.objectContaining({
        routes: 'aggregated (termdb/terms, termdb/barchart, termdb/summary, termdb/survival, termdb/search)',
        needs: 'nothing: open to everyone',
      }),
      expect.objectContaining({
        routes: 'sample-level (termdb/samples, termdb/export)',
        embedder: PORTAL_HOST,
        needs: 'a token signed with the shared secret (HS256), in x-ds-access-token; strict address check',
        entry: `dsCredentials.PPDemo.termdb.${PORTAL_HOST}`,
      }),
      expect.objectContaining({ embedder: 'any other origin', needs: 'refused (embedder_not_allowed)' }),
      expect.objectContaining({ embedder: 'scripts (no Origin)', needs: 'refused (scripts_not_allowed)' }),
    ]);
    expect(events.at(-1)).toMatchObject({ event: 'open_to_everyone', datasets: ['Open'] });
    expect(lines.join('')).not.toContain(h.secret);
  });
});
