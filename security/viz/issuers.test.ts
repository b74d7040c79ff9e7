/**
 * Tokens from trusted OpenID issuers and GA4GH passports against the running visualization server. The
 * university's IdP and passport broker is a real OpenID Provider (oidc-provider, in its own process); beside it,
 * an issuer served here whose key set can turn malformed, one that never answers and one that is not there. Every
 * token that only looks like the trusted issuer's is refused, a visa is believed only with a registered `jku` and
 * no `conditions`, nothing a token names is fetched, and an issuer that is away never holds a request for longer
 * than its timeout.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSecret, publicJwk } from '@pp-embed/dataset-token';
import {
  exchangeForPassport,
  type IdpClient,
  type RunningIdp,
  signInHeadless,
  startIdp,
} from '@pp-embed/test-idp';
import { LIMITS } from '@pp-embed/viz-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/free-port.js';
import {
  ChildServer,
  connectionTrap,
  expectCleanLogs,
  expectGranted,
  expectRefusal,
  expectRepliesWellFormed,
  generatedDataset,
  LOOPBACK,
  PORTAL_HOST,
  PORTAL_ORIGIN,
  type Reply,
  samplesPath,
  send,
  VIZ_EVENTS,
  VIZ_MAIN,
} from '../harness.js';
import { forge } from '../jws.js';

const AUDIENCE = 'https://viz.lab.test';
const OTHER_SERVICE = 'https://other-service.lab.test';
const DAC = 'https://dac.lab.test/committee';
const DATASET = 'UniData';
/** Guarded by the trusted issuer alone: no key of its own for other tokens. */
const ISSUER_ONLY = 'UniOnly';
const VISA = 'phs000777.v1.p1';
const client: IdpClient = {
  client_id: 'portal',
  client_secret: generateSecret(),
  redirect_uris: ['http://127.0.0.1:9/login/institution/callback'],
};
const visa = (extra: Record<string, unknown> = {}) => ({ value: VISA, source: DAC, by: 'dac', ...extra });

// An attacker's own keys: whatever they sign must never verify.
const attacker = {
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ec: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
};

/** An issuer served here: its discovery document and key set, whose body a test can spoil. */
class LabIssuer {
  readonly key = generateKeyPairSync('rsa', { modulusLength: 2048 });
  jwks = '';
  jwksHits = 0;
  #server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.jwks = JSON.stringify({ keys: [publicJwk(this.key.publicKey, 'RS256', 'lab-1')] });
    this.#server = createServer((req, res) => {
      if (req.url === '/.well-known/openid-configuration') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ issuer: this.url, jwks_uri: `${this.url}/jwks` }));
      } else if (req.url === '/jwks') {
        this.jwksHits++;
        res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
        res.end(this.jwks);
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, LOOPBACK, resolve));
    this.url = `http://${LOOPBACK}:${(this.#server.address() as { port: number }).port}`;
  }

  close(): void {
    this.#server?.close();
  }
}

/** A listener that takes connections and never answers: an issuer that hangs. */
async function hangingIssuer(): Promise<{ url: string; connections: () => number; close(): void }> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server: NetServer = createNetServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  return {
    url: `http://${LOOPBACK}:${(server.address() as { port: number }).port}`,
    connections: () => count,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

let idp: RunningIdp;
let trap: Awaited<ReturnType<typeof connectionTrap>>;
let hanging: Awaited<ReturnType<typeof hangingIssuer>>;
let gone: string;
const lab = new LabIssuer();
let server: ChildServer;
let dir: string;
let secret: string;
const tokens = new Set<string>();
const replies: { what: string; reply: Reply }[] = [];

beforeAll(async () => {
  trap = await connectionTrap();
  hanging = await hangingIssuer();
  gone = `http://${LOOPBACK}:${await freePort()}`;
  await lab.start();
  idp = await startIdp({
    audience: AUDIENCE,
    otherAudiences: [OTHER_SERVICE],
    clients: [client],
    users: {
      ana: { email: 'ana@uni.lab.test', scopes: [`pp:dataset:${DATASET}`] },
      vic: { email: 'vic@uni.lab.test', visas: [visa()] },
      cora: { email: 'cora@uni.lab.test', visas: [visa({ conditions: [[{ type: 'AffiliationAndRole' }]] })] },
      // A visa of the trusted issuer whose header sends the server to a key set of someone else's.
      jack: { email: 'jack@uni.lab.test', visas: [visa({ jku: `${trap.url}/visa-keys` })] },
      fred: { email: 'fred@uni.lab.test', visas: [visa({ forged: true })] },
      // Passports longer than the longest accepted, and longer than node's header limit.
      hoarder: {
        email: 'hoarder@uni.lab.test',
        visas: Array.from({ length: 12 }, (_, i) => visa({ value: `phs9${i}.v1.p1` })),
      },
      giant: {
        email: 'giant@uni.lab.test',
        visas: Array.from({ length: 20 }, (_, i) => visa({ value: `phs9${i}.v1.p1` })),
      },
    },
  });
  dir = mkdtempSync(join(tmpdir(), 'pp-security-issuers-'));
  secret = generateSecret();
  writeFileSync(join(dir, 'portal.secret'), secret, { mode: 0o600 });
  const rules = [DATASET, ISSUER_ONLY].map((dataset) => ({ scope: `pp:dataset:${DATASET}`, dataset }));
  const config = {
    host: LOOPBACK,
    datasets: [DATASET, ISSUER_ONLY].map((label) => ({
      label,
      genome: 'hg38',
      file: generatedDataset(),
      minSampleSize: 5,
    })),
    trustedIssuers: {
      university: { issuer: idp.url, audience: AUDIENCE, grants: rules, passports: true },
      lab: { issuer: lab.url, audience: AUDIENCE, grants: rules },
      hanging: { issuer: hanging.url, audience: AUDIENCE, grants: rules },
      gone: { issuer: gone, audience: AUDIENCE, grants: rules },
    },
    passports: {
      visaIssuers: [{ issuer: idp.url, jku: [idp.visaJku] }],
      visas: [{ value: VISA, source: [DAC], by: ['dac'], dataset: DATASET }],
    },
    dsCredentials: {
      [DATASET]: {
        '*': {
          [PORTAL_HOST]: {
            type: 'jwt',
            secret: { file: 'portal.secret' },
            issuers: ['university', 'lab', 'hanging', 'gone'],
          },
        },
      },
      [ISSUER_ONLY]: { '*': { [PORTAL_HOST]: { type: 'jwt', issuers: ['university'] } } },
    },
  };
  writeFileSync(join(dir, 'serverconfig.json'), JSON.stringify(config, null, 2));
  server = await ChildServer.start(VIZ_MAIN, {
    args: ['--config', join(dir, 'serverconfig.json'), '--port', '0', '--host', LOOPBACK],
    listening: (line) => (line.event === 'listening' && typeof line.url === 'string' ? line.url : undefined),
    // The hanging issuer holds the start for its timeout (5 s): the server starts all the same.
    timeoutMs: 40_000,
  });
}, 90_000);

afterEach(() => {
  expect(server.alive(), 'server process alive').toBe(true);
});

afterAll(async () => {
  await server?.stop();
  await idp?.stop();
  trap?.close();
  hanging?.close();
  lab.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const track = (token: string): string => {
  tokens.add(token);
  return token;
};

async function get(token: string | undefined, path = samplesPath(DATASET)): Promise<Reply> {
  const headers: [string, string][] = [['origin', PORTAL_ORIGIN]];
  if (token !== undefined) headers.push(['x-ds-access-token', track(token)]);
  const reply = await send(server.port, { path, headers });
  replies.push({ what: `GET ${path}`, reply });
  return reply;
}

const accessToken = async (user: string, resource = AUDIENCE) =>
  track(
    (await signInHeadless(idp, client, user, { scope: `openid pp:dataset:${DATASET}`, resource }))
      .access_token,
  );
const passportOf = async (user: string) =>
  track(await exchangeForPassport(idp, client, await accessToken(user), AUDIENCE));

const payloadOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;

/** Claims as the university's IdP writes them, for tokens signed by someone else. */
function lookalikeClaims(iss = idp.url): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss,
    sub: 'ana',
    aud: AUDIENCE,
    scope: `pp:dataset:${DATASET}`,
    iat: now,
    exp: now + 300,
    jti: randomUUID(),
  };
}

const signedBy = (key: KeyObject, header: Record<string, unknown>, payload = lookalikeClaims()) =>
  track(forge({ header: { typ: 'at+jwt', alg: 'RS256', ...header }, payload, signWith: 'RS256', key }));

describe('the trusted issuer, as it should be used', () => {
  it('an access token whose scope names the dataset is granted, where the entry has a key of its own or not', async () => {
    const token = await accessToken('ana');
    expectGranted(await get(token));
    expectGranted(await get(token, samplesPath(ISSUER_ONLY)));
  });

  it('a passport whose visa maps to the dataset is granted', async () => {
    expectGranted(await get(await passportOf('vic')));
  });
});

describe('a token that only looks like the trusted issuer’s (RFC 8725 §2.1, §3.1, §3.9; OWASP JWT cheat sheet; PortSwigger JWT labs)', () => {
  it.each([
    ['the issuer’s kid', { kid: 'idp-1' }],
    ['no kid', {}],
    ['a kid of its own', { kid: 'attacker-1' }],
  ])('the same iss signed with other keys (%s) is refused', async (_what, header) => {
    expectRefusal(await get(signedBy(attacker.rsa.privateKey, header)), 401, 'token_invalid');
  });

  it('the issuer’s own public key used as an HMAC secret (alg switched to HS256) is refused', async () => {
    const jwks = (await (await fetch(`${idp.url}/jwks`)).json()) as { keys: Record<string, unknown>[] };
    const jwk = jwks.keys[0] as Record<string, unknown>;
    const pem = createPublicKey({ key: jwk as never, format: 'jwk' })
      .export({ format: 'pem', type: 'spki' })
      .toString();
    for (const key of [pem, JSON.stringify(jwk)]) {
      const token = track(
        forge({
          header: { alg: 'HS256', typ: 'at+jwt', kid: jwk.kid },
          payload: lookalikeClaims(),
          signWith: 'HS256',
          key,
        }),
      );
      expectRefusal(await get(token), 401, 'token_invalid');
    }
  });

  it.each(['none', 'None', 'PS256', 'ES256'])('alg %s in place of RS256 is refused', async (alg) => {
    const payload = lookalikeClaims();
    const token = track(
      alg === 'ES256'
        ? forge({
            header: { alg, typ: 'at+jwt', kid: 'idp-1' },
            payload,
            signWith: 'ES256',
            key: attacker.ec.privateKey,
          })
        : alg === 'PS256'
          ? forge({
              header: { alg, typ: 'at+jwt', kid: 'idp-1' },
              payload,
              signWith: 'PS256',
              key: attacker.rsa.privateKey,
            })
          : forge({ header: { alg, typ: 'at+jwt' }, payload, signatureSegment: '' }),
    );
    expectRefusal(await get(token), 401, 'token_invalid');
  });

  it('a real token of the issuer for another service (aud) is refused (RFC 9068 §4; RFC 8707)', async () => {
    const token = await accessToken('ana', OTHER_SERVICE);
    expect(payloadOf(token)).toMatchObject({ iss: idp.url, aud: OTHER_SERVICE });
    expectRefusal(await get(token), 401, 'token_invalid');
  });

  it('the issuer’s ID token is not an access token and is refused (RFC 8725 §3.11)', async () => {
    const { id_token: idToken } = await signInHeadless(idp, client, 'ana', { scope: 'openid' });
    expectRefusal(await get(track(idToken)), 401, 'token_invalid');
  });

  it('a token of an issuer the entry does not trust is refused, and nothing is fetched from where it points', async () => {
    const token = signedBy(attacker.rsa.privateKey, { jku: `${trap.url}/jwks` }, lookalikeClaims(trap.url));
    expectRefusal(await get(token, samplesPath(ISSUER_ONLY)), 401, 'issuer_not_trusted');
    // Beside a key of its own, the entry checks such a token with that key.
    expectRefusal(await get(token), 401, 'token_invalid');
    expect(trap.connections()).toBe(0);
  });
});

describe('GA4GH visas in a passport of the trusted broker (GA4GH AAI v1.2; RFC 8725 §3.10)', () => {
  it('a visa whose jku points anywhere but the registered key set grants nothing, and nothing is fetched from there', async () => {
    const passport = await passportOf('jack');
    const visaHeader = JSON.parse(
      Buffer.from(
        ((payloadOf(passport).ga4gh_passport_v1 as string[])[0] as string).split('.')[0] as string,
        'base64url',
      ).toString(),
    ) as { jku: string };
    expect(visaHeader.jku).toBe(`${trap.url}/visa-keys`);
    expectRefusal(await get(passport), 403, 'dataset_not_granted');
    expect(trap.connections()).toBe(0);
  });

  it('a visa with conditions grants nothing: they are not evaluated', async () => {
    expectRefusal(await get(await passportOf('cora')), 403, 'dataset_not_granted');
  });

  it('a visa signed with a key the issuer does not publish grants nothing', async () => {
    expectRefusal(await get(await passportOf('fred')), 403, 'dataset_not_granted');
  });

  it(`a passport longer than ${LIMITS.maxPassportLength} characters is refused as such (401 token_invalid)`, async () => {
    const passport = await passportOf('hoarder');
    expect(passport.length).toBeGreaterThan(LIMITS.maxPassportLength);
    expect(passport.length).toBeLessThan(15_000);
    expectRefusal(await get(passport), 401, 'token_invalid');
  });

  it('a passport past the server’s header limit is refused by the HTTP layer (431), and the server lives on', async () => {
    const passport = await passportOf('giant');
    expect(passport.length).toBeGreaterThan(16 * 1024);
    expect((await get(passport)).status).toBe(431);
  });
});

describe('an issuer that is slow, away or malformed (OWASP Denial of Service cheat sheet; CWE-400)', () => {
  it('one that never answers holds its tokens no longer than the timeout, and holds no other request', async () => {
    const token = signedBy(attacker.rsa.privateKey, { kid: 'k' }, lookalikeClaims(hanging.url));
    const started = Date.now();
    const held = get(token);
    // A portal token and an anonymous request meanwhile are answered at once.
    const portalStarted = Date.now();
    const now = Math.floor(Date.now() / 1000);
    const portalToken = track(
      forge({
        header: { alg: 'HS256', typ: 'JWT' },
        payload: { datasets: [DATASET], email: 'ana@example.org', ip: LOOPBACK, iat: now, exp: now + 300 },
        signWith: 'HS256',
        key: secret,
      }),
    );
    expectGranted(await get(portalToken));
    expect(Date.now() - portalStarted).toBeLessThan(2_000);
    expectRefusal(await held, 401, 'token_invalid');
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(hanging.connections()).toBeGreaterThan(0);
  });

  it('one that is not there is refused at once with a stable code', async () => {
    const started = Date.now();
    const token = signedBy(attacker.rsa.privateKey, { kid: 'k' }, lookalikeClaims(gone));
    expectRefusal(await get(token), 401, 'token_invalid');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('the health check names the issuers whose keys are not there, and says degraded', async () => {
    const reply = await send(server.port, { path: '/healthcheck' });
    const health = reply.json as { status: string; checks: { keySets: { url: string; status: string }[] } };
    expect(health.status).toBe('degraded');
    const byUrl = new Map(health.checks.keySets.map((k) => [new URL(k.url).origin, k.status]));
    expect(byUrl.get(hanging.url)).toBe('unavailable');
    expect(byUrl.get(gone)).toBe('unavailable');
    expect(byUrl.get(lab.url)).toBe('ok');
  });

  it('a key set that turns malformed is reported with the issuer’s name and never replaces the last good keys', async () => {
    const good = signedBy(lab.key.privateKey, { kid: 'lab-1' }, lookalikeClaims(lab.url));
    expectGranted(await get(good));
    lab.jwks = '{"keys": [ not json';
    // A token with a kid the server has not seen makes it fetch the key set again (at most once per 5 s).
    const unknown = signedBy(lab.key.privateKey, { kid: 'lab-2' }, lookalikeClaims(lab.url));
    const hits = lab.jwksHits;
    for (let i = 0; i < 40 && lab.jwksHits === hits; i++) {
      expectRefusal(await get(unknown), 401, 'token_invalid');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(lab.jwksHits).toBeGreaterThan(hits);
    expectGranted(await get(signedBy(lab.key.privateKey, { kid: 'lab-1' }, lookalikeClaims(lab.url))));
    const failures = server
      .stderr()
      .split('\n')
      .filter((line) => line.includes('"jwks_fetch_failed"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(failures.some((f) => f.issuer === lab.url)).toBe(true);
  });
});

it('leaves no token, token fragment, secret or forged line in the logs, and never answered 5xx (OWASP Logging Cheat Sheet)', () => {
  expect(replies.length).toBeGreaterThan(0);
  expectCleanLogs(
    [
      { stream: 'stdout', text: server.stdout() },
      { stream: 'stderr', text: server.stderr() },
    ],
    { tokens, secrets: [secret] },
    VIZ_EVENTS,
  );
  expectRepliesWellFormed(replies);
});
