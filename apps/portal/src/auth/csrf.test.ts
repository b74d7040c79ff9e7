import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CsrfTokens, sameOriginRequest } from './csrf.js';

describe('CsrfTokens', () => {
  const csrf = new CsrfTokens(randomBytes(32));

  it('binds a token to its session and to its purpose', () => {
    const token = csrf.forSession('session-a');
    expect(csrf.checkSession('session-a', token)).toBe(true);
    expect(csrf.checkSession('session-b', token)).toBe(false);
    expect(csrf.checkSignIn('session-a', token)).toBe(false);
    expect(csrf.checkSession('session-a', undefined)).toBe(false);
    expect(csrf.checkSession('session-a', token.slice(1))).toBe(false);
  });

  it('differs per portal key', () => {
    const other = new CsrfTokens(randomBytes(32));
    expect(other.checkSession('s', csrf.forSession('s'))).toBe(false);
  });
});

describe('sameOriginRequest', () => {
  const origin = 'https://portal.example.org';
  it('accepts same-origin fetch metadata or a matching Origin', () => {
    expect(sameOriginRequest('same-origin', origin, origin, true)).toBe(true);
    expect(sameOriginRequest(undefined, origin, origin, true)).toBe(true);
    expect(sameOriginRequest('same-origin', undefined, origin, true)).toBe(true);
  });

  it('refuses other sites, and headerless requests to the JSON endpoint', () => {
    expect(sameOriginRequest('cross-site', origin, origin, false)).toBe(false);
    expect(sameOriginRequest('same-site', undefined, origin, false)).toBe(false);
    expect(sameOriginRequest(undefined, 'https://evil.example', origin, false)).toBe(false);
    expect(sameOriginRequest(undefined, 'null', origin, false)).toBe(false);
    expect(sameOriginRequest(undefined, undefined, origin, true)).toBe(false);
    expect(sameOriginRequest(undefined, undefined, origin, false)).toBe(true);
  });
});
