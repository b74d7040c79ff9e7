import { type AccessPolicy, secretSource, verificationKey } from '@pp-embed/access-policy';
import {
  createDocumentVerifier,
  keyServerUrl,
  REVOCATION_FEED_TYP,
  type RemoteJwksOptions,
  TokenSetupError,
} from '@pp-embed/dataset-token';
import { RevocationFeedClient, RevocationFeeds } from '@pp-embed/revocation';
import type { Logger } from '@pp-embed/server-runtime';
import * as z from 'zod';

/** The default staleness limit of a feed, in seconds. */
const DEFAULT_MAX_STALE = 60;

const feedSchema = z
  .strictObject({
    url: z.string().min(1, { error: "expected the https URL of the portal's revocation feed" }).meta({
      description:
        "The portal's revocation feed, e.g. https://portal.example.org/.well-known/pp-revocations (http only on loopback).",
    }),
    secret: secretSource.optional(),
    publicKey: z.string().min(1).optional().meta({
      description: "Path of the portal's public key (PEM), relative to the config file. Instead of secret.",
    }),
    jwks: z.string().min(1).optional().meta({
      description: "The portal's JWKS: a file path or an https URL. Instead of secret.",
    }),
    algorithms: z.array(z.string()).min(1).optional().meta({
      description: "Accepted algorithms; each must fit the key. Default: the key's one default.",
    }),
    embedders: z
      .array(z.string().min(1))
      .min(1, { error: 'expected at least one embedder key of dsCredentials' })
      .meta({
        description:
          'The embedder keys of dsCredentials (a portal host, or "*") whose tokens this feed can withdraw.',
      }),
    maxStaleSeconds: z
      .int({ error: 'expected a whole number of seconds from 10 to 86400' })
      .min(10, { error: 'expected a whole number of seconds from 10 to 86400' })
      .max(86_400, { error: 'expected a whole number of seconds from 10 to 86400' })
      .optional()
      .meta({
        description: `How long the last list stays in force when the feed cannot be reached; after it, tokens of these embedders are refused with revocation_unavailable. Default ${DEFAULT_MAX_STALE}.`,
      }),
  })
  .meta({ title: "A portal's revocation feed" });

/** serverconfig.json's `revocationFeeds`: feed name → feed. */
export const revocationFeedsSchema = z
  .record(
    z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'expected a feed name: letters, digits, ".", "_" or "-"' }),
    feedSchema,
  )
  .meta({
    description:
      "Revocation feeds of the portals: every token verified by a credential entry of a listed embedder is checked against the portal's signed list of revocations.",
  });

export interface FeedOptions {
  baseDir: string;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  remoteJwks?: RemoteJwksOptions;
  logger?: Logger;
  fetch?: typeof fetch;
  leewaySeconds: number;
}

/**
 * Builds the revocation feeds of serverconfig.json, checking what the schema cannot say: one key source each, a
 * URL a server may fetch key material from, and embedders that are embedder keys of `jwt` entries, each covered by
 * one feed at most. Problems are reported with their JSON path; nothing is fetched here.
 *
 * @example
 * const feeds = readRevocationFeeds(record.revocationFeeds, policy, options, report);
 */
export function readRevocationFeeds(
  raw: unknown,
  policy: AccessPolicy | undefined,
  options: FeedOptions,
  report: (segments: readonly PropertyKey[], message: string) => void,
): RevocationFeeds | undefined {
  if (raw === undefined) return undefined;
  const parsed = revocationFeedsSchema.safeParse(raw);
  if (!parsed.success) {
    reportIssues(['revocationFeeds'], parsed.error.issues, report);
    return undefined;
  }
  const tokenEmbedders = new Set(
    (policy?.entries ?? []).filter((e) => e.type === 'jwt').map((e) => e.embedder),
  );
  const claimed = new Map<string, string>();
  const feeds: [RevocationFeedClient, string[]][] = [];
  let ok = true;
  for (const [name, feed] of Object.entries(parsed.data)) {
    const at = (...rest: PropertyKey[]) => ['revocationFeeds', name, ...rest];
    const given = (['secret', 'publicKey', 'jwks'] as const).filter((f) => feed[f] !== undefined);
    if (given.length !== 1) {
      report(
        at(),
        'give exactly one key source: "secret", "publicKey" or "jwks" (the key of the portal\'s tokens)',
      );
      ok = false;
      continue;
    }
    let url: URL | undefined;
    try {
      url = keyServerUrl(feed.url, 'the feed URL');
    } catch (error) {
      report(at('url'), (error as Error).message);
      ok = false;
    }
    const embedders: string[] = [];
    feed.embedders.forEach((written, i) => {
      const key = written.toLowerCase();
      if (policy !== undefined && !tokenEmbedders.has(key)) {
        report(at('embedders', i), `"${written}" is not the embedder key of a "jwt" entry in dsCredentials`);
        ok = false;
      } else if (claimed.has(key)) {
        report(at('embedders', i), `"${written}" is covered by feed "${claimed.get(key)}" already`);
        ok = false;
      } else {
        claimed.set(key, name);
        embedders.push(key);
      }
    });
    const field = given[0] as 'secret' | 'publicKey' | 'jwks';
    let verifier;
    try {
      verifier = createDocumentVerifier({
        key: verificationKey(feed as Record<string, unknown>, field, options),
        typ: REVOCATION_FEED_TYP,
        algorithms: feed.algorithms,
        leewaySeconds: options.leewaySeconds,
        now: options.now,
        env: options.env,
      });
    } catch (error) {
      if (!(error instanceof TokenSetupError)) throw error;
      report(
        at(error.option === 'algorithms' && feed.algorithms !== undefined ? 'algorithms' : field),
        error.message,
      );
      ok = false;
      continue;
    }
    if (url === undefined || !ok) continue;
    feeds.push([
      new RevocationFeedClient({
        name,
        url,
        verifier,
        maxStaleSeconds: feed.maxStaleSeconds ?? DEFAULT_MAX_STALE,
        ...(options.fetch !== undefined && { fetch: options.fetch }),
        ...(options.now !== undefined && { now: options.now }),
        ...(options.logger !== undefined && { logger: options.logger }),
      }),
      embedders,
    ]);
  }
  return ok ? new RevocationFeeds(feeds) : undefined;
}

/**
 * Reports zod's issues under `prefix`, one per unknown key, so that each mistake names its own JSON path.
 * `unknown` words the problem of an unknown key (a "did you mean", where the caller knows the candidates).
 *
 * @example
 * reportIssues(['datasets', 0], result.error.issues, report, (key) => unknownSetting(key, known));
 */
export function reportIssues(
  prefix: readonly PropertyKey[],
  issues: readonly z.core.$ZodIssue[],
  report: (segments: readonly PropertyKey[], message: string) => void,
  unknown: (key: string) => string = () => 'is not a known setting',
): void {
  for (const issue of issues) {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    for (const key of keys) {
      report(
        [...prefix, ...issue.path, ...(key === undefined ? [] : [key])],
        key === undefined ? issue.message : unknown(key),
      );
    }
  }
}
