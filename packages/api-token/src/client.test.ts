// The client over real HTTP on 127.0.0.1, against a small stand-in for the portal's token endpoint and the
// visualization server (the real ones are exercised from Python, Node and pp-token in clients/).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tsvRow } from '@pp-embed/viz-api';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ExchangeError, ScriptClient, tsvRecords, VizError } from './client.js';
import { generateApiToken } from './format.js';

const { token: API_TOKEN } = generateApiToken();

interface Seen {
  exchanges: URLSearchParams[];
  vizHeaders: IncomingMessage['headers'][];
}

let server: Server;
let base: string;
const seen: Seen = { exchanges: [], vizHeaders: [] };
/** What the stand-in answers; tests change it. */
const behaviour = { refuseExchange: false, expireFirstToken: false, rows: 12_000, exchangeDelayMs: 0 };
let issued = 0;

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => resolve(text));
  });
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', base);
  const json = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  if (url.pathname === '/oauth/token') {
    const form = new URLSearchParams(await read(req));
    seen.exchanges.push(form);
    await new Promise((resolve) => setTimeout(resolve, behaviour.exchangeDelayMs));
    if (behaviour.refuseExchange || form.get('refresh_token') !== API_TOKEN) {
      return json(400, { error: 'invalid_grant', error_description: 'The API token is not valid.' });
    }
    issued++;
    return json(200, { access_token: `t${issued}`, token_type: 'Bearer', expires_in: 600, scope: '' });
  }
  seen.vizHeaders.push(req.headers);
  const bearer = req.headers.authorization ?? '';
  if (behaviour.expireFirstToken && bearer === 'Bearer t1') {
    return json(401, { error: { code: 'token_expired', message: 'The access token has expired.' } });
  }
  if (url.pathname === '/api/access') {
    return json(401, { error: { code: 'invalid_token', message: 'The API token is not valid.' } });
  }
  if (url.pathname === '/termdb/barchart') {
    if (url.searchParams.get('dslabel') === 'Closed') {
      return json(403, { error: { code: 'insufficient_scope', message: 'No.' } });
    }
    return json(200, { term: { id: 'sex' }, bars: [], total: 0, cohorts: null });
  }
  if (url.pathname === '/termdb/samples' && url.searchParams.get('format') === 'tsv') {
    res.writeHead(200, { 'content-type': 'text/tab-separated-values; charset=utf-8' });
    res.write(tsvRow(['sample', 'Diagnosis']));
    // Small writes, so that records and quoted fields straddle chunks.
    for (let i = 0; i < behaviour.rows; i++) {
      const value = i % 1000 === 0 ? 'AML\t"M4"\nwith a line break' : `value ${i}`;
      res.write(tsvRow([`S${i}`, value]));
    }
    res.end();
    return;
  }
  json(404, { error: { code: 'not_found', message: 'No.' } });
}

beforeAll(async () => {
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  issued = 0;
  seen.exchanges = [];
  seen.vizHeaders = [];
  Object.assign(behaviour, {
    refuseExchange: false,
    expireFirstToken: false,
    rows: 12_000,
    exchangeDelayMs: 0,
  });
});

function client(now: () => number = Date.now, scope?: { datasets: string[] }) {
  return new ScriptClient({
    portal: base,
    vizServer: base,
    apiToken: `${API_TOKEN}\n`,
    now,
    ...(scope !== undefined && { scope }),
  });
}

describe('ScriptClient', () => {
  it('exchanges with the refresh_token grant as a public client, asking for the scope it was given', async () => {
    await client(Date.now, { datasets: ['PPDemo'] }).accessToken();
    const [form] = seen.exchanges;
    expect(Object.fromEntries(form ?? [])).toEqual({
      grant_type: 'refresh_token',
      refresh_token: API_TOKEN,
      client_id: 'pp-scripts',
      scope: 'dataset:PPDemo',
    });
  });

  it('keeps the dataset token until a minute before it expires, then exchanges again', async () => {
    let now = Date.UTC(2026, 10, 23, 12);
    const c = client(() => now);
    const first = await c.accessToken();
    now += 500_000;
    expect(await c.accessToken()).toBe(first);
    now += 41_000;
    expect(await c.accessToken()).not.toBe(first);
    expect(seen.exchanges).toHaveLength(2);
  });

  it('makes one exchange for callers that ask at the same time', async () => {
    behaviour.exchangeDelayMs = 50;
    const c = client();
    const tokens = await Promise.all(Array.from({ length: 10 }, () => c.accessToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(seen.exchanges).toHaveLength(1);
  });

  it('throws the portal’s OAuth error code when the exchange is refused', async () => {
    behaviour.refuseExchange = true;
    const error = await client()
      .accessToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExchangeError);
    expect(error).toMatchObject({ code: 'invalid_grant', status: 400 });
    expect(String((error as Error).message)).not.toContain(API_TOKEN);
  });

  it('sends the dataset token as a Bearer token, and exchanges again once when it expired on the way', async () => {
    behaviour.expireFirstToken = true;
    const chart = await client().json('barchart', { dslabel: 'PPDemo', term: 'sex' });
    expect(chart.bars).toEqual([]);
    expect(seen.exchanges).toHaveLength(2);
    expect(seen.vizHeaders.map((h) => h.authorization)).toEqual(['Bearer t1', 'Bearer t2']);
    expect(seen.vizHeaders.every((h) => h.origin === undefined)).toBe(true);
  });

  it('throws the visualization server’s code for a refusal', async () => {
    const error = await client()
      .json('barchart', { dslabel: 'Closed', term: 'sex' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VizError);
    expect(error).toMatchObject({ code: 'insufficient_scope', status: 403 });
  });

  it('reads the sample table from TSV as it arrives, quoted fields included', async () => {
    const rows: { sample: string; value: string | number }[] = [];
    for await (const row of client().sampleRows('PPDemo', 'diaggrp')) rows.push(row);
    expect(rows).toHaveLength(12_000);
    expect(rows[0]).toEqual({ sample: 'S0', value: 'AML\t"M4"\nwith a line break' });
    expect(rows[11_999]).toEqual({ sample: 'S11999', value: 'value 11999' });
    expect(seen.vizHeaders[0]?.accept).toBe('text/tab-separated-values');
  });

  it('throws the portal’s code when the access endpoint refuses the token', async () => {
    const error = await client()
      .access()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExchangeError);
    expect(error).toMatchObject({ code: 'invalid_token', status: 401 });
  });

  it('refuses an empty API token at once', () => {
    expect(() => new ScriptClient({ portal: base, vizServer: base, apiToken: ' ' })).toThrow(/empty/);
  });
});

describe('tsvRecords', () => {
  it('reads back whatever tsvRow wrote, however the bytes are split', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.string({ unit: 'grapheme' }), { minLength: 1, maxLength: 4 }), { maxLength: 8 }),
        fc.integer({ min: 1, max: 7 }),
        async (records, size) => {
          // A record of one empty field writes an empty line, which reads as no record: leave those out.
          const written = records.filter((r) => !(r.length === 1 && r[0] === ''));
          const bytes = new TextEncoder().encode(written.map((r) => tsvRow(r)).join(''));
          const body = new ReadableStream<Uint8Array>({
            start(controller) {
              for (let i = 0; i < bytes.length; i += size) controller.enqueue(bytes.slice(i, i + size));
              controller.close();
            },
          });
          const read: string[][] = [];
          for await (const record of tsvRecords(body)) read.push(record);
          expect(read).toEqual(written);
        },
      ),
      { numRuns: 300 },
    );
  });
});
