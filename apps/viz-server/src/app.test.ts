import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { body, CLIENT_IP, demoDataset, errorCode, harness, PORTAL, PORTAL_HOST } from '../test/harness.js';
import { readBundle } from './http/bundle.js';
import { generateApiToken } from '@pp-embed/api-token';

function sqlCounts(term: string, cohort?: string): Map<string, number> {
  const db = new Database(demoDataset(), { readonly: true });
  try {
    const rows = (
      cohort === undefined
        ? db
            .prepare('SELECT value, count(*) AS n FROM anno_categorical WHERE term_id = ? GROUP BY value')
            .all(term)
        : db
            .prepare(
              `SELECT value, count(*) AS n FROM anno_categorical
               WHERE term_id = ? AND sample IN (SELECT sample FROM subcohort_samples WHERE subcohort = ?) GROUP BY value`,
            )
            .all(term, cohort)
    ) as { value: string; n: number }[];
    return new Map(rows.map((r) => [r.value, r.n]));
  } finally {
    db.close();
  }
}

type Bars = { key: string; count: number | null; suppressed: boolean }[];

describe('the visualization server', () => {
  const h = harness();

  it('answers the healthcheck with every dataset`s state, never cached', async () => {
    const res = await h.get('/healthcheck');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await body(res)).toEqual({
      status: 'ok',
      datasets: ['PPDemo'],
      checks: {
        datasets: [
          { label: 'PPDemo', status: 'ok', version: null, since: expect.any(String), problem: null },
        ],
        keySets: [],
        revocationFeeds: [],
        embedderRegistry: null,
      },
    });
  });

  it('reports a JWKS URL it cannot fetch as an unavailable key set, and itself as degraded', async () => {
    const keyless = harness({
      dsCredentials: {
        PPDemo: { termdb: { [PORTAL_HOST]: { type: 'jwt', jwks: 'http://127.0.0.1:9/jwks.json' } } },
      },
    });
    await keyless.config.policy.ready().catch(() => undefined);
    const res = await keyless.get('/healthcheck');
    expect(res.status).toBe(200);
    expect(await body(res)).toMatchObject({
      status: 'degraded',
      checks: {
        keySets: [
          {
            url: 'http://127.0.0.1:9/jwks.json',
            status: 'unavailable',
            keys: 0,
            ageSeconds: null,
            problem: expect.any(String),
          },
        ],
      },
    });
  });

  describe('while the server drains', () => {
    const draining = harness({}, { lifecycle: { draining: true } });

    it('answers a data request 503 server_draining with Retry-After, readable by the embedding page', async () => {
      const res = await draining.get('/termdb/barchart?dslabel=PPDemo&term=sex');
      expect(res.status).toBe(503);
      expect(await errorCode(res)).toBe('server_draining');
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.headers.get('access-control-allow-origin')).toBe(PORTAL);
    });

    it('says "draining" with a 503 at /healthcheck, so that a load balancer stops sending requests', async () => {
      const res = await draining.get('/healthcheck');
      expect(res.status).toBe(503);
      expect(await body(res)).toMatchObject({ status: 'draining', datasets: ['PPDemo'] });
    });
  });

  describe('a dataset whose file cannot be read', () => {
    it('is answered 503 dataset_unavailable and reported by /healthcheck until a good file is back', async () => {
      const { copyFileSync, readFileSync, writeFileSync } = await import('node:fs');
      const { join } = await import('node:path');
      const dir = harness().dir;
      const file = join(dir, 'PPDemo-copy.db');
      copyFileSync(demoDataset(), file);
      const live = harness({ datasets: [{ label: 'PPDemo', genome: 'hg38', file, minSampleSize: 5 }] });
      writeFileSync(file, 'not a database any more');
      await live.datasets.check();

      const res = await live.get('/termdb/barchart?dslabel=PPDemo&term=sex');
      expect(res.status).toBe(503);
      expect(await errorCode(res)).toBe('dataset_unavailable');
      expect(res.headers.get('retry-after')).toBe('5');
      const health = await live.get('/healthcheck');
      expect(health.status).toBe(200);
      expect(await body(health)).toMatchObject({
        status: 'degraded',
        checks: { datasets: [{ label: 'PPDemo', status: 'unavailable' }] },
      });

      writeFileSync(file, readFileSync(demoDataset()));
      await live.datasets.check();
      expect((await live.get('/termdb/barchart?dslabel=PPDemo&term=sex')).status).toBe(200);
      expect(await body(await live.get('/healthcheck'))).toMatchObject({ status: 'ok' });
      live.datasets.close();
    });
  });

  describe('/termdb/config', () => {
    it('tells the embedding portal which routes need a token and in which header', async () => {
      const res = await h.get('/termdb/config?dslabel=PPDemo');
      expect(res.status).toBe(200);
      const config = await body(res);
      expect(config).toMatchObject({
        dslabel: 'PPDemo',
        genome: 'hg38',
        minSampleSize: 5,
        auth: {
          headerKey: 'x-ds-access-token',
          tokenRequired: { config: false, terms: false, barchart: false, samples: true },
        },
      });
      expect((config.rootTerms as { id: string }[]).map((t) => t.id)).toEqual([
        'demographics',
        'diagnosis',
        'followup',
      ]);
    });

    it('names a custom headerKey, and lists it for the CORS preflight', async () => {
      const custom = harness({
        dsCredentials: {
          PPDemo: {
            termdb: {
              [PORTAL_HOST]: { type: 'jwt', secret: { file: 'secret' }, headerKey: 'X-Portal-Token' },
            },
          },
        },
      });
      const config = await body(await custom.get('/termdb/config?dslabel=PPDemo'));
      expect((config.auth as { headerKey: string }).headerKey).toBe('x-portal-token');
      const preflight = await custom.app.request('/termdb/samples?dslabel=PPDemo', {
        method: 'OPTIONS',
        headers: {
          origin: PORTAL,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'x-portal-token, x-evil',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type, x-portal-token');
      expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
    });

    it('withholds the term tree under a "*" route until a token verifies', async () => {
      const locked = harness({
        dsCredentials: { PPDemo: { '*': { [PORTAL_HOST]: { type: 'jwt', secret: { file: 'secret' } } } } },
      });
      const anonymous = await body(await locked.get('/termdb/config?dslabel=PPDemo'));
      expect(anonymous.rootTerms).toBeNull();
      expect(anonymous.auth).toMatchObject({ tokenRequired: { terms: true, barchart: true, samples: true } });
      const signedIn = await body(
        await locked.get('/termdb/config?dslabel=PPDemo', { token: locked.token() }),
      );
      expect(signedIn.rootTerms).toHaveLength(3);
      expect((await locked.get('/termdb/barchart?dslabel=PPDemo&term=sex')).status).toBe(401);
    });
  });

  describe('aggregated data under a termdb credential', () => {
    it('is open, with counts equal to SQL on the file and small cells suppressed', async () => {
      const res = await h.get('/termdb/barchart?dslabel=PPDemo&term=diaggrp');
      expect(res.status).toBe(200);
      const bars = (await body(res)).bars as Bars;
      const expected = sqlCounts('diaggrp');
      for (const bar of bars) {
        const n = expected.get(bar.key) as number;
        if (n < 5) expect(bar).toMatchObject({ count: null, suppressed: true });
        else expect(bar).toMatchObject({ count: n, suppressed: false });
      }
      expect(bars.some((b) => b.suppressed)).toBe(true);
    });

    it('shows unsuppressed counts to a verified token, and only its cohorts when it has some', async () => {
      const full = (
        await body(await h.get('/termdb/barchart?dslabel=PPDemo&term=diaggrp', { token: h.token() }))
      ).bars as Bars;
      expect(full.every((b) => !b.suppressed)).toBe(true);
      expect(full.map((b) => b.count)).toEqual(full.map((b) => sqlCounts('diaggrp').get(b.key)));

      const token = h.token({ clientAuthResult: { role: 'analyst', cohorts: ['BETA'] } });
      const res = await body(await h.get('/termdb/barchart?dslabel=PPDemo&term=sex', { token }));
      const beta = sqlCounts('sex', 'BETA');
      expect(res.cohorts).toEqual(['BETA']);
      expect(Object.fromEntries((res.bars as Bars).map((b) => [b.key, b.count]))).toEqual(
        Object.fromEntries(beta),
      );
    });

    it('treats an invalid token offered on an open route as no token', async () => {
      const res = await h.get('/termdb/barchart?dslabel=PPDemo&term=diaggrp', { token: `${h.token()}x` });
      expect(res.status).toBe(200);
      expect(((await body(res)).bars as Bars).some((b) => b.suppressed)).toBe(true);
    });
  });

  describe('sample-level data', () => {
    it('is refused without a token: 401 token_missing with a Bearer challenge and CORS headers', async () => {
      const res = await h.get('/termdb/samples?dslabel=PPDemo&term=sex');
      expect(res.status).toBe(401);
      expect(await errorCode(res)).toBe('token_missing');
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="pp-embed"');
      expect(res.headers.get('access-control-allow-origin')).toBe(PORTAL);
    });

    it('is served to a granted token, within its cohorts, and audited without the token', async () => {
      const token = h.token({ clientAuthResult: { cohorts: ['ALPHA'] } });
      const res = await h.get('/termdb/samples?dslabel=PPDemo&term=sex&pageSize=20', { token });
      expect(res.status).toBe(200);
      const result = await body(res);
      expect(result.rows).toHaveLength(20);
      expect(result.total).toBe([...sqlCounts('sex', 'ALPHA').values()].reduce((a, b) => a + b, 0));
      const line = h.audit.at(-1);
      expect(line).toMatchObject({
        email: 'ana@example.org',
        dataset: 'PPDemo',
        route: 'termdb/samples',
        origin: PORTAL,
        samples: 20,
      });
      expect(line?.jti).toMatch(/^[0-9a-f-]{36}$/);
      expect(JSON.stringify(h.audit) + h.logs.join('')).not.toContain(token.split('.')[2]);
    });

    it.each([
      ['an expired token', { ttlSeconds: 1 }, -5_000, 401, 'token_expired'],
      ['a token for another dataset', { datasets: ['Other'] }, 0, 403, 'dataset_not_granted'],
      ['a token minted for another address', { ip: '198.51.100.1' }, 0, 403, 'ip_mismatch'],
      ['a token without an ip claim (strict check)', { ip: undefined }, 0, 403, 'ip_mismatch'],
    ])('refuses %s', async (_name, overrides, _shift, status, code) => {
      let token = h.token(overrides);
      if (code === 'token_expired') {
        // Sign in the past with the harness secret: a token whose exp has passed.
        const { createSigner } = await import('@pp-embed/dataset-token');
        token = createSigner({
          algorithm: 'HS256',
          key: { secret: h.secret },
          now: () => Date.now() - 3_600_000,
        }).sign({
          datasets: ['PPDemo'],
          email: 'ana@example.org',
          ip: CLIENT_IP,
        });
      }
      const res = await h.get('/termdb/samples?dslabel=PPDemo&term=sex', { token });
      expect(res.status).toBe(status);
      expect(await errorCode(res)).toBe(code);
    });

    it('refuses a token signed with another secret as token_invalid, with its stable reason and no library text', async () => {
      const other = harness();
      const res = await h.get('/termdb/samples?dslabel=PPDemo&term=sex', { token: other.token() });
      expect(res.status).toBe(401);
      const error = (await body(res)).error as { message: string };
      expect(error).toEqual({
        code: 'token_invalid',
        message: 'The access token is not valid.',
        reason: 'signature',
      });
      expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    });

    it.each([
      ['an origin that is not an embedder', 'https://evil.test'],
      ['a look-alike origin', 'http://portal.test:8080.evil.test'],
      ['Origin: null', 'null'],
    ])('refuses %s with embedder_not_allowed, even with a valid token', async (_name, origin) => {
      const res = await h.get('/termdb/samples?dslabel=PPDemo&term=sex', { token: h.token(), origin });
      expect(res.status).toBe(403);
      expect(await errorCode(res)).toBe('embedder_not_allowed');
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('refuses a request without an Origin with scripts_not_allowed where no entry accepts scripts, even with a valid token', async () => {
      const res = await h.get('/termdb/samples?dslabel=PPDemo&term=sex', { token: h.token(), origin: null });
      expect(res.status).toBe(403);
      expect(await errorCode(res)).toBe('scripts_not_allowed');
    });

    it('refuses two token headers in one request', async () => {
      const token = h.token();
      const res = await h.get('/termdb/samples?dslabel=PPDemo&term=sex', {
        headers: { 'x-ds-access-token': `${token}, ${token}` },
      });
      expect(res.status).toBe(400);
    });

    it('refuses a token in the URL and never logs it', async () => {
      const token = h.token();
      for (const query of [`token=${token}`, `access_token=${token}`, `q=${token}`]) {
        const res = await h.get(`/termdb/samples?dslabel=PPDemo&term=sex&${query}`, { token });
        expect(res.status).toBe(400);
        expect(await errorCode(res)).toBe('bad_request');
      }
      expect(h.logs.join('\n')).not.toContain(token.split('.')[1]);
    });

    it('refuses a personal API token in the URL, under any parameter name, and never logs it', async () => {
      const { token: apiToken } = generateApiToken();
      for (const query of [`x=${apiToken}`, `term=${apiToken}`, `q=${encodeURIComponent(` ${apiToken}`)}`]) {
        const res = await h.get(`/termdb/barchart?dslabel=PPDemo&term=sex&${query}`);
        expect(res.status, query).toBe(400);
        expect(await body(res)).toMatchObject({
          error: {
            code: 'bad_request',
            message: 'Send the access token in the request header, never in the URL.',
          },
        });
      }
      expect(h.logs.join('\n')).not.toContain(apiToken.slice(17));
    });
  });

  describe('bad requests get a 4xx with a stable code', () => {
    it.each([
      ['/termdb/barchart?term=sex', 400, 'bad_request'],
      ['/termdb/barchart?dslabel=PPDemo&dslabel=Other&term=sex', 400, 'bad_request'],
      ['/termdb/barchart?dslabel=../etc&term=sex', 400, 'bad_request'],
      ['/termdb/barchart?dslabel=Nope&term=sex', 404, 'dataset_not_found'],
      ['/termdb/barchart?dslabel=PPDemo', 400, 'bad_request'],
      ['/termdb/barchart?dslabel=PPDemo&term=__proto__', 404, 'term_not_found'],
      ['/termdb/barchart?dslabel=PPDemo&term=sex&term=race', 400, 'bad_request'],
      ['/termdb/terms?dslabel=PPDemo&parent=nope', 404, 'term_not_found'],
      ['/termdb/barchart?dslabel=PPDemo&term=demographics', 422, 'term_not_supported'],
      ['/termdb/samples?dslabel=PPDemo&term=sex&pageSize=100000', 400, 'bad_request'],
      ['/termdb/samples?dslabel=PPDemo&term=sex&page=-1', 400, 'bad_request'],
      ['/nope', 404, 'not_found'],
    ])('%s → %i %s', async (path, status, code) => {
      const needsToken = path.startsWith('/termdb/samples');
      const res = await h.get(path, needsToken ? { token: h.token() } : {});
      expect(res.status).toBe(status);
      expect(await errorCode(res)).toBe(code);
    });
  });

  describe('logs under a flood', () => {
    it('writes a bounded number of refusal lines per code, origin and address', async () => {
      const flood = harness();
      for (let i = 0; i < 200; i++) await flood.get('/termdb/samples?dslabel=PPDemo&term=sex');
      for (let i = 0; i < 30; i++) {
        await flood.get('/termdb/samples?dslabel=PPDemo&term=sex', { ip: '198.51.100.9' });
      }
      const refused = flood.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
      const lines = refused.filter((l) => l.event === 'refused');
      expect(lines.filter((l) => l.address === CLIENT_IP)).toHaveLength(10);
      expect(lines.filter((l) => l.address === '198.51.100.9')).toHaveLength(10);
      expect(lines[0]).toMatchObject({ code: 'token_missing', origin: PORTAL, address: CLIENT_IP });
    });

    it('never drops an audit line of a granted sample-level answer', async () => {
      const flood = harness();
      const token = flood.token();
      for (let i = 0; i < 200; i++) {
        expect((await flood.get('/termdb/samples?dslabel=PPDemo&term=sex', { token })).status).toBe(200);
      }
      expect(flood.audit).toHaveLength(200);
    });
  });

  it('answers another method on a data route with 405 and Allow', async () => {
    const res = await h.app.request('/termdb/barchart?dslabel=PPDemo&term=sex', {
      method: 'POST',
      headers: { origin: PORTAL },
    });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(await errorCode(res)).toBe('method_not_allowed');
  });

  describe('CORS', () => {
    it('allows exactly the embedders, with Vary: Origin on every response', async () => {
      const allowed = await h.get('/termdb/terms?dslabel=PPDemo');
      expect(allowed.headers.get('access-control-allow-origin')).toBe(PORTAL);
      const other = await h.get('/termdb/terms?dslabel=PPDemo', { origin: 'https://evil.test' });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      expect(other.headers.get('vary')).toContain('Origin');
      expect((await h.get('/healthcheck')).headers.get('vary')).toContain('Origin');
    });

    it('adds configured extra origins', async () => {
      const extra = harness({ corsOrigins: ['https://docs.example.org'] });
      const res = await extra.get('/termdb/terms?dslabel=PPDemo', { origin: 'https://docs.example.org' });
      expect(res.headers.get('access-control-allow-origin')).toBe('https://docs.example.org');
      const config = await extra.get('/termdb/config?dslabel=PPDemo', { origin: 'https://docs.example.org' });
      expect(config.status).toBe(200);
    });

    it('tells a page on an unlisted origin, in the one answer it may read, that it is no embedder; nothing else', async () => {
      const res = await h.get('/termdb/config?dslabel=PPDemo', { origin: 'https://evil.test' });
      expect(res.status).toBe(403);
      expect(res.headers.get('access-control-allow-origin')).toBe('https://evil.test');
      expect(await body(res)).toEqual({
        error: { code: 'embedder_not_allowed', message: 'This site is not allowed to embed this dataset.' },
      });
      for (const path of ['/termdb/terms?dslabel=PPDemo', '/termdb/barchart?dslabel=PPDemo&term=sex']) {
        const other = await h.get(path, { origin: 'https://evil.test' });
        expect(other.headers.get('access-control-allow-origin')).toBeNull();
      }
      // A request that is not a page's (no Origin, or an opaque one) is answered as before.
      expect((await h.get('/termdb/config?dslabel=PPDemo', { origin: null })).status).toBe(200);
      expect((await h.get('/termdb/config?dslabel=PPDemo', { origin: 'null' })).status).toBe(200);
    });
  });

  describe('/bin/proteinpaint.js', () => {
    it('answers a plain 404 with a clear message before the widget is built', async () => {
      const res = await h.get('/bin/proteinpaint.js');
      expect(res.status).toBe(404);
      expect(await res.text()).toContain('proteinpaint.js has not been built');
    });

    it('serves the bundle with a content-hash ETag, 304 on a match, long caching for a versioned URL', async () => {
      const { writeFileSync } = await import('node:fs');
      const { join } = await import('node:path');
      const file = join(h.dir, 'proteinpaint.js');
      writeFileSync(file, 'window.runproteinpaint = () => {};');
      const bundle = readBundle(file);
      const served = harness({}, bundle === undefined ? {} : { bundle });
      const res = await served.get('/bin/proteinpaint.js');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(res.headers.get('etag')).toBe(bundle?.etag);
      expect(
        (await served.get('/bin/proteinpaint.js', { headers: { 'if-none-match': bundle?.etag ?? '' } }))
          .status,
      ).toBe(304);
      const pinned = await served.get(`/bin/proteinpaint.js?v=${bundle?.version}`);
      expect(pinned.headers.get('cache-control')).toContain('immutable');
    });
  });
});
