import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decide } from '@pp-embed/access-policy';
import { createSigner, generateSecret } from '@pp-embed/dataset-token';
import { ConfigError } from '@pp-embed/server-runtime';
import { ROUTES } from '@pp-embed/viz-api';
import { describe, expect, it } from 'vitest';
import { loadServerConfig, serverConfigJsonSchema } from './load.js';

function write(config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'pp-server-config-'));
  const file = join(dir, 'serverconfig.json');
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config));
  return file;
}

function problems(file: string): string[] {
  try {
    loadServerConfig(file, { env: {} });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected a ConfigError');
}

const dataset = { label: 'TermdbTest', genome: 'hg38', file: 'TermdbTest.db', minSampleSize: 5 };

describe('loadServerConfig', () => {
  it('reads the settings, resolves dataset files against the config folder, and never opens them without an opener', () => {
    const file = write({
      '#': 'comment',
      port: 4000,
      datasets: [dataset],
      corsOrigins: ['https://a.example'],
    });
    const config = loadServerConfig(file);
    expect(config).toMatchObject({ port: 4000, host: '127.0.0.1', tokenLeeway: 5, drainSeconds: 10 });
    expect(config.datasets.get('TermdbTest')).toMatchObject({
      file: join(file, '..', 'TermdbTest.db'),
      disclosure: {
        anonymous: {
          rule: { threshold: 5, hiddenAs: '<5', complementary: true },
          path: 'datasets[0].minSampleSize',
        },
        sampleRows: 'protected',
      },
      path: 'datasets[0]',
    });
    expect([...config.corsOrigins]).toEqual(['https://a.example']);
  });

  it('gives every verifier the tokenLeeway of the file', async () => {
    const secret = generateSecret();
    const now = Date.UTC(2026, 10, 23);
    const minted = createSigner({ algorithm: 'HS256', key: { secret }, now: () => now - 62_000 }).sign({
      datasets: ['TermdbTest'],
      email: 'a@b.org',
      ttlSeconds: 60,
    });
    const credentials = { TermdbTest: { '*': { '*': { type: 'jwt', secret, looseIpCheck: true } } } };
    const decideWith = async (tokenLeeway: number) => {
      const { policy } = loadServerConfig(
        write({ datasets: [dataset], tokenLeeway, dsCredentials: credentials }),
        {
          now: () => now,
        },
      );
      return decide(policy, {
        dataset: 'TermdbTest',
        route: ROUTES.samples,
        origin: 'https://portal.example.org',
        header: () => minted,
      });
    };
    expect((await decideWith(5)).allowed).toBe(true);
    expect(await decideWith(0)).toMatchObject({ allowed: false, code: 'token_expired' });
  });

  it('calls the opener for each dataset, reports what it throws at the file, and closes what it opened', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-server-config-'));
    writeFileSync(join(dir, 'a.db'), 'a');
    writeFileSync(join(dir, 'b.db'), 'b');
    writeFileSync(
      join(dir, 'serverconfig.json'),
      JSON.stringify({
        datasets: [
          { label: 'A', genome: 'hg38', file: 'a.db' },
          { label: 'B', genome: 'hg38', file: 'b.db' },
        ],
      }),
    );
    const closed: string[] = [];
    let caught: unknown;
    try {
      loadServerConfig(join(dir, 'serverconfig.json'), {
        datasets: {
          open: (d) => {
            if (d.label === 'B') throw new Error('not a termdb file');
            return d.label;
          },
          close: (label) => closed.push(label),
        },
      });
    } catch (error) {
      caught = error;
    }
    expect((caught as ConfigError).problems).toEqual([
      { path: 'datasets[1].file', message: 'not a termdb file' },
    ]);
    expect(closed).toEqual(['A']);
  });

  it('reports every problem at once, each with its JSON path', () => {
    expect(
      problems(
        write({
          datasets: [
            dataset,
            { label: 'TermdbTest', genome: 'hg38', file: 'x.db' },
            { label: 'a/b', genome: 'hg38', file: 'y.db' },
          ],
          trustProxy: ['10.0.0.0/8', '10.0.0.0/99', 'proxy.local'],
          corsOrigins: ['https://bad.example.org/path'],
          tokenLeeway: 600,
          drainSeconds: -1,
          colour: 'blue',
          dsCredentials: {
            TermdbTest: { '*': { 'portal.example.org': { type: 'jwt', secret: 'x'.repeat(12) } } },
          },
        }),
      ),
    ).toEqual([
      'colour: is not a known setting',
      'corsOrigins[0]: expected an origin such as "https://portal.example.org" (scheme, host, optional port; no path)',
      'tokenLeeway: expected a whole number of seconds from 0 to 60',
      'drainSeconds: expected a whole number of seconds from 0 to 300',
      'trustProxy[1]: the prefix length must be 0 to 32',
      'trustProxy[2]: expected an IP address or a CIDR range such as 10.0.0.0/8',
      'datasets[1].label: "TermdbTest" is used by another dataset',
      'datasets[2].label: expected a dataset label: a letter or digit, then letters, digits, "_", "." or "-"',
      'dsCredentials.TermdbTest.*.portal.example.org.secret: 12 bytes, HS256 needs at least 32',
    ]);
  });

  it('suggests the setting a misspelt one meant, and says what to do with a ProteinPaint one', () => {
    expect(
      problems(write({ datasets: [{ ...dataset, minSampelSize: 3 }], trustproxy: [], genomes: [] })),
    ).toEqual([
      'trustproxy: is not a known setting; did you mean "trustProxy"?',
      'genomes: ProteinPaint\'s genomes: list each termdb dataset in "datasets" ({"label", "genome", "file"})',
      'datasets[0].minSampelSize: is not a known setting; did you mean "minSampleSize"?',
    ]);
  });

  it('refuses a dsCredentials key that names no declared dataset, suggesting the label it meant', () => {
    const secret = generateSecret();
    expect(
      problems(
        write({
          datasets: [dataset],
          dsCredentials: { termdbtest: { '*': { '*': { type: 'jwt', secret } } } },
        }),
      ),
    ).toEqual([
      'dsCredentials.termdbtest: names no dataset this server serves; did you mean "TermdbTest"? (labels are compared exactly)',
    ]);
    // An optional dataset whose file is missing is still declared: its credentials are no mistake.
    const file = write({
      datasets: [dataset, { label: 'Later', genome: 'hg38', file: 'later.db', optional: true }],
      dsCredentials: { Later: { '*': { '*': { type: 'forbidden' } } } },
    });
    writeFileSync(join(file, '..', 'TermdbTest.db'), '');
    const config = loadServerConfig(file, { datasets: { open: (d) => d.label, close: () => undefined } });
    expect([...config.datasets.keys()]).toEqual(['TermdbTest']);
    expect(config.policy.entries.map((e) => e.path)).toEqual(['dsCredentials.Later.*.*']);
  });

  it('reads dsCredentials from the JSON file it names, relative to the config, and its secret files relative to that file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-server-config-'));
    mkdirSync(join(dir, 'credentials'));
    writeFileSync(join(dir, 'credentials', 'portal.secret'), generateSecret());
    writeFileSync(
      join(dir, 'credentials', 'dscredentials.json'),
      JSON.stringify({
        TermdbTest: { termdb: { 'portal.example.org': { type: 'jwt', secret: { file: 'portal.secret' } } } },
      }),
    );
    writeFileSync(
      join(dir, 'serverconfig.json'),
      JSON.stringify({ datasets: [dataset], dsCredentials: 'credentials/dscredentials.json' }),
    );
    const { policy } = loadServerConfig(join(dir, 'serverconfig.json'));
    expect(policy.entries.map((e) => e.path)).toEqual([
      'dsCredentials(credentials/dscredentials.json).TermdbTest.termdb.portal.example.org',
    ]);
  });

  it.each([
    ['a file that is not there', 'missing.json', undefined, /^dsCredentials: .*missing\.json not found$/],
    [
      'a file that is not JSON',
      'creds.json',
      '{ "TermdbTest": ',
      /^dsCredentials: .*creds\.json is not valid JSON$/,
    ],
    [
      'a block with a mistake',
      'creds.json',
      '{ "TermdbTest": { "*": { "*": { "type": "nope" } } } }',
      /^dsCredentials\(creds\.json\)\.TermdbTest\.\*\.\*\.type: unknown type "nope"/,
    ],
  ])('names the dsCredentials file in its problems: %s', (_name, name, text, expected) => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-server-config-'));
    if (text !== undefined) writeFileSync(join(dir, name), text);
    writeFileSync(
      join(dir, 'serverconfig.json'),
      JSON.stringify({ datasets: [dataset], dsCredentials: name }),
    );
    const found = problems(join(dir, 'serverconfig.json'));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(expected);
  });

  it.each([
    ['a file that is not JSON', '{ "datasets": ', '(root): not valid JSON'],
    ['a file that is a list', '[]', '(root): expected a JSON object'],
    ['no datasets', { datasets: [] }, 'datasets: expected at least one dataset'],
  ])('stops on %s', (_name, config, message) => {
    expect(problems(write(config))).toContain(message);
  });

  it('names a missing file', () => {
    expect(problems(join(tmpdir(), 'no-such-dir', 'serverconfig.json'))).toEqual(['(root): file not found']);
  });

  it('builds the trusted-proxy rule from trustProxy', () => {
    const { proxies } = loadServerConfig(write({ datasets: [dataset], trustProxy: ['10.0.0.0/8'] }));
    expect(proxies.clientAddress('10.1.2.3', '1.1.1.1, 203.0.113.9')).toBe('203.0.113.9');
  });
});

describe('serverConfigJsonSchema', () => {
  it('describes every setting, with dsCredentials from the access-policy package', () => {
    const schema = serverConfigJsonSchema() as {
      properties: Record<string, { title?: string }>;
      required: string[];
    };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['datasets', 'dsCredentials', 'trustProxy', 'corsOrigins', 'tokenLeeway']),
    );
    expect(schema.properties.dsCredentials?.title).toBe('dsCredentials');
    expect(schema.required).toContain('datasets');
  });
});

describe('disclosure rules', () => {
  const withDisclosure = (disclosure: unknown, extra: Record<string, unknown> = {}) =>
    write({ datasets: [{ label: 'T', genome: 'hg38', file: 'T.db', disclosure, ...extra }] });
  const read = (disclosure: unknown) =>
    loadServerConfig(withDisclosure(disclosure)).datasets.get('T')?.disclosure;

  it('takes a preset per tier, and lets a tier not given inherit the one below', () => {
    const d = read({ anonymous: 'all-of-us', signedIn: 'genomics-england' });
    expect(d?.anonymous).toEqual({
      rule: {
        threshold: 21,
        hiddenAs: '≤20',
        rounding: 1,
        noise: 0,
        complementary: true,
        preset: 'all-of-us',
      },
      path: 'datasets[0].disclosure.anonymous',
    });
    expect(d?.signedIn.rule).toMatchObject({ threshold: 5, hiddenAs: '<5', preset: 'genomics-england' });
    expect(d?.granted).toBe(d?.signedIn);
    expect(d?.sampleRows).toBe('protected');
  });

  it('overrides a preset with the settings beside it, and writes "<k" for a threshold of its own', () => {
    expect(read({ anonymous: { preset: 'opensafely', rounding: 1 } })?.anonymous.rule).toMatchObject({
      threshold: 8,
      hiddenAs: '≤7',
      rounding: 1,
      preset: 'opensafely',
    });
    expect(read({ anonymous: { preset: 'pic-sure', threshold: 20 } })?.anonymous.rule).toMatchObject({
      threshold: 20,
      hiddenAs: '<20',
      noise: 3,
    });
    expect(read({ anonymous: { threshold: 11, hiddenAs: '1–10' }, granted: 'exact' })).toMatchObject({
      anonymous: {
        rule: { threshold: 11, hiddenAs: '1–10', rounding: 1, noise: 0, complementary: true, preset: null },
      },
      granted: { rule: null, path: 'datasets[0].disclosure.granted' },
    });
  });

  it('needs no rule at all: every count is exact, as before', () => {
    const d = loadServerConfig(
      write({ datasets: [{ label: 'T', genome: 'hg38', file: 'T.db' }] }),
    ).datasets.get('T');
    expect(d?.disclosure.anonymous.rule).toBeNull();
  });

  it('stops at start on an inconsistent rule, naming its JSON path', () => {
    expect(problems(withDisclosure({ anonymous: { threshold: 5, rounding: 10 } }))).toEqual([
      'datasets[0].disclosure.anonymous.rounding: rounding 10 is larger than the threshold 5: a count the rule shows could be rounded to 0',
    ]);
    expect(problems(withDisclosure({ anonymous: { preset: 'pic-sure', threshold: 3 } }))).toEqual([
      'datasets[0].disclosure.anonymous.threshold: noise 3 is not below the threshold 3: a count the rule shows could be moved to 0',
    ]);
    expect(problems(withDisclosure({ anonymous: 'genomics_england' }))).toEqual([
      'datasets[0].disclosure.anonymous: unknown preset "genomics_england"; expected one of "all-of-us", "genomics-england", "opensafely", "pic-sure", "exact"',
    ]);
    expect(problems(withDisclosure({ signedIn: { preset: 'nhs' } }))).toEqual([
      'datasets[0].disclosure.signedIn.preset: unknown preset "nhs"; expected one of "all-of-us", "genomics-england", "opensafely", "pic-sure"',
    ]);
    expect(problems(withDisclosure({ anonymous: { rounding: 5 } }))).toEqual([
      'datasets[0].disclosure.anonymous: give a "preset" or a "threshold"',
    ]);
    expect(
      problems(
        withDisclosure({ anonymous: { threshold: 0, hiddenAs: '', noise: -1, cap: 3 }, everyone: 'exact' }),
      ),
    ).toEqual([
      'datasets[0].disclosure.everyone: is not a known setting',
      'datasets[0].disclosure.anonymous.cap: is not a known setting',
      'datasets[0].disclosure.anonymous.threshold: expected a whole number from 1 to 10000',
      'datasets[0].disclosure.anonymous.noise: expected a whole number from 0 to 100',
      'datasets[0].disclosure.anonymous.hiddenAs: expected a short text such as "<5"',
    ]);
    expect(problems(withDisclosure({ anonymous: 'exact', granted: 'genomics-england' }))).toEqual([
      "datasets[0].disclosure.granted: threshold 5 is above the signedIn rule's (1): granted users would see less than signed-in users without a grant, who can always ask without a token",
    ]);
    expect(problems(withDisclosure({ anonymous: 'opensafely' }, { minSampleSize: 5 }))).toEqual([
      'datasets[0].minSampleSize: is the short form of disclosure.anonymous; with a disclosure block, give the threshold there',
    ]);
    expect(problems(withDisclosure({ sampleRows: 'yes' }))).toEqual([
      'datasets[0].disclosure.sampleRows: expected "protected" or "public"',
    ]);
  });

  it('warns when rows are published beside a rule that hides counts, or complementary suppression is off', () => {
    const { warnings } = loadServerConfig(
      withDisclosure({ anonymous: { threshold: 5, complementary: false }, sampleRows: 'public' }),
    );
    expect(warnings).toEqual([
      'datasets[0].disclosure.anonymous.complementary: false: hidden counts can be worked out from totals and other answers',
      'datasets[0].disclosure.sampleRows: "public" publishes the sample rows to anyone, so the counts its rules hide can be counted from the rows',
    ]);
  });

  it('describes the disclosure block in the JSON Schema, presets included', () => {
    const schema = JSON.stringify(serverConfigJsonSchema());
    for (const word of ['"signedIn"', '"sampleRows"', '"genomics-england"', '"hiddenAs"'])
      expect(schema).toContain(word);
  });
});

describe('trusted issuers', () => {
  const university = {
    issuer: 'https://login.university.test',
    audience: 'https://viz.test',
    grants: [{ scope: 'pp:dataset:TermdbTest', dataset: 'TermdbTest' }],
  };

  it('are read with the file and given to the entries that name them', () => {
    const { policy } = loadServerConfig(
      write({
        datasets: [dataset],
        trustedIssuers: { university },
        dsCredentials: { TermdbTest: { termdb: { '*': { type: 'jwt', issuers: ['university'] } } } },
      }),
    );
    const entry = policy.entries[0];
    expect(entry?.type === 'jwt' && entry.issuers.map((i) => [i.name, i.issuer])).toEqual([
      ['university', 'https://login.university.test'],
    ]);
    expect(policy.keySets()).toEqual([
      expect.objectContaining({
        url: 'https://login.university.test/.well-known/openid-configuration',
        status: 'unavailable',
      }),
    ]);
  });

  it('report their mistakes with the others, each with its JSON path', () => {
    expect(
      problems(
        write({
          datasets: [dataset],
          trustedIssuers: {
            university: { ...university, audience: undefined },
            lab: { ...university, issuer: 'ftp://x' },
          },
          passports: { visaIssuers: [], visas: [] },
          dsCredentials: { TermdbTest: { termdb: { '*': { type: 'jwt', issuers: ['nobody'] } } } },
        }),
      ),
    ).toEqual([
      expect.stringMatching(/^passports\.visaIssuers: /),
      expect.stringMatching(/^passports\.visas: /),
      expect.stringMatching(/^trustedIssuers\.university\.audience: /),
      'trustedIssuers.lab.issuer: expected an https URL (http only on 127.0.0.1)',
      'dsCredentials.TermdbTest.termdb.*.issuers[0]: no trustedIssuers are configured',
    ]);
  });

  it('are described in the JSON Schema', () => {
    const schema = serverConfigJsonSchema() as { properties: Record<string, { title?: string }> };
    expect(schema.properties.trustedIssuers?.title).toBe('Trusted OpenID issuers');
    expect(schema.properties.passports?.title).toBe('GA4GH passports');
  });
});
