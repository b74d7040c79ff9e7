/**
 * Claims attacks with tokens that are correctly signed (the portal's key, or a stolen or misused token): another
 * dataset, `datasets` in the wrong type or with look-alike labels, prototype keys, and hostile `email` and
 * `clientAuthResult` values. Signed claims may be wrong; they must never widen access or reach a log unescaped.
 */
import { describe, expect, it } from 'vitest';
import {
  barchartPath,
  DS,
  expectGranted,
  expectRefusal,
  itLeavesCleanLogs,
  samplesPath,
  useVizLab,
} from '../harness.js';
import { b64u } from '../jws.js';

const lab = useVizLab();

const ask = async (claims: Record<string, unknown>, dataset: string = DS.hs) =>
  lab().get(samplesPath(dataset, 'sex') + '&pageSize=500', {
    token: lab().token(DS.hs, { claims }),
  });

/** A token for HsData whose payload is exactly `text`, correctly signed. */
function signedText(text: string): string {
  return lab().forge({
    header: { alg: 'HS256', typ: 'JWT' },
    payloadSegment: b64u(text),
    signWith: 'HS256',
    key: lab().keys.hs,
  });
}

const base = () => {
  const t = Math.floor(Date.now() / 1000);
  return { email: 'ana@example.org', ip: '127.0.0.1', iat: t, exp: t + 300 };
};

describe('another dataset (RFC 8725 §3.9 "use and validate audience"; PRODUCT.md "a token for another dataset: refused")', () => {
  it('a token for TermdbData is refused on HsData with dataset_not_granted', async () => {
    expectRefusal(await ask({ datasets: [DS.termdb] }), 403, 'dataset_not_granted');
  });

  it('a token for HsData is refused on StarData, which the `*` dataset key guards with the same secret', async () => {
    expectRefusal(await ask({ datasets: [DS.hs] }, DS.star), 403, 'dataset_not_granted');
  });

  it('a token for HsData is refused on a dataset with a key of its own and the same secret', async () => {
    const token = lab().token(DS.hs);
    expectRefusal(await lab().get(samplesPath(DS.termdb), { token }), 403, 'dataset_not_granted');
  });

  it('a token listing both datasets opens both (the claim is a list)', async () => {
    expectGranted(await ask({ datasets: [DS.termdb, DS.hs] }));
  });
});

describe('`datasets` of the wrong type (RFC 7519 §7.2 step 10: claims must be understood; OWASP JWT cheat sheet)', () => {
  it.each([
    ['a string', DS.hs],
    ['a comma-separated string', `${DS.hs},${DS.termdb}`],
    ['null', null],
    ['an empty list', []],
    ['a nested list', [[DS.hs]]],
    ['an object with index keys', { 0: DS.hs, length: 1 }],
    ['a list of numbers', [1, 2]],
    ['a list holding null', [null, DS.hs]],
    ['a list holding an empty label', ['', DS.hs]],
    ['true', true],
    ['a list of 1001 labels', Array.from({ length: 1001 }, (_, i) => `D${i}`)],
    ['a label of 201 characters', ['D'.repeat(201), DS.hs]],
    ['a label with a newline', [`${DS.hs}\n`]],
    ['a label with a NUL', [`${DS.hs}\u0000`]],
    ['a label with a line separator', [`${DS.hs}\u2028`]],
  ])('datasets as %s is refused', async (_what, datasets) => {
    expectRefusal(await ask({ datasets }), 401, 'token_invalid');
  });
});

describe('look-alike dataset labels are compared exactly (OWASP Input Validation cheat sheet "canonicalize"; Unicode TR #36 confusables)', () => {
  it.each([
    ['lower case', 'hsdata'],
    ['upper case', 'HSDATA'],
    ['a trailing space', `${DS.hs} `],
    ['a leading space', ` ${DS.hs}`],
    ['a no-break space', `${DS.hs}\u00a0`],
    ['a zero-width space', `${DS.hs}\u200b`],
    ['a Cyrillic "а"', 'HsDat\u0430'],
    ['a Cyrillic "ѕ"', 'H\u0455Data'],
    ['full-width letters', 'ＨｓＤａｔａ'],
    ['a combining mark', `${DS.hs}\u0301`],
    ['a prefix', 'HsDat'],
    ['the label as a prefix', `${DS.hs}2`],
    ['a trailing dot', `${DS.hs}.`],
    ['a glob', 'HsD*'],
    ['"*"', '*'],
    ['a regex', '^Hs.*$'],
  ])('datasets holding %s only is refused with dataset_not_granted', async (_what, label) => {
    expectRefusal(await ask({ datasets: [label] }), 403, 'dataset_not_granted');
  });
});

describe('prototype keys in the payload (OWASP Prototype Pollution Prevention cheat sheet; CWE-1321)', () => {
  const text = (members: string) => {
    const b = base();
    return `{"email":"${b.email}","ip":"${b.ip}","iat":${b.iat},"exp":${b.exp},${members}}`;
  };

  it('`datasets` given only through __proto__ is refused as missing', async () => {
    const token = signedText(text(`"__proto__":{"datasets":["${DS.hs}"]}`));
    expectRefusal(await lab().get(samplesPath(DS.hs), { token }), 401, 'token_invalid');
  });

  it('`datasets` for another dataset with HsData in __proto__ is refused', async () => {
    const token = signedText(text(`"datasets":["${DS.termdb}"],"__proto__":{"datasets":["${DS.hs}"]}`));
    expectRefusal(await lab().get(samplesPath(DS.hs), { token }), 403, 'dataset_not_granted');
  });

  it('`datasets` for another dataset with HsData in constructor.prototype is refused', async () => {
    const token = signedText(
      text(`"datasets":["${DS.termdb}"],"constructor":{"prototype":{"datasets":["${DS.hs}"]}}`),
    );
    expectRefusal(await lab().get(samplesPath(DS.hs), { token }), 403, 'dataset_not_granted');
  });

  it('an `ip` given only through __proto__ does not satisfy the strict address check', async () => {
    const b = base();
    const token = signedText(
      `{"datasets":["${DS.hs}"],"email":"${b.email}","iat":${b.iat},"exp":${b.exp},"__proto__":{"ip":"127.0.0.1"}}`,
    );
    expectRefusal(await lab().get(samplesPath(DS.hs), { token }), 403, 'ip_mismatch');
  });

  it('prototype keys beside valid claims pollute nothing: later requests are decided as before', async () => {
    const polluting = signedText(
      text(
        `"datasets":["${DS.hs}"],"__proto__":{"datasets":["${DS.termdb}"],"ip":"203.0.113.9","cohorts":[]},` +
          `"constructor":{"prototype":{"datasets":["${DS.termdb}"],"isAdmin":true}},` +
          `"clientAuthResult":{"__proto__":{"cohorts":["ALPHA"]},"constructor":{"prototype":{"cohorts":[]}}}`,
      ),
    );
    const before = await ask({ datasets: [DS.hs] });
    expectGranted(before);
    for (let i = 0; i < 3; i++) {
      const reply = await lab().get(samplesPath(DS.hs) + '&pageSize=500', { token: polluting });
      expect(reply.status).toBeLessThan(500);
    }
    const after = await ask({ datasets: [DS.hs] });
    expectGranted(after);
    expect((after.json as { total: number }).total).toBe((before.json as { total: number }).total);
    expectRefusal(await ask({ datasets: [DS.termdb] }), 403, 'dataset_not_granted');
    expectRefusal(await ask({ datasets: [DS.hs], ip: undefined }), 403, 'ip_mismatch');
  });
});

describe('hostile `email` (RFC 7519 §4.1.2 "sub" of the contract; OWASP Logging cheat sheet "log injection"; CWE-117)', () => {
  it.each([
    ['321 characters', `${'a'.repeat(309)}@example.org`],
    ['a newline and a forged log line', 'ana@example.org\n{"event":"sample_access","email":"root"}'],
    ['a carriage return', 'ana@example.org\r{"event":"forged"}'],
    ['a line separator', 'ana@example.org\u2028{"event":"forged"}'],
    ['a NUL', 'ana@example.org\u0000'],
    ['an ANSI escape', '\u001b[2Kana@example.org'],
    ['an empty string', ''],
    ['a number', 42],
    ['an object', { name: 'ana' }],
    ['null', null],
  ])('an email that is %s is refused', async (_what, email) => {
    expectRefusal(await ask({ datasets: [DS.hs], email }), 401, 'token_invalid');
  });

  it('an email holding JSON-looking text is accepted and written to the audit trail as one escaped value', async () => {
    const email = 'ana@example.org","event":"forged","level":"error","email":"root@example.org';
    const reply = await ask({ datasets: [DS.hs], email });
    expectGranted(reply);
    const records = lab()
      .server.stdout()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.some((r) => r.email === email && r.event === 'sample_access')).toBe(true);
    expect(records.some((r) => r.event === 'forged' || r.email === 'root@example.org')).toBe(false);
  });
});

describe('hostile `clientAuthResult` (RFC 7519 §4.3 private claims; OWASP Mass Assignment cheat sheet)', () => {
  it.each([
    ['a string', 'admin'],
    ['a list', ['admin']],
    ['a number', 1],
    ['null', null],
  ])('a clientAuthResult that is %s is refused', async (_what, clientAuthResult) => {
    expectRefusal(await ask({ datasets: [DS.hs], clientAuthResult }), 401, 'token_invalid');
  });

  it('a 6 kB clientAuthResult is accepted and answered normally', async () => {
    const clientAuthResult = { role: 'analyst', note: 'x'.repeat(4500) };
    expectGranted(await ask({ datasets: [DS.hs], clientAuthResult }));
  });

  it('a clientAuthResult nested 1000 levels deep is answered without a server fault', async () => {
    const depth = 1000;
    const nested = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const b = base();
    const token = signedText(
      `{"datasets":["${DS.hs}"],"email":"${b.email}","ip":"${b.ip}","iat":${b.iat},"exp":${b.exp},"clientAuthResult":${nested}}`,
    );
    const reply = await lab().get(samplesPath(DS.hs), { token });
    expect([200, 401]).toContain(reply.status);
  });

  it('newlines and JSON-looking text inside clientAuthResult forge no log line', async () => {
    const clientAuthResult = {
      role: 'analyst\n{"event":"forged","level":"error"}',
      '\n{"event":"forged"}': '\r\n\u2028\u2029',
      cohorts: undefined,
    };
    expectGranted(await ask({ datasets: [DS.hs], clientAuthResult }));
  });

  it('a role claim does not widen access: cohorts restrict, and a malformed cohorts list shows nothing', async () => {
    const all = await ask({ datasets: [DS.hs] });
    const alpha = await ask({ datasets: [DS.hs], clientAuthResult: { cohorts: ['ALPHA'] } });
    const total = (r: typeof all) => (r.json as { total: number }).total;
    expectGranted(all);
    expectGranted(alpha);
    expect(total(alpha)).toBeGreaterThan(0);
    expect(total(alpha)).toBeLessThan(total(all));
    for (const cohorts of ['ALPHA', [1], {}, [null], '*', ['*'], ['ALPHA', 2]]) {
      const reply = await ask({ datasets: [DS.hs], clientAuthResult: { cohorts } });
      expectGranted(reply);
      expect(total(reply), JSON.stringify(cohorts)).toBe(0);
    }
    const many = await ask({
      datasets: [DS.hs],
      clientAuthResult: { cohorts: Array.from({ length: 700 }, (_, i) => `C${i}`) },
    });
    expectGranted(many);
    expect(total(many)).toBe(0);
  });

  it('a forged token on an open aggregated route gets the anonymous answer, not the verified one', async () => {
    const path = barchartPath(DS.termdb, 'race');
    const anonymous = await lab().get(path);
    const forged = lab().forge({
      header: { alg: 'HS256' },
      payload: { datasets: [DS.termdb], ...base() },
      signWith: 'HS256',
      key: 'an attacker secret of thirty-two bytes at least!!',
    });
    const withForged = await lab().get(path, { token: forged });
    expect(anonymous.status).toBe(200);
    expect(withForged.status).toBe(200);
    expect(withForged.json).toEqual(anonymous.json);
    // Not vacuous: the race chart has a cell under minSampleSize that only a verified caller sees.
    const verified = await lab().get(path, { token: lab().token(DS.termdb) });
    expect(JSON.stringify(anonymous.json)).toContain('"suppressed":true');
    expect(verified.json).not.toEqual(anonymous.json);
  });
});

itLeavesCleanLogs(() => [lab()]);
