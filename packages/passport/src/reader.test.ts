import { publicJwk, type VerifiedJwt } from '@pp-embed/dataset-token';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyServer, NOW, NOW_MS, rsaKeys, signRs256 } from '../test/helpers.js';
import { createPassportReader, type PassportReaderOptions } from './reader.js';

// A data access committee that signs visa document tokens (jku), a broker that links identities, and an outsider
// whose key server must never be contacted.
let dac: Awaited<ReturnType<typeof keyServer>>;
let trap: Awaited<ReturnType<typeof keyServer>>;
const dacKeys = rsaKeys();
const SOURCE = 'https://dac.test/committee';

beforeAll(async () => {
  dac = await keyServer();
  trap = await keyServer();
  dac.publishKey('/visa-keys', dacKeys.publicKey, 'dac-1');
  trap.publishKey('/keys', dacKeys.publicKey, 'dac-1');
});
afterAll(async () => {
  await dac.close();
  await trap.close();
});

const dacIssuer = () => `${dac.origin}/`;

function visa(
  object: Record<string, unknown> = {},
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
  key = dacKeys.privateKey,
): string {
  return signRs256(
    { kid: 'dac-1', jku: `${dac.origin}/visa-keys`, typ: 'vnd.ga4gh.visa+jwt', ...header },
    {
      iss: dacIssuer(),
      sub: 'ana',
      iat: NOW - 60,
      exp: NOW + 3600,
      ga4gh_visa_v1: {
        type: 'ControlledAccessGrants',
        asserted: NOW - 86_400,
        value: 'phs000001.v1.p1',
        source: SOURCE,
        by: 'dac',
        ...object,
      },
      ...claims,
    },
    key,
  );
}

function passport(visas: string[], exp = NOW + 7200, sub = 'ana'): VerifiedJwt {
  return {
    header: { alg: 'RS256', kid: 'b', jku: undefined, typ: undefined },
    payload: { ga4gh_passport_v1: visas },
    iss: dacIssuer(),
    sub,
    exp,
    iat: NOW - 10,
  };
}

function reader(options: Partial<PassportReaderOptions> = {}) {
  return createPassportReader({
    visaIssuers: [{ issuer: dacIssuer(), jku: [`${dac.origin}/visa-keys`] }],
    visas: [
      { value: 'phs000001.v1.p1', source: [SOURCE], by: ['dac'], dataset: 'TermdbTest', path: 'visas[0]' },
      { value: 'phs000002.v1.p1', source: [SOURCE], dataset: 'Other', cohorts: ['ABC'], path: 'visas[1]' },
    ],
    now: () => NOW_MS,
    keys: { background: false },
    ...options,
  });
}

const read = async (
  visas: string[],
  options: Partial<PassportReaderOptions> = {},
  holder = passport(visas),
) => reader(options).read(visas.join('~'), holder);

describe('a ControlledAccessGrants visa', () => {
  it('grants the dataset its value maps to, until the earlier of the visa and the passport expiry', async () => {
    const result = await read([visa()]);
    expect(result.grants).toEqual([
      expect.objectContaining({ dataset: 'TermdbTest', cohorts: null, visa: 0 }),
    ]);
    expect(result.visas[0]).toMatchObject({ accepted: true, type: 'ControlledAccessGrants' });
    expect(result.expiresAt).toBe(NOW + 3600);
  });

  it('grants cohorts when its row names them', async () => {
    const result = await read([visa({ value: 'phs000002.v1.p1', by: undefined })]);
    expect(result.grants).toEqual([expect.objectContaining({ dataset: 'Other', cohorts: ['ABC'] })]);
  });

  it('for a value the table does not list grants nothing', async () => {
    const result = await read([visa({ value: 'phs999999.v1.p1' })]);
    expect(result.grants).toEqual([]);
    expect(result.visas[0]).toMatchObject({ accepted: false, refusal: 'no_rule' });
  });

  it('from a source not in the allow-list grants nothing', async () => {
    const result = await read([visa({ source: 'https://other-dac.test' })]);
    expect(result.visas[0]).toMatchObject({ refusal: 'source_not_allowed' });
  });

  it('asserted by someone the row does not accept grants nothing', async () => {
    const result = await read([visa({ by: 'self' })]);
    expect(result.visas[0]).toMatchObject({ refusal: 'by_not_allowed' });
  });

  it('with conditions grants nothing: conditions are not evaluated', async () => {
    const result = await read([visa({ conditions: [[{ type: 'AffiliationAndRole', value: 'const:x' }]] })]);
    expect(result.grants).toEqual([]);
    expect(result.visas[0]).toMatchObject({ refusal: 'conditions' });
  });

  it('that has expired grants nothing', async () => {
    const result = await read([visa({}, { iat: NOW - 7200, exp: NOW - 60 })]);
    expect(result.visas[0]).toMatchObject({ refusal: 'expired' });
  });

  it('asserted in the future grants nothing', async () => {
    const result = await read([visa({ asserted: NOW + 3600 })]);
    expect(result.visas[0]).toMatchObject({ refusal: 'asserted_in_future' });
  });

  it('signed with another key under the trusted issuer name grants nothing', async () => {
    const result = await read([visa({}, {}, {}, rsaKeys().privateKey)]);
    expect(result.visas[0]).toMatchObject({ refusal: 'signature' });
  });

  it('from an issuer that is not trusted grants nothing', async () => {
    const result = await read([visa({}, { iss: 'https://rogue.test/' })]);
    expect(result.visas[0]).toMatchObject({ refusal: 'issuer_not_trusted' });
  });
});

describe('jku', () => {
  it('pointing anywhere but a registered key set is refused before anything is fetched', async () => {
    const result = await read([visa({}, {}, { jku: `${trap.origin}/keys` })]);
    expect(result.visas[0]).toMatchObject({ refusal: 'jku_not_registered' });
    expect(trap.hits['/keys']).toBeUndefined();
  });

  it('missing, from an issuer that signs with one, is refused', async () => {
    const result = await read([visa({}, {}, { jku: undefined })]);
    expect(result.visas[0]).toMatchObject({ refusal: 'jku_missing' });
  });
});

describe('visas for another subject', () => {
  const other = () => visa({}, { sub: 'ana-at-dac' });
  const link = (issuer = dacIssuer()) =>
    visa(
      { type: 'LinkedIdentities', value: `ana-at-dac,${encodeURIComponent(dacIssuer())}`, by: undefined },
      { iss: issuer },
    );

  it('grant nothing on their own', async () => {
    const result = await read([other()]);
    expect(result.visas[0]).toMatchObject({ refusal: 'subject_not_linked' });
  });

  it('grant through a LinkedIdentities visa of an issuer trusted to link', async () => {
    const options = {
      visaIssuers: [{ issuer: dacIssuer(), jku: [`${dac.origin}/visa-keys`], linkedIdentities: true }],
    };
    const result = await read([other(), link()], options);
    expect(result.grants).toEqual([expect.objectContaining({ dataset: 'TermdbTest', visa: 0 })]);
    expect(result.visas[1]).toMatchObject({ accepted: true, type: 'LinkedIdentities' });
  });

  it('grant nothing through a LinkedIdentities visa of an issuer not trusted to link', async () => {
    const result = await read([other(), link()]);
    expect(result.visas[0]).toMatchObject({ refusal: 'subject_not_linked' });
    expect(result.visas[1]).toMatchObject({ refusal: 'links_not_trusted' });
  });
});

describe('the cache', () => {
  it('keeps a passport outcome by its hash until the earliest expiry, then reads it again', async () => {
    const clock = { now: NOW_MS };
    const r = reader({ now: () => clock.now });
    const visas = [visa({}, { exp: NOW + 600 })];
    const first = await r.read('passport-1', passport(visas));
    expect(await r.read('passport-1', passport(visas))).toBe(first);
    clock.now = (NOW + 700) * 1000;
    const later = await r.read('passport-1', passport(visas, NOW + 7200));
    expect(later).not.toBe(first);
    expect(later.grants).toEqual([]);
    expect(later.visas[0]).toMatchObject({ refusal: 'expired' });
  });
  it('keeps no outcome in which a visa lacked its key: once the key is published, the visa grants', async () => {
    const rotated = rsaKeys();
    const clock = { now: NOW_MS };
    const r = reader({ now: () => clock.now, keys: { background: false, cooldownMs: 1000 } });
    const visas = [visa({}, {}, { kid: 'dac-2' }, rotated.privateKey)];
    const first = await r.read('passport-2', passport(visas));
    expect(first.visas[0]).toMatchObject({ accepted: false, refusal: 'key_unavailable' });
    dac.publish('/visa-keys', {
      keys: [publicJwk(dacKeys.publicKey, 'RS256', 'dac-1'), publicJwk(rotated.publicKey, 'RS256', 'dac-2')],
    });
    clock.now += 2000;
    const second = await r.read('passport-2', passport(visas));
    expect(second.visas[0]).toMatchObject({ accepted: true });
    expect(second.grants.map((g) => g.dataset)).toEqual(['TermdbTest']);
    dac.publishKey('/visa-keys', dacKeys.publicKey, 'dac-1');
  });
});

it('never reads more than maxVisas visas from one passport', async () => {
  const result = await read([visa(), visa(), visa()], { maxVisas: 2 });
  expect(result.visas).toHaveLength(2);
});

it('refuses HS algorithms for a visa issuer at construction', () => {
  expect(() => reader({ visaIssuers: [{ issuer: 'https://x.test', algorithms: ['HS256'] }] })).toThrow(
    /cannot check a visa/,
  );
});

it('skips no visa silently: each has an outcome with a reason', async () => {
  const result = await read([visa(), 'not a jwt', visa({ type: 'AffiliationAndRole', value: 'faculty@x' })]);
  expect(result.visas.map((v) => v.refusal ?? 'accepted')).toEqual([
    'accepted',
    'issuer_not_trusted',
    'type_not_used',
  ]);
});
