import { describe, expect, it } from 'vitest';
import { forbidden, jwt, load, newSecret, open } from '../test/helpers.js';
import { hashPassword } from './password.js';
import { accessTable, formatAccessTable } from './table.js';

const secret = newSecret();
const passwordHash = await hashPassword('a password', { ln: 14, r: 8, p: 1 });

const policy = load({
  TermdbTest: {
    termdb: {
      'portal.example.org': { type: 'jwt', secret, headerKey: 'X-Portal-Token', scripts: true },
      'localhost:5173': jwt({ ipCheck: 'loose' }),
    },
  },
  Guarded: { '*': { '*': { type: 'basic', passwordHash, tokenSecret: newSecret() } } },
  Closed: { '*': { '*': forbidden() }, 'termdb/config': { '*': open() } },
});

describe('accessTable', () => {
  it('tells, per dataset and route class, what each embedder needs, never the key', () => {
    const table = accessTable(policy, ['TermdbTest', 'Guarded', 'Closed', 'PPDemo']);
    expect(formatAccessTable(table)).toEqual([
      'dataset     routes                                                                                      embedder                       needs',
      'TermdbTest  discovery (termdb/config)                                                                   every origin                   nothing: open to everyone',
      'TermdbTest  aggregated (termdb/terms, termdb/barchart, termdb/summary, termdb/survival, termdb/search)  every origin                   nothing: open to everyone',
      'TermdbTest  sample-level (termdb/samples, termdb/export)                                                portal.example.org (any port)  a token signed with the shared secret (HS256), in x-portal-token; strict address check',
      'TermdbTest  sample-level (termdb/samples, termdb/export)                                                localhost:5173                 a token signed with the shared secret (HS256), in x-ds-access-token; loose address check',
      'TermdbTest  sample-level (termdb/samples, termdb/export)                                                any other origin               refused (embedder_not_allowed)',
      'TermdbTest  sample-level (termdb/samples, termdb/export)                                                scripts (no Origin)            a script\'s token signed with the shared secret (HS256), as a Bearer token or in x-portal-token; "ip" checked when the portal pinned one (strict address check)',
      'Guarded     discovery (termdb/config)                                                                   every origin                   the dataset password (a token this server issues for it, HS256), in x-ds-access-token; strict address check; without one it still answers, less the token-guarded parts',
      'Guarded     discovery (termdb/config)                                                                   scripts (no Origin)            refused (scripts_not_allowed)',
      'Guarded     aggregated (termdb/terms, termdb/barchart, termdb/summary, termdb/survival, termdb/search)  every origin                   the dataset password (a token this server issues for it, HS256), in x-ds-access-token; strict address check',
      'Guarded     aggregated (termdb/terms, termdb/barchart, termdb/summary, termdb/survival, termdb/search)  scripts (no Origin)            refused (scripts_not_allowed)',
      'Guarded     sample-level (termdb/samples, termdb/export)                                                every origin                   the dataset password (a token this server issues for it, HS256), in x-ds-access-token; strict address check',
      'Guarded     sample-level (termdb/samples, termdb/export)                                                scripts (no Origin)            refused (scripts_not_allowed)',
      'Closed      discovery (termdb/config)                                                                   every origin                   nothing (an "open" entry)',
      'Closed      discovery (termdb/config)                                                                   scripts (no Origin)            nothing (an "open" entry)',
      'Closed      aggregated (termdb/terms, termdb/barchart, termdb/summary, termdb/survival, termdb/search)  every origin                   refused (route_forbidden)',
      'Closed      aggregated (termdb/terms, termdb/barchart, termdb/summary, termdb/survival, termdb/search)  scripts (no Origin)            refused (route_forbidden)',
      'Closed      sample-level (termdb/samples, termdb/export)                                                every origin                   refused (route_forbidden)',
      'Closed      sample-level (termdb/samples, termdb/export)                                                scripts (no Origin)            refused (route_forbidden)',
      'PPDemo      discovery (termdb/config)                                                                   every origin                   nothing: open to everyone',
      'PPDemo      aggregated (termdb/terms, termdb/barchart, termdb/summary, termdb/survival, termdb/search)  every origin                   nothing: open to everyone',
      'PPDemo      sample-level (termdb/samples, termdb/export)                                                every origin                   nothing: open to everyone',
      'Open to everyone (every route, every origin, no token): PPDemo.',
    ]);
    expect(JSON.stringify(table)).not.toContain(secret);
  });

  it('splits a class whose routes are decided by different keys', () => {
    const split = load({ T: { '*': { '*': jwt() }, 'termdb/barchart': { '*': open() } } });
    const rows = accessTable(split, ['T']).rows.filter((r) => r.embedder === 'every origin');
    expect(rows.map((r) => `${r.routes}: ${r.needs.split(',')[0]}`)).toEqual([
      'discovery (termdb/config): a token signed with the shared secret (HS256)',
      'aggregated (termdb/terms, termdb/summary, termdb/survival, termdb/search): a token signed with the shared secret (HS256)',
      'aggregated (termdb/barchart): nothing (an "open" entry)',
      'sample-level (termdb/samples, termdb/export): a token signed with the shared secret (HS256)',
    ]);
  });
});
