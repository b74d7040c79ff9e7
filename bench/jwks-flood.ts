/**
 * The visualization server's memory and its key server's load while a flood of tokens with made-up `kid`s hits a
 * dataset whose keys come from a JWKS URL: first against a normal key set (each unknown kid may cause a fetch, at
 * most one per 5 s cooldown), then against a key server that answers every fetch with 300 MiB (each fetch is read
 * up to the 512 KiB cap, then dropped). The BUILT server runs as a child process; its RSS is sampled from
 * /proc/<pid>/status every 50 ms.
 *
 * Prints req/s, the server's RSS (start, peak, end) in each phase, the fetches the key server saw and the bytes it
 * managed to send. Goals: RSS peak within 64 MiB of the start; fetches within the cooldown and retry bounds.
 *
 * Run: npx -y pnpm@10 run build && node --import tsx/esm --conditions=source bench/jwks-flood.ts
 *      PP_FLOOD_SECONDS (default 15 per phase) and PP_FLOOD_CONNECTIONS (default 16) tune it.
 */
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publicJwk } from '@pp-embed/dataset-token';
import autocannon from 'autocannon';
import { freePort, generateDataset, rssKiB, startVizServer } from './measure.js';

const SECONDS = Math.max(5, Number(process.env.PP_FLOOD_SECONDS ?? 15));
const CONNECTIONS = Number(process.env.PP_FLOOD_CONNECTIONS ?? 16);
const ORIGIN = 'http://portal.flood:3000';
const DS = 'Keyed';
const HUGE = 300 * 1024 * 1024;
const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
const b64u = (s: string | Buffer) => Buffer.from(s).toString('base64url');

async function main(): Promise<number> {
  const dir = join(tmpdir(), `pp-embed-jwks-flood-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const dataset = generateDataset(dir, 'flood.db');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keySet = JSON.stringify({ keys: [publicJwk(publicKey, 'ES256', 'portal-1')] });
  const keyServer = { huge: false, fetches: 0, bytesSent: 0 };
  const jwks = createServer((_req, res) => {
    keyServer.fetches++;
    res.on('error', () => undefined);
    if (!keyServer.huge) {
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
      res.end(keySet);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < HUGE && !res.destroyed) {
        sent += chunk.length;
        keyServer.bytesSent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.write('{"keys":[');
    pump();
  });
  const jwksPort = await freePort();
  await new Promise<void>((resolve) => jwks.listen(jwksPort, '127.0.0.1', resolve));
  const server = await startVizServer(dir, {
    datasets: [{ label: DS, genome: 'hg38', file: dataset }],
    dsCredentials: {
      [DS]: { '*': { 'portal.flood:3000': { type: 'jwt', jwks: `http://127.0.0.1:${jwksPort}/jwks.json` } } },
    },
  });
  const pid = server.child.pid as number;
  const now = Math.floor(Date.now() / 1000);
  const payload = b64u(JSON.stringify({ datasets: [DS], email: 'x@example.org', iat: now, exp: now + 3600 }));
  // Signed with the real key, so that only the kid is wrong: the server cannot tell before it looks the kid up.
  const junk = () => {
    const input = `${b64u(JSON.stringify({ alg: 'ES256', kid: `junk-${randomUUID()}` }))}.${payload}`;
    return `${input}.${b64u(sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }))}`;
  };

  async function phase(name: string): Promise<{ ok: boolean }> {
    const fetchesBefore = keyServer.fetches;
    const bytesBefore = keyServer.bytesSent;
    const samples: number[] = [];
    const start = rssKiB(pid) ?? 0;
    const timer = setInterval(() => samples.push(rssKiB(pid) ?? 0), 50);
    const result = await autocannon({
      url: server.url,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: [
        {
          method: 'GET',
          path: `/termdb/samples?dslabel=${DS}&term=sex`,
          setupRequest: (req) => ({ ...req, headers: { origin: ORIGIN, 'x-ds-access-token': junk() } }),
        },
      ],
    });
    clearInterval(timer);
    const end = rssKiB(pid) ?? 0;
    const peak = Math.max(start, ...samples);
    const fetches = keyServer.fetches - fetchesBefore;
    // One fetch per 5 s cooldown for unknown kids, plus (after failures) retries at 1, 2, 4, 8, 16 s.
    const allowed = Math.ceil(result.duration / 5) + 1 + (keyServer.huge ? 5 : 0);
    const flat = peak - start < 64 * 1024;
    const bounded = fetches <= allowed;
    console.log(`\n## ${name}`);
    console.log(
      `requests              ${result.requests.total.toLocaleString('en-US')} (${Math.round(result.requests.average).toLocaleString('en-US')} req/s), statuses 401×${result['4xx']}, 5xx ${result['5xx']}, socket errors ${result.errors + result.timeouts}`,
    );
    console.log(
      `server RSS            start ${mib(start)}, peak ${mib(peak)}, end ${mib(end)} (peak - start ${mib(peak - start)}, goal < 64 MiB)  ${flat ? 'met' : 'NOT MET'}`,
    );
    console.log(
      `JWKS fetches          ${fetches} in ${result.duration} s (bound ${allowed})  ${bounded ? 'met' : 'NOT MET'}`,
    );
    if (keyServer.huge) {
      const sent = keyServer.bytesSent - bytesBefore;
      console.log(
        `bytes the key server sent  ${mib(sent / 1024)} for ${fetches} fetches of 300 MiB each (the server reads 512 KiB, then drops the connection)`,
      );
    }
    return { ok: flat && bounded && result['5xx'] === 0 && result.errors + result.timeouts === 0 };
  }

  try {
    console.log(`# A flood of made-up kids against a JWKS-backed dataset (${CONNECTIONS} connections)`);
    const normal = await phase(`a normal key set, ${SECONDS} s`);
    keyServer.huge = true;
    const huge = await phase(`a key server answering 300 MiB, ${SECONDS} s`);
    const ok = normal.ok && huge.ok;
    console.log(`\n${ok ? 'PASS' : 'FAIL'}`);
    return ok ? 0 : 1;
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
    jwks.closeAllConnections();
    jwks.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
