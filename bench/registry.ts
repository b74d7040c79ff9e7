/**
 * The embedder registry on a running server (the built app): how soon a change of the file decides requests, and
 * what it costs the requests in flight. Under a steady load (autocannon, 8 connections, one registered portal's
 * token), each round registers a new portal and times until its token is served (polled every 5 ms), and every
 * third round retires one and times until its token is refused with `embedder_retired`. Prints p50, p99 and the
 * worst of each (goal: p99 <= 2000 ms) and the requests of the load that failed while the registry changed
 * (goal: 0).
 *
 * Run: pnpm build && node --import tsx/esm --conditions=source bench/registry.ts
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createSigner, generateSecret } from '@pp-embed/dataset-token';
import {
  createRegistry,
  editRegistry,
  type EmbedderCredential,
  registryKey,
} from '@pp-embed/embedder-registry';
import autocannon from 'autocannon';
import { generateDataset, ratio, startVizServer } from './measure.js';

const ROUNDS = Number(process.env.PP_BENCH_ROUNDS ?? 30);

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

const tokenOf = (credential: EmbedderCredential | undefined): string =>
  createSigner({ algorithm: 'HS256', key: { secret: credential?.secret ?? '' }, kid: credential?.kid }).sign({
    datasets: ['PPDemo'],
    email: 'bench@example.org',
  });

/**
 * Prints the registry figures.
 *
 * @example
 * await benchRegistry();
 */
export async function benchRegistry(): Promise<void> {
  console.log('\n# Embedder registry: a change of the file to the first request it decides, under load');
  const dir = mkdtempSync(join(tmpdir(), 'pp-bench-registry-'));
  const file = join(dir, 'embedders.json');
  // The server reads the key from its environment, as an operator's service would.
  process.env.PP_EMBEDDERS_KEY = generateSecret();
  const key = registryKey({ env: 'PP_EMBEDDERS_KEY' });
  await createRegistry(file, key, { by: 'bench' });
  const add = async (embedder: string) =>
    (
      await editRegistry(
        file,
        key,
        (draft) => ({
          result: draft.add({
            embedder,
            datasets: ['PPDemo'],
            routes: ['termdb'],
            alg: 'HS256',
            rules: { ipCheck: 'none' },
          }).credential,
          audit: [],
        }),
        { by: 'bench' },
      )
    ).result;
  const steady = await add('steady.bench');
  const server = await startVizServer(dir, {
    datasets: [{ label: 'PPDemo', genome: 'hg38', file: generateDataset(dir, 'PPDemo') }],
    embedderRegistry: { file: 'embedders.json', key: { env: 'PP_EMBEDDERS_KEY' } },
  });
  const samples = `${server.url}/termdb/samples?dslabel=PPDemo&term=sex`;
  const ask = async (origin: string, token: string): Promise<number> => {
    const response = await fetch(samples, { headers: { origin, 'x-ds-access-token': token } });
    await response.arrayBuffer();
    return response.status;
  };
  try {
    let finished!: (result: autocannon.Result) => void;
    const done = new Promise<autocannon.Result>((resolve) => (finished = resolve));
    const load = autocannon(
      {
        url: samples,
        connections: 8,
        duration: 3600,
        headers: { origin: 'http://steady.bench', 'x-ds-access-token': tokenOf(steady) },
      },
      (error, result) => {
        if (error !== null && error !== undefined) throw error;
        finished(result);
      },
    );
    const added: number[] = [];
    const retired: number[] = [];
    const poll = async (origin: string, token: string, until: (status: number) => boolean) => {
      const started = performance.now();
      for (;;) {
        if (until(await ask(origin, token))) return performance.now() - started;
        if (performance.now() - started > 10_000) throw new Error(`${origin}: no change within 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    for (let round = 0; round < ROUNDS; round++) {
      const host = `p${round}.bench`;
      const token = tokenOf(await add(host));
      added.push(await poll(`http://${host}`, token, (status) => status === 200));
      if (round % 3 === 2) {
        await editRegistry(file, key, (draft) => ({ result: draft.retire(host), audit: [] }), {
          by: 'bench',
        });
        retired.push(await poll(`http://${host}`, token, (status) => status === 403));
      }
    }
    load.stop();
    const result = await done;
    const failed = result.non2xx + result.errors + result.timeouts;
    const line = (name: string, times: number[]) =>
      console.log(
        `${name}: p50 ${Math.round(percentile(times, 50))} ms, p99 ${Math.round(percentile(times, 99))} ms, worst ${Math.round(Math.max(...times))} ms (${times.length} changes)`,
      );
    line('portal added, to its token served', added);
    line('portal retired, to its token refused', retired);
    console.log(ratio('p99 of both, ms', percentile([...added, ...retired], 99), { atMost: 2000 }));
    console.log(
      ratio(
        `failed requests of the load during ${added.length + retired.length} changes (of ${result.requests.total})`,
        failed,
        { atMost: 0 },
      ),
    );
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchRegistry();
