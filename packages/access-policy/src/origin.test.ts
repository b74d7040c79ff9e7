import { describe, expect, it } from 'vitest';
import { embedderFromOrigin, embedderKey } from './origin.js';

describe('embedderFromOrigin', () => {
  it.each([
    ['https://portal.example.org', 'portal.example.org'],
    ['https://Portal.Example.ORG', 'portal.example.org'],
    ['https://portal.example.org:443', 'portal.example.org'],
    ['http://portal.example.org:80', 'portal.example.org'],
    ['http://portal.example.org:443', 'portal.example.org:443'],
    ['https://portal.example.org:8443', 'portal.example.org:8443'],
    ['http://localhost:5173', 'localhost:5173'],
    ['http://[::1]:3000', '[::1]:3000'],
    ['http://127.0.0.1:3000', '127.0.0.1:3000'],
    ['https://bücher.example', 'xn--bcher-kva.example'],
  ])('reads %s as the host %s, without scheme or default port', (origin, host) => {
    const embedder = embedderFromOrigin(origin);
    expect(embedder).toMatchObject({ kind: 'host', host });
  });

  it.each([
    ['http://localhost:8080', 'localhost'],
    ['https://portal.example.org', 'portal.example.org'],
    ['http://[::1]:3000', '[::1]'],
  ])('reads the host of %s without its port as %s', (origin, hostname) => {
    expect(embedderFromOrigin(origin)).toMatchObject({ kind: 'host', hostname });
  });

  it.each([undefined, null, ''])('treats %j as no Origin header', (origin) => {
    expect(embedderFromOrigin(origin)).toEqual({ kind: 'absent' });
  });

  it('treats Origin: null as the opaque origin, not as a host named "null"', () => {
    expect(embedderFromOrigin('null')).toEqual({ kind: 'null' });
  });

  it.each([
    'portal.example.org',
    'https://portal.example.org/',
    'https://portal.example.org/path',
    'https://portal.example.org?x=1',
    'https://portal.example.org#frag',
    'https://user:pass@portal.example.org',
    'https://evil.example@portal.example.org',
    'https://portal.example.org, https://other.example',
    ' https://portal.example.org',
    'https://portal.example.org\n',
    'https://',
    'https://exa mple.org',
    'chrome-extension://portal.example.org',
    'file://portal.example.org',
    'ftp://portal.example.org',
    `https://${'a'.repeat(3000)}.org`,
    'javascript:alert(1)',
  ])('refuses the malformed origin %j', (origin) => {
    expect(embedderFromOrigin(origin)).toEqual({ kind: 'malformed' });
  });
});

describe('embedderKey', () => {
  it.each([
    ['*', '*'],
    ['portal.example.org', 'portal.example.org'],
    ['Portal.Example.org', 'portal.example.org'],
    ['localhost:5173', 'localhost:5173'],
    ['[::1]:8080', '[::1]:8080'],
    ['portal.example.org:8443', 'portal.example.org:8443'],
  ])('accepts %s as %s', (key, host) => {
    expect(embedderKey(key)).toEqual({ host });
  });

  it.each([
    ['https://portal.example.org', 'not a URL: write "portal.example.org"'],
    ['http://localhost:5173/app', 'not a URL: write "localhost:5173"'],
    ['portal.example.org/app', 'without a path'],
    ['user@portal.example.org', 'without a path, user'],
    ['portal.example.org:443', 'would match nothing: write "portal.example.org" (every port of the host)'],
    ['portal.example.org:80', 'would match nothing: write "portal.example.org"'],
    ['*.example.org', 'patterns are not supported'],
    ['portal-?.example.org', 'patterns are not supported'],
    ['!portal.example.org', 'patterns are not supported'],
    ['bücher.example', 'write the host as browsers send it: "xn--bcher-kva.example"'],
    ['0x7f.1', 'write the host as browsers send it: "127.0.0.1"'],
    ['<Data_Portal_Domain>', 'not a valid host'],
    ['', 'an empty embedder key'],
  ])('refuses the key %j: %s', (key, problem) => {
    const result = embedderKey(key);
    expect('problem' in result && result.problem).toContain(problem);
  });
});
