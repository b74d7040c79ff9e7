#!/usr/bin/env node
/**
 * An institution's OpenID Provider and a GA4GH passport broker for the tests, in one process on 127.0.0.1:
 * panva's oidc-provider (OpenID Certified) with keys made at start, users from a JSON file, and
 *
 * - the authorization code flow with PKCE for the portal (the development login form: any password);
 * - RFC 9068 JWT access tokens for the visualization server's audience, with the user's `groups` and the
 *   `pp:dataset:<label>` scopes the user holds;
 * - GA4GH visas (visa document tokens, `jku` = `/visa-keys`) in the `ga4gh_passport_v1` claim of the userinfo and
 *   ID token, signed when the token is issued so that each visa's `expiresIn` counts from sign-in;
 * - a passport (`typ: vnd.ga4gh.passport+jwt`) by token exchange (RFC 8693) of its own access token.
 *
 * usage: tsx test-idp/src/main.ts --config idp.json [--port N]; prints one JSON line `{"event":"listening","url":…}`.
 */
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import type { IdpConfig } from './index.js';

const { values } = parseArgs({
  options: { config: { type: 'string' }, port: { type: 'string' } },
  strict: true,
});
if (values.config === undefined) throw new Error('--config idp.json is required');
const config = JSON.parse(readFileSync(values.config, 'utf8')) as IdpConfig;

const jwk = (key: ReturnType<typeof generateKeyPairSync>['privateKey'], kid: string) => ({
  ...key.export({ format: 'jwk' }),
  kid,
  alg: 'RS256',
  use: 'sig',
});
const providerKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const visaKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rogueKey = generateKeyPairSync('rsa', { modulusLength: 2048 });

const server = createServer();
await new Promise<void>((resolve) => server.listen(Number(values.port ?? 0), '127.0.0.1', () => resolve()));
const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const visaJku = `${issuer}/visa-keys`;

function compact(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key = visaKey.privateKey,
) {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part({ alg: 'RS256', ...header })}.${part(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

/** The user's visas, signed now: a visa document token per spec. */
function visasFor(accountId: string): string[] {
  const now = Math.floor(Date.now() / 1000);
  return (config.users[accountId]?.visas ?? []).map((spec) =>
    compact(
      { kid: 'visa-1', jku: spec.jku ?? visaJku, typ: 'vnd.ga4gh.visa+jwt' },
      {
        iss: issuer,
        sub: spec.sub ?? accountId,
        iat: now,
        exp: now + (spec.expiresIn ?? 3600),
        jti: randomUUID(),
        ga4gh_visa_v1: {
          type: spec.type ?? 'ControlledAccessGrants',
          asserted: now - 86_400,
          value: spec.value,
          source: spec.source,
          ...(spec.by !== undefined && { by: spec.by }),
          ...(spec.conditions !== undefined && { conditions: spec.conditions }),
        },
      },
      spec.forged === true ? rogueKey.privateKey : visaKey.privateKey,
    ),
  );
}

const resourceScopes = [...new Set(Object.values(config.users).flatMap((u) => u.scopes ?? []))];
const audiences = [config.audience, ...(config.otherAudiences ?? [])];

const provider = new Provider(issuer, {
  clients: config.clients.map((c) => ({
    ...c,
    grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:token-exchange'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  jwks: { keys: [jwk(providerKey.privateKey, 'idp-1')] },
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'groups', 'ga4gh_passport_v1', ...resourceScopes],
  claims: {
    openid: ['sub'],
    email: ['email'],
    groups: ['groups'],
    ga4gh_passport_v1: ['ga4gh_passport_v1'],
  },
  conformIdTokenClaims: false,
  ttl: {
    AccessToken: config.accessTokenTtl ?? 600,
    IdToken: 600,
    Session: 3600,
    Grant: 3600,
    Interaction: 600,
  },
  async findAccount(_ctx, id) {
    const user = config.users[id];
    if (user === undefined) return undefined;
    return {
      accountId: id,
      claims: () => ({
        sub: id,
        email: user.email,
        groups: user.groups ?? [],
        ga4gh_passport_v1: visasFor(id),
      }),
    };
  },
  // The portal is a first-party client of the institution: no consent screen.
  async loadExistingGrant(ctx) {
    const grantId =
      ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(ctx.oidc.client?.clientId ?? '');
    if (grantId !== undefined) return ctx.oidc.provider.Grant.find(grantId);
    const user = config.users[ctx.oidc.session?.accountId ?? ''];
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client?.clientId,
      accountId: ctx.oidc.session?.accountId,
    });
    grant.addOIDCScope('openid email groups ga4gh_passport_v1');
    grant.addOIDCClaims(['email', 'groups', 'ga4gh_passport_v1']);
    const held = new Set(user?.scopes ?? []);
    // What the user does not hold is refused, not asked for: the institution decides, not the user.
    const refused = resourceScopes.filter((scope) => !held.has(scope));
    for (const audience of audiences) {
      grant.addResourceScope(audience, [...held].join(' '));
      if (refused.length > 0) grant.rejectResourceScope(audience, refused.join(' '));
    }
    await grant.save();
    return grant;
  },
  async extraTokenClaims(_ctx, token) {
    const user = config.users[(token as { accountId?: string }).accountId ?? ''];
    return user === undefined ? undefined : { groups: user.groups ?? [] };
  },
  features: {
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Without a resource indicator the access token is for the userinfo endpoint (what the portal asks for);
      // with one (RFC 8707), a JWT for the visualization server.
      defaultResource: (_ctx, _client, oneOf) => oneOf,
      useGrantedResource: () => false,
      getResourceServerInfo: (_ctx, resource) => {
        if (!audiences.includes(resource)) throw new Error('unknown resource');
        return {
          scope: resourceScopes.join(' '),
          audience: resource,
          accessTokenTTL: config.accessTokenTtl ?? 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
});

// RFC 8693 token exchange: the broker's own access token for a GA4GH passport (AAI v1.2).
provider.registerGrantType(
  'urn:ietf:params:oauth:grant-type:token-exchange',
  async (ctx: KoaContextWithOIDC) => {
    const params = ctx.oidc.params as Record<string, string | undefined>;
    const accessToken = params.subject_token ?? '';
    const [header, payload, signature] = accessToken.split('.');
    const { verify } = await import('node:crypto');
    const valid =
      header !== undefined &&
      payload !== undefined &&
      signature !== undefined &&
      verify(
        'sha256',
        Buffer.from(`${header}.${payload}`),
        providerKey.publicKey,
        Buffer.from(signature, 'base64url'),
      );
    const claims = valid
      ? (JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sub?: string; exp?: number })
      : undefined;
    if (claims?.sub === undefined || (claims.exp ?? 0) < Date.now() / 1000) {
      ctx.status = 400;
      ctx.body = { error: 'invalid_grant', error_description: 'subject_token is not a valid access token' };
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const passport = compact(
      { kid: 'idp-1', typ: 'vnd.ga4gh.passport+jwt' },
      {
        iss: issuer,
        sub: claims.sub,
        aud: params.audience ?? config.audience,
        iat: now,
        exp: now + 600,
        jti: randomUUID(),
        ga4gh_passport_v1: visasFor(claims.sub),
      },
      providerKey.privateKey,
    );
    ctx.body = {
      access_token: passport,
      issued_token_type: 'urn:ga4gh:params:oauth:token-type:passport',
      token_type: 'Bearer',
      expires_in: 600,
    };
  },
  ['subject_token', 'subject_token_type', 'requested_token_type', 'audience'],
);

const oidc = provider.callback();
server.on('request', (req: IncomingMessage, res: ServerResponse) => {
  if (req.url === '/visa-keys') {
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
    res.end(
      JSON.stringify({
        keys: [{ ...visaKey.publicKey.export({ format: 'jwk' }), kid: 'visa-1', alg: 'RS256', use: 'sig' }],
      }),
    );
    return;
  }
  oidc(req, res);
});

process.stdout.write(`${JSON.stringify({ event: 'listening', url: issuer, visaJku })}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
