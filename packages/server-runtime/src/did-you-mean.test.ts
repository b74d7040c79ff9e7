import { describe, expect, it } from 'vitest';
import { closestName } from './did-you-mean.js';

describe('closestName', () => {
  it.each([
    ['termdbtest', ['TermdbTest', 'PPDemo'], 'TermdbTest'],
    ['headerkey', ['headerKey', 'dsnames', 'secret'], 'headerKey'],
    ['termdb/sample', ['termdb/samples', 'termdb/config'], 'termdb/samples'],
    ['termdb/smaples', ['termdb/samples', 'termdb/config'], 'termdb/samples'],
    ['looseIPcheck', ['looseIpCheck', 'ipCheck'], 'looseIpCheck'],
    ['dsname', ['dsnames', 'type'], 'dsnames'],
    ['TermdbTst', ['TermdbTest', 'Termdb'], 'TermdbTest'],
  ])('suggests for %j the candidate it most likely meant', (name, candidates, expected) => {
    expect(closestName(name, candidates)).toBe(expected);
  });

  it.each([
    ['burden', ['termdb/samples', 'termdb', '*']],
    ['ds0', ['TermdbTest']],
    ['port', ['host']],
    ['x', ['y']],
    ['secret', ['secret']],
  ])('suggests nothing for %j when no candidate is a slip away', (name, candidates) => {
    expect(closestName(name, candidates)).toBeUndefined();
  });
});
