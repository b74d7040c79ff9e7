/**
 * A Node script that reads a dataset with a personal API token, using the project's client
 * (`@pp-embed/api-token`): what the token opens, a chart's counts, and every row of a term's sample table, summed
 * as they stream in. The token comes from the environment, never from an argument.
 *
 *   PP_API_TOKEN=ppat_... node node-example.js https://portal.example.org https://viz.example.org PPDemo agedx
 */
import { ExchangeError, ScriptClient, VizError } from '@pp-embed/api-token';

/**
 * Runs the example and returns what it found; `main` prints it.
 *
 * @example
 * const summary = await readDataset({ portal, vizServer, dataset: 'PPDemo', term: 'agedx', apiToken });
 */
export async function readDataset(options: {
  portal: string;
  vizServer: string;
  dataset: string;
  term: string;
  apiToken: string;
}): Promise<{ datasets: string[]; bars: number; rows: number; numeric: number; sum: number }> {
  const client = new ScriptClient({
    portal: options.portal,
    vizServer: options.vizServer,
    apiToken: options.apiToken,
    scope: { datasets: [options.dataset] },
  });
  const access = await client.access();
  const chart = await client.json('barchart', { dslabel: options.dataset, term: options.term });
  let rows = 0;
  let numeric = 0;
  let sum = 0;
  for await (const row of client.sampleRows(options.dataset, options.term)) {
    rows++;
    const value = Number(row.value);
    if (row.value !== '' && Number.isFinite(value)) {
      numeric++;
      sum += value;
    }
  }
  return { datasets: access.datasets.map((d) => d.dataset), bars: chart.bars.length, rows, numeric, sum };
}

/**
 * The command line: `portal vizServer dataset term`, the token from `PP_API_TOKEN`.
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2));
 */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [portal, vizServer, dataset, term] = argv;
  if (portal === undefined || vizServer === undefined || dataset === undefined || term === undefined) {
    console.error('usage: node-example PORTAL VIZ_SERVER DATASET TERM   (the API token in PP_API_TOKEN)');
    return 2;
  }
  try {
    const summary = await readDataset({ portal, vizServer, dataset, term, apiToken: env.PP_API_TOKEN ?? '' });
    console.log(JSON.stringify(summary));
    return 0;
  } catch (error) {
    if (error instanceof ExchangeError || error instanceof VizError) {
      console.error(`${error.code}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
