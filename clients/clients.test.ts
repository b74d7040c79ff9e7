// Scripts read a dataset with a personal API token, against the built portal and visualization server over real
// HTTP: the Python standard-library example with Debian's python3, the Node example, and pp-token fetch.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ScriptClient } from '@pp-embed/api-token';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDataset } from './node-example.js';
import { DATASET, PP_TOKEN, ROOT, type Servers, startServers, USER } from './servers.js';

const PYTHON_EXAMPLE = join(ROOT, 'docs/examples/pp_client.py');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program with only PATH and the API token in its environment. */
function run(command: string, args: string[], apiToken: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: ROOT, env: { PATH: process.env.PATH, PP_API_TOKEN: apiToken }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : Number((error as { code?: number }).code ?? 1),
          stdout,
          stderr,
        }),
    );
  });
}

let servers: Servers;
beforeAll(async () => {
  servers = await startServers();
});
afterAll(async () => {
  await servers?.stop();
});

const python = (args: string[], token: string) =>
  run('python3', [PYTHON_EXAMPLE, '--portal', servers.portal, '--viz-server', servers.viz, ...args], token);

/** The sample table as the JSON pages give it, for comparison. */
async function pagedRows(token: string, term: string): Promise<string[]> {
  const client = new ScriptClient({ portal: servers.portal, vizServer: servers.viz, apiToken: token });
  const rows: string[] = [];
  for (let page = 1; ; page++) {
    const body = await client.json('samples', { dslabel: DATASET, term, page, pageSize: 500 });
    rows.push(...body.rows.map((r) => `${r.sample}\t${r.value}`));
    if (rows.length >= body.total) return rows;
  }
}

describe('the Python standard-library example (docs/examples/pp_client.py)', () => {
  it('reads every row of the sample table, the rows the JSON pages give', async () => {
    const token = await servers.apiToken();
    const result = await python(['rows', '--dataset', DATASET, '--term', 'agedx'], token);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const rows = result.stdout.split('\n').filter((line) => line !== '');
    expect(rows.length).toBeGreaterThan(5000);
    expect(rows).toEqual(await pagedRows(token, 'agedx'));
  });

  it('says what the token opens', async () => {
    const token = await servers.apiToken({ aggregatedOnly: true, name: 'python-access' });
    const result = await python(['access'], token);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      user: USER,
      token: { name: 'python-access', pinned: false },
      datasets: [{ dataset: DATASET, routeClasses: ['aggregated'], cohorts: null }],
      notGranted: [],
    });
  });

  it('exchanges again before the dataset token expires', async () => {
    const token = await servers.apiToken();
    // The portal's tokens live 60 s (59 when minted mid-second): with a margin of 58 s the refresh time is a
    // second or two after the exchange, and the second request comes later.
    const args = ['barchart', '--dataset', DATASET, '--term', 'sex', '--repeat', '2', '--interval', '2.5'];
    const result = await python(['--refresh-margin', '58', ...args], token);
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { exchanges: number });
    expect(lines.map((l) => l.exchanges)).toEqual([1, 2]);
  });

  it('stops with the stable code of a refusal: a token for aggregated data only, and a revoked token', async () => {
    const aggregated = await servers.apiToken({ aggregatedOnly: true });
    const rows = await python(['rows', '--dataset', DATASET, '--term', 'sex'], aggregated);
    expect(rows.code).toBe(1);
    expect(rows.stderr.trim()).toBe("insufficient_scope: The access token's scopes do not cover this data.");
    const revoked = await servers.apiToken();
    await servers.users(['revoke-api-token', revoked.slice(5, 17)]);
    const refused = await python(['barchart', '--dataset', DATASET, '--term', 'sex'], revoked);
    expect([refused.code, refused.stderr.trim()]).toEqual([1, 'invalid_grant: The API token is not valid.']);
  });
});

describe('the Node example (clients/node-example.ts) and pp-token fetch', () => {
  it('reads the chart and the whole table with the project’s client', async () => {
    const token = await servers.apiToken();
    const summary = await readDataset({
      portal: servers.portal,
      vizServer: servers.viz,
      dataset: DATASET,
      term: 'agedx',
      apiToken: token,
    });
    const rows = await pagedRows(token, 'agedx');
    const values = rows.map((r) => Number(r.split('\t')[1]));
    expect(summary).toEqual({
      datasets: [DATASET],
      bars: expect.any(Number),
      rows: rows.length,
      numeric: values.length,
      sum: values.reduce((a, b) => a + b, 0),
    });
    expect(summary.bars).toBeGreaterThan(2);
  });

  it('pp-token fetch streams the table as TSV, and pp-token access tells the scope', async () => {
    const token = await servers.apiToken();
    const table = await run(
      process.execPath,
      [
        PP_TOKEN,
        'fetch',
        ...['--portal', servers.portal, '--viz-server', servers.viz, '--dataset', DATASET],
        ...['--route', 'termdb/samples', '--term', 'sex', '--format', 'tsv'],
      ],
      token,
    );
    expect(table.code).toBe(0);
    const [header, ...rows] = table.stdout.split('\n').filter((line) => line !== '');
    expect(header).toBe('sample\tSex');
    expect(rows).toEqual(await pagedRows(token, 'sex'));
    const access = await run(process.execPath, [PP_TOKEN, 'access', '--portal', servers.portal], token);
    expect(JSON.parse(access.stdout)).toMatchObject({ datasets: [{ dataset: DATASET }] });
  });
});

describe('what the servers keep of it', () => {
  it('audits each sample-level read by a script with the user, the API token’s id and the rows, never a token', async () => {
    const token = await servers.apiToken();
    const result = await python(['rows', '--dataset', DATASET, '--term', 'race'], token);
    const rows = result.stdout.split('\n').filter((line) => line !== '').length;
    const audit = servers.vizProcess.events('stdout', 'sample_access');
    expect(audit).toContainEqual(
      expect.objectContaining({
        email: USER,
        dataset: DATASET,
        route: 'termdb/samples',
        origin: null,
        client: 'script',
        apiToken: token.slice(5, 17),
        samples: rows,
      }),
    );
  });

  it('withdraws the dataset tokens of a revoked API token on the server within seconds', async () => {
    const token = await servers.apiToken();
    const client = new ScriptClient({ portal: servers.portal, vizServer: servers.viz, apiToken: token });
    const datasetToken = await client.accessToken();
    const ask = () =>
      fetch(`${servers.viz}/termdb/samples?dslabel=${DATASET}&term=sex`, {
        headers: { authorization: `Bearer ${datasetToken}` },
      });
    expect((await ask()).status).toBe(200);
    const revokedAt = Date.now();
    await servers.users(['revoke-api-token', token.slice(5, 17)]);
    let answer = await ask();
    while (answer.status === 200 && Date.now() - revokedAt < 10_000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await ask();
    }
    expect(answer.status).toBe(401);
    expect(await answer.json()).toMatchObject({ error: { code: 'token_revoked' } });
    expect(Date.now() - revokedAt).toBeLessThan(5_000);
  });

  it('never logs a token, an API token or a secret', () => {
    const logs = [
      servers.portalProcess.stdout,
      servers.portalProcess.stderr,
      servers.vizProcess.stdout,
      servers.vizProcess.stderr,
    ].join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of servers.secrets) expect(logs).not.toContain(secret);
    expect(logs).not.toMatch(/ppat_[0-9A-Za-z]{20}/);
    expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
  });
});
