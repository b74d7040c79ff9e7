import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * CSRF tokens as an HMAC of a value bound to the visitor (OWASP "signed double-submit cookie"): the session id
 * for a signed-in user, the sign-in form's nonce cookie before that. The token is sent back in a form field or
 * the `x-csrf-token` header; a page on another origin can neither read it nor compute it, and it changes with
 * the session, so the token of a session that ended (or was rotated at sign-in) is useless.
 *
 * @example
 * const csrf = new CsrfTokens(stores.csrfKey);
 * const token = csrf.forSession(session.id);
 * csrf.checkSession(session.id, c.req.header('x-csrf-token')); // true
 */
export class CsrfTokens {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length < 32) throw new RangeError('the CSRF key needs at least 32 bytes');
    this.#key = key;
  }

  #token(purpose: string, binding: string): string {
    // The purpose is part of the MAC, so the sign-in form's token can never pass as a session's, or back.
    return createHmac('sha256', this.#key).update(`${purpose}\n${binding}`).digest('base64url');
  }

  #check(purpose: string, binding: string, given: unknown): boolean {
    if (typeof given !== 'string' || given.length !== 43) return false;
    const expected = Buffer.from(this.#token(purpose, binding));
    const actual = Buffer.from(given);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }

  forSession(sessionId: string): string {
    return this.#token('session', sessionId);
  }

  checkSession(sessionId: string, given: unknown): boolean {
    return this.#check('session', sessionId, given);
  }

  forSignIn(nonce: string): string {
    return this.#token('sign-in', nonce);
  }

  checkSignIn(nonce: string, given: unknown): boolean {
    return this.#check('sign-in', nonce, given);
  }
}

/**
 * Whether a state-changing request comes from one of our own pages, by the headers browsers set and pages cannot
 * (Fetch Metadata `Sec-Fetch-Site`, then `Origin`). `strict` (the JSON endpoint, which only our script calls)
 * also refuses a request that carries neither; forms accept that, for browsers that send neither on a
 * same-origin POST, and rely on the token alone.
 *
 * @example
 * sameOriginRequest(c.req.header('sec-fetch-site'), c.req.header('origin'), 'https://portal.example.org', true);
 */
export function sameOriginRequest(
  secFetchSite: string | undefined,
  origin: string | undefined,
  expectedOrigin: string,
  strict: boolean,
): boolean {
  if (secFetchSite !== undefined && secFetchSite !== 'same-origin') return false;
  if (origin !== undefined) return origin === expectedOrigin;
  return !strict || secFetchSite === 'same-origin';
}
