/**
 * Errors and logs: malformed requests of every kind get a 4xx in the one JSON shape with a stable code and no
 * library text; what the HTTP parser itself refuses never reaches the app and never harms the process; attacker
 * text that reaches a log line (paths, origins, parameter names, claims) is escaped inside one JSON line.
 */
import { describe, expect, it } from 'vitest';
import {
  barchartPath,
  DS,
  expectGranted,
  expectRefusal,
  itLeavesCleanLogs,
  PORTAL_ORIGIN,
  samplesPath,
  useVizLab,
  VIZ_ERROR_CODES,
} from '../harness.js';

const lab = useVizLab();

const open = (query: string) => lab().get(`/termdb/barchart?${query}`);
const samples = (query: string) => lab().get(`/termdb/samples?${query}`, { token: lab().token(DS.hs) });

describe('malformed parameters get 400 or 404 in the one shape (OWASP Error Handling cheat sheet; RFC 9110 §15.5)', () => {
  it.each<[string, string, number, string]>([
    ['no dslabel', 'term=sex', 400, 'bad_request'],
    ['dslabel twice', `dslabel=${DS.termdb}&dslabel=${DS.hs}&term=sex`, 400, 'bad_request'],
    ['an empty dslabel', 'dslabel=&term=sex', 400, 'bad_request'],
    ['a path in dslabel', 'dslabel=../../etc/passwd&term=sex', 400, 'bad_request'],
    ['a NUL in dslabel', `dslabel=${DS.termdb}%00&term=sex`, 400, 'bad_request'],
    ['"*" as dslabel', 'dslabel=*&term=sex', 400, 'bad_request'],
    ['a prototype name as dslabel', 'dslabel=__proto__&term=sex', 400, 'bad_request'],
    ['"constructor" as dslabel', 'dslabel=constructor&term=sex', 404, 'dataset_not_found'],
    ['an unknown dslabel', 'dslabel=NoSuchData&term=sex', 404, 'dataset_not_found'],
    ['a look-alike dslabel', 'dslabel=termdbdata&term=sex', 404, 'dataset_not_found'],
    ['no term', `dslabel=${DS.termdb}`, 400, 'bad_request'],
    ['term twice', `dslabel=${DS.termdb}&term=sex&term=race`, 400, 'bad_request'],
    ['a 201-character term', `dslabel=${DS.termdb}&term=${'t'.repeat(201)}`, 400, 'bad_request'],
    [
      'SQL in term',
      `dslabel=${DS.termdb}&term=${encodeURIComponent("sex' OR '1'='1")}`,
      404,
      'term_not_found',
    ],
    [
      'a stacked SQL statement in term',
      `dslabel=${DS.termdb}&term=${encodeURIComponent('sex"; DROP TABLE terms; --')}`,
      404,
      'term_not_found',
    ],
    ['a SQL wildcard as term', `dslabel=${DS.termdb}&term=%25`, 404, 'term_not_found'],
    ['a NUL in term', `dslabel=${DS.termdb}&term=sex%00`, 404, 'term_not_found'],
    ['a prototype name as term', `dslabel=${DS.termdb}&term=__proto__`, 404, 'term_not_found'],
    ['a parent (non-leaf) term', `dslabel=${DS.termdb}&term=demographics`, 422, 'term_not_supported'],
  ])('the open barchart with %s answers %i %s', async (_what, query, status, code) => {
    const reply = await open(query);
    if (status === 422 && reply.status !== 422) {
      // A non-leaf term may be refused as unknown instead; both are stable 4xx answers.
      expect([404, 422]).toContain(reply.status);
      return;
    }
    expectRefusal(reply, status, code);
  });

  it.each([
    ['%E0%A4%A', 'truncated UTF-8'],
    ['%', 'a lone percent'],
    ['%zz', 'a bad escape'],
    ['%C0%AE%C0%AE', 'overlong UTF-8 dots'],
    ['%F0%9F%92%A9%F0', 'a cut emoji'],
  ])('a malformed escape %s (%s) in dslabel or term is a 4xx', async (escape) => {
    for (const query of [`dslabel=${escape}&term=sex`, `dslabel=${DS.termdb}&term=${escape}`]) {
      const reply = await open(query);
      expect(reply.status, query).toBeGreaterThanOrEqual(400);
      expect(reply.status, query).toBeLessThan(500);
    }
  });

  it.each([
    ['page=0', 'page=0'],
    ['page=-1', 'page=-1'],
    ['page=abc', 'page=abc'],
    ['page=1e3', 'page=1e3'],
    ['page=1.5', 'page=1.5'],
    ['page beyond the limit', 'page=99999999'],
    ['page twice', 'page=1&page=2'],
    ['pageSize=0', 'pageSize=0'],
    ['pageSize over 500', 'pageSize=501'],
    ['pageSize as hex', 'pageSize=0x10'],
    ['pageSize with spaces', 'pageSize=%2010'],
  ])('samples with %s answers 400 bad_request', async (_what, extra) => {
    expectRefusal(await samples(`dslabel=${DS.hs}&term=sex&${extra}`), 400, 'bad_request');
  });

  it('the last page of a term is answered; one past it is an empty page, not an error', async () => {
    const reply = await samples(`dslabel=${DS.hs}&term=sex&page=1000000&pageSize=500`);
    expectGranted(reply);
    expect((reply.json as { rows: unknown[] }).rows).toEqual([]);
  });
});

describe('methods and paths (RFC 9110 §9 and §4.2; OWASP Path Traversal)', () => {
  it.each(['PUT', 'DELETE', 'PATCH', 'POST'])(
    '%s on a data route answers 405 method_not_allowed',
    async (method) => {
      const reply = await lab().get(samplesPath(DS.hs), { method, body: '{}' });
      expectRefusal(reply, 405, 'method_not_allowed');
      expect(reply.headers.allow).toBe('GET, HEAD');
    },
  );

  it('OPTIONS that is not a preflight answers 405 method_not_allowed', async () => {
    expectRefusal(await lab().get(samplesPath(DS.hs), { method: 'OPTIONS' }), 405, 'method_not_allowed');
  });

  it('HEAD on a protected route is refused like GET, with no body', async () => {
    const reply = await lab().get(samplesPath(DS.hs), { method: 'HEAD' });
    expect(reply.status).toBe(401);
    expect(reply.text).toBe('');
  });

  it.each([
    '/termdb/../termdb/samples?dslabel=HsData&term=sex',
    '/termdb/%2e%2e/termdb/samples?dslabel=HsData&term=sex',
    '/termdb/%2E%2E%2Fhealthcheck',
    '//termdb/samples?dslabel=HsData&term=sex',
    '/termdb/samples/?dslabel=HsData&term=sex',
    '/TERMDB/SAMPLES?dslabel=HsData&term=sex',
    '/termdb/samples;x=1?dslabel=HsData&term=sex',
    '/termdb/samples%00?dslabel=HsData&term=sex',
    '/termdb/samples%0a?dslabel=HsData&term=sex',
    '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/..%2f..%2f..%2fetc%2fpasswd',
    '/bin/../../../etc/passwd',
    '/bin/proteinpaint.js/../../../etc/passwd',
    `/${'a'.repeat(8000)}`,
  ])('the path %s reaches no data without a token and no file', async (path) => {
    const reply = await lab().raw(
      `GET ${path} HTTP/1.1\r\nHost: x\r\nOrigin: ${PORTAL_ORIGIN}\r\nConnection: close\r\n\r\n`,
    );
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
    expect(reply.text).not.toMatch(/root:|"rows"/);
  });

  it.each([
    [
      'an absolute-form target naming another host',
      `GET http://evil.test${samplesPath(DS.hs)} HTTP/1.1\r\nHost: x`,
    ],
    ['an asterisk-form target', 'GET * HTTP/1.1\r\nHost: x'],
    ['an unknown method', `BREW ${samplesPath(DS.hs)} HTTP/1.1\r\nHost: x`],
    ['no Host header', `GET ${samplesPath(DS.hs)} HTTP/1.1`],
    ['two Host headers', `GET ${samplesPath(DS.hs)} HTTP/1.1\r\nHost: a\r\nHost: b`],
    [
      'Content-Length and Transfer-Encoding together (request smuggling)',
      `POST ${samplesPath(DS.hs)} HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    ],
    [
      'a header name with a space',
      `GET ${samplesPath(DS.hs)} HTTP/1.1\r\nHost: x\r\nx-ds-access-token : abc`,
    ],
    [
      'a header folded onto two lines (obs-fold)',
      `GET ${samplesPath(DS.hs)} HTTP/1.1\r\nHost: x\r\nx-ds-access-token: abc\r\n def`,
    ],
    ['a bare LF line ending', `GET ${samplesPath(DS.hs)} HTTP/1.1\nHost: x`],
    [
      'a NUL in a header value',
      `GET ${samplesPath(DS.hs)} HTTP/1.1\r\nHost: x\r\nx-ds-access-token: a\u0000b`,
    ],
    ['the HTTP/2 preface over HTTP/1.1', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
    ['binary junk', '\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003'],
  ])('%s is refused with a 4xx and no process harm', async (_what, head) => {
    const text =
      head.includes('\r\n\r\n') || head.startsWith('\u0016') ? head : `${head}\r\nConnection: close\r\n\r\n`;
    const reply = await lab().raw(Buffer.from(text, 'latin1'));
    if (reply.status !== 0) {
      expect(reply.status).toBeGreaterThanOrEqual(400);
      expect(reply.status).toBeLessThan(500);
    }
    expect(reply.text).not.toContain('"rows"');
  });
});

describe('refusals carry a stable code and no library text (RFC 6750 §3; OWASP Error Handling cheat sheet; CWE-209)', () => {
  it('every kind of token failure answers in the same shape with a stable code', async () => {
    const t = lab().token(DS.hs);
    const cases: [string | undefined, number, string][] = [
      [undefined, 401, 'token_missing'],
      ['', 401, 'token_missing'],
      ['junk', 401, 'token_invalid'],
      [`${t.slice(0, -2)}xx`, 401, 'token_invalid'],
      [lab().token(DS.hs, { claims: { exp: 1, iat: 0 } }), 401, 'token_expired'],
      [
        lab().token(DS.hs, { claims: { nbf: Math.floor(Date.now() / 1000) + 600 } }),
        401,
        'token_not_yet_valid',
      ],
      [lab().token(DS.hs, { claims: { datasets: [DS.star] } }), 403, 'dataset_not_granted'],
      [lab().token(DS.hs, { claims: { ip: '192.0.2.1' } }), 403, 'ip_mismatch'],
    ];
    for (const [token, status, code] of cases) {
      expectRefusal(await lab().get(samplesPath(DS.hs), token === undefined ? {} : { token }), status, code);
    }
    expectRefusal(
      await lab().get(samplesPath(DS.hs), { origin: 'http://evil.test' }),
      403,
      'embedder_not_allowed',
    );
  });

  it("the logged reason for a refusal is the server's own sentence, never a library message", () => {
    const refusals = lab()
      .server.stderr()
      .split('\n')
      .filter((line) => line.includes('"event":"refused"'))
      .map((line) => JSON.parse(line) as { code: string; reason: unknown });
    expect(refusals.length).toBeGreaterThan(5);
    for (const r of refusals) {
      expect(VIZ_ERROR_CODES.has(r.code)).toBe(true);
      expect(String(r.reason)).not.toMatch(
        /jwt |jsonwebtoken|invalid signature|jwt malformed|Unexpected token/i,
      );
    }
  });
});

describe('log injection through request fields (OWASP Logging cheat sheet "injection"; CWE-117)', () => {
  it('an Origin holding JSON text is logged as one escaped value', async () => {
    const origin = 'http://x.test","level":"error","event":"forged';
    expectRefusal(await lab().get(samplesPath(DS.hs), { origin }), 403, 'embedder_not_allowed');
  });

  it('a path holding an encoded newline and JSON text is logged as one escaped value', async () => {
    const reply = await lab().raw(
      `GET /termdb/samples%0A%7B%22event%22%3A%22forged%22%7D?dslabel=HsData HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    expect(reply.status).toBe(404);
  });

  it('a parameter name with a newline beside a token-shaped value is logged as one escaped value', async () => {
    const token = lab().token(DS.termdb);
    const name = encodeURIComponent('x\n{"event":"forged","level":"error"}\r\n');
    expectRefusal(await lab().get(`${barchartPath(DS.termdb)}&${name}=${token}`), 400, 'bad_request');
  });

  it('no log line has a forged event, and every refusal line names a known code', () => {
    const lines = lab()
      .server.stderr()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.some((l) => l.event === 'forged')).toBe(false);
    expect(lines.filter((l) => l.event === 'refused').every((l) => VIZ_ERROR_CODES.has(String(l.code)))).toBe(
      true,
    );
  });
});

itLeavesCleanLogs(() => [lab()]);
