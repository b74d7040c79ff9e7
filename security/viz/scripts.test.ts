/**
 * Scripts: requests without an Origin. Only an entry that takes scripts answers them, only with a token minted for a
 * script; a browser's token cannot be carried out of its page, a script's token cannot be used by a page, a token
 * for aggregated data opens no rows, and a personal API token is no dataset token.
 */
import { generateApiToken } from '@pp-embed/api-token';
import { describe, it } from 'vitest';
import {
  barchartPath,
  DS,
  expectGranted,
  expectRefusal,
  itLeavesCleanLogs,
  PORTAL_ORIGIN,
  samplesPath,
  useVizLab,
} from '../harness.js';

const lab = useVizLab({ scripts: true });

const script = (claims: Record<string, unknown> = {}) =>
  lab().token(DS.termdb, {
    claims: { client: 'script', apiTokenId: 'Zk3pQ9aZ0pLm', ip: undefined, ...claims },
  });
const bearer = (token: string): [string, string][] => [['authorization', `Bearer ${token}`]];

describe('a script reads only where an entry takes scripts, with a script’s token (pp-embed scripts; OWASP API Security API2:2023 broken authentication)', () => {
  it('a script’s token, unpinned, as a Bearer token or in the entry’s header, from any address', async () => {
    expectGranted(await lab().get(samplesPath(DS.termdb), { origin: null, headers: bearer(script()) }));
    expectGranted(await lab().get(samplesPath(DS.termdb), { origin: null, token: script() }));
  });

  it('is refused with scripts_not_allowed where no entry takes scripts', async () => {
    expectRefusal(
      await lab().get(samplesPath(DS.hs), {
        origin: null,
        headers: bearer(lab().token(DS.hs, { claims: { client: 'script' } })),
      }),
      403,
      'scripts_not_allowed',
    );
  });

  it('a browser’s token carried out of its page is refused, even from the address it was pinned to (token_not_for_scripts)', async () => {
    const browser = lab().token(DS.termdb);
    expectRefusal(
      await lab().get(samplesPath(DS.termdb), { origin: null, token: browser }),
      403,
      'token_not_for_scripts',
    );
    expectRefusal(
      await lab().get(samplesPath(DS.termdb), { origin: null, headers: bearer(browser) }),
      403,
      'token_not_for_scripts',
    );
  });

  it('a script’s token used by a web page is refused (token_not_for_browsers), and a page cannot claim to be a script', async () => {
    expectRefusal(
      await lab().get(samplesPath(DS.termdb), { token: script({ ip: '127.0.0.1' }) }),
      403,
      'token_not_for_browsers',
    );
    // An Origin header is what a page sends; Authorization is not read from a page at all.
    expectRefusal(
      await lab().get(samplesPath(DS.termdb), { origin: PORTAL_ORIGIN, headers: bearer(script()) }),
      401,
      'token_missing',
    );
  });

  it('two tokens, in two Authorization headers or one in each header, are refused (RFC 6750 §2)', async () => {
    expectRefusal(
      await lab().get(samplesPath(DS.termdb), {
        origin: null,
        headers: [...bearer(script()), ...bearer(script())],
      }),
      400,
      'bad_request',
    );
    expectRefusal(
      await lab().get(samplesPath(DS.termdb), { origin: null, token: script(), headers: bearer(script()) }),
      400,
      'bad_request',
    );
  });

  it('a token for aggregated data opens counts, not rows (insufficient_scope)', async () => {
    const aggregated = script({ routeClasses: ['aggregated'] });
    expectRefusal(
      await lab().get(samplesPath(DS.termdb), { origin: null, headers: bearer(aggregated) }),
      403,
      'insufficient_scope',
    );
    expectGranted(await lab().get(barchartPath(DS.termdb), { origin: null, headers: bearer(aggregated) }));
  });

  it.each([
    ['an unknown client', { client: 'admin' }],
    ['an empty list of route classes', { routeClasses: [] }],
    ['an unknown route class', { routeClasses: ['everything'] }],
  ])('a token with %s is refused as token_invalid, never read as more', async (_name, claims) => {
    const reply = await lab().get(samplesPath(DS.termdb), { origin: null, headers: bearer(script(claims)) });
    expectRefusal(reply, 401, 'token_invalid');
  });

  it('a personal API token sent to the server is no dataset token, and a URL holding one is refused', async () => {
    const { token } = generateApiToken();
    lab().track(token);
    expectRefusal(
      await lab().get(samplesPath(DS.termdb), { origin: null, headers: bearer(token) }),
      401,
      'token_invalid',
    );
    expectRefusal(
      await lab().get(`${barchartPath(DS.termdb)}&note=${token}`, { origin: null }),
      400,
      'bad_request',
    );
  });
});

itLeavesCleanLogs(() => [lab()]);
