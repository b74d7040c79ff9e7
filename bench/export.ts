/**
 * The sample table of a 1,000,000-sample dataset streamed as TSV (and CSV) by the built visualization server, to a
 * script's request with a script token: rows per second at the client, and the server's resident memory while it
 * streams (sampled from /proc every 50 ms), beside the memory it held before the request. The table is read with
 * backpressure by a client that takes it as fast as it can.
 * Run: npx -y pnpm@10 run build && node --import tsx/esm --conditions=source bench/export.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createSigner, generateSecret } from '@pp-embed/dataset-token';
import type { Health } from '@pp-embed/viz-api';
import { benchDataset, ratio, rssKiB, startVizServer } from './measure.js';

const SAMPLES = 1_000_000;

interface Run {
  rows: number;
  seconds: number;
  bytes: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
}

async function exportOnce(url: string, token: string, pid: number, format: 'tsv' | 'csv'): Promise<Run> {
  const before = rssKiB(pid) ?? 0;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssKiB(pid) ?? 0)), 50);
  const started = performance.now();
  const response = await fetch(`${url}/termdb/samples?dslabel=Million&term=agedx&format=${format}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!response.ok || response.body === null) throw new Error(`the export answered ${response.status}`);
  let newlines = 0;
  let bytes = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) newlines++;
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, rssKiB(pid) ?? 0);
  // The header line is no row.
  return { rows: newlines - 1, seconds, bytes, rssBeforeMiB: before / 1024, rssPeakMiB: peak / 1024 };
}

/**
 * Prints rows/s and the server's RSS growth of each run, against the floors (>= 200,000 rows/s, <= 64 MiB).
 *
 * @example
 * await benchExport();
 */
export async function benchExport(): Promise<void> {
  console.log(
    `\n# Sample table export, ${SAMPLES.toLocaleString('en-US')} samples, streamed by the built server`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'bench-export-'));
  const file = benchDataset(SAMPLES);
  const secret = generateSecret();
  writeFileSync(join(dir, 'secret'), secret, { mode: 0o600 });
  const server = await startVizServer(dir, {
    datasets: [{ label: 'Million', genome: 'hg38', file, minSampleSize: 5 }],
    dsCredentials: {
      Million: {
        termdb: { 'portal.example.org': { type: 'jwt', secret: { file: 'secret' }, scripts: true } },
      },
    },
  });
  try {
    // The server hashes and checks the file in a worker thread once it listens (the registry's start check): its
    // memory is that thread's, not the stream's, so the runs begin once it is done.
    const checked = async () => {
      const health = (await (await fetch(`${server.url}/healthcheck`)).json()) as Health;
      return health.checks.datasets[0]?.version !== null;
    };
    while (!(await checked())) await new Promise((resolve) => setTimeout(resolve, 100));
    const signer = createSigner({ algorithm: 'HS256', key: { secret }, ttlSeconds: 3600 });
    const token = signer.sign({ datasets: ['Million'], email: 'bench@example.org', client: 'script' });
    // The first run is cold (the JIT, the sample names' pages of the file); the later ones are a server that has
    // served a while.
    for (const [name, format] of [
      ['tsv, cold', 'tsv'],
      ['tsv', 'tsv'],
      ['csv', 'csv'],
      ['tsv, again', 'tsv'],
    ] as const) {
      const run = await exportOnce(server.url, token, server.child.pid ?? 0, format);
      const rate = run.rows / run.seconds;
      console.log(
        `  ${name}: ${run.rows.toLocaleString('en-US')} rows, ${(run.bytes / 2 ** 20).toFixed(1)} MiB in ${run.seconds.toFixed(2)} s; server RSS ${run.rssBeforeMiB.toFixed(1)} -> peak ${run.rssPeakMiB.toFixed(1)} MiB`,
      );
      console.log(ratio(`  ${name}: rows per second (thousands)`, rate / 1000, { atLeast: 200 }));
      console.log(
        ratio(`  ${name}: server RSS growth while streaming (MiB)`, run.rssPeakMiB - run.rssBeforeMiB, {
          atMost: 64,
        }),
      );
    }
  } finally {
    server.child.kill();
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  await benchExport();
