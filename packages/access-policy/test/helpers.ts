import { type Revocation, RevocationList, type RevocationLookup } from '@pp-embed/revocation';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSigner, generateSecret, type SignRequest } from '@pp-embed/dataset-token';
import { loadPolicy, type LoadPolicyOptions } from '../src/load.js';
import type { AccessPolicy } from '../src/policy.js';
import { ConfigError, type ConfigProblem } from '@pp-embed/server-runtime';
import type { RouteRef } from '../src/entries.js';
import { type DatasetDisclosure, datasetDisclosure } from '../src/disclosure.js';
import type { DisclosureRule } from '@pp-embed/viz-api';

export const NOW_MS = Date.UTC(2026, 10, 23, 12, 0, 0);
export const clock = (): number => NOW_MS;

export const SAMPLES: RouteRef = { name: 'termdb/samples', class: 'sample-level' };
export const BARCHART: RouteRef = { name: 'termdb/barchart', class: 'aggregated' };
export const TERMS: RouteRef = { name: 'termdb/terms', class: 'aggregated' };
export const CONFIG: RouteRef = { name: 'termdb/config', class: 'discovery' };
export const CATALOG: readonly RouteRef[] = [CONFIG, TERMS, BARCHART, SAMPLES];

/** A rule hiding counts below `threshold`, with complementary suppression. */
export function thresholdRule(threshold: number): DisclosureRule {
  return { threshold, hiddenAs: `<${threshold}`, rounding: 1, noise: 0, complementary: true, preset: null };
}

/** What `minSampleSize: 5` in serverconfig.json gives: every tier hides counts below 5. */
export const MIN5: DatasetDisclosure = datasetDisclosure(
  { anonymous: { rule: thresholdRule(5), path: 'datasets[0].minSampleSize' } },
  'datasets[0].disclosure',
);

/** A fresh HS256 secret; tests never share or commit one. */
export const newSecret = (): string => generateSecret();

/** A `jwt` entry with a fresh secret, plus any extra fields. */
export function jwt(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'jwt', secret: newSecret(), ...extra };
}

export const open = (): Record<string, unknown> => ({ type: 'open' });
export const forbidden = (): Record<string, unknown> => ({ type: 'forbidden' });

/** A scratch directory for key and secret files, removed by the returned function. */
export function scratchDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'access-policy-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function load(raw: unknown, options: Partial<LoadPolicyOptions> = {}): AccessPolicy {
  return loadPolicy(raw, { baseDir: tmpdir(), env: {}, now: clock, ...options });
}

/** The problems loading reports; fails the test when loading succeeds or throws anything else. */
export function problemsOf(raw: unknown, options: Partial<LoadPolicyOptions> = {}): readonly ConfigProblem[] {
  try {
    load(raw, options);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the config to be refused');
}

/** Signs tokens with a secret at the frozen test time. */
export function signerFor(secret: string): (request: SignRequest) => string {
  const signer = createSigner({ algorithm: 'HS256', key: { secret }, now: clock, ttlSeconds: 600 });
  return (request) => signer.sign(request);
}

/**
 * The revocation lookup a server builds from its feeds, here over one list held in memory: `embedder` is the
 * embedder key the feed covers; `unavailable` stands for a feed past its staleness limit.
 */
export function revocationsOf(
  revocations: readonly Revocation[],
  options: { embedder?: string; unavailable?: boolean; lastSyncAt?: number } = {},
): RevocationLookup {
  const list = new RevocationList(revocations);
  return {
    check({ embedder, claims, datasets }) {
      if (embedder !== (options.embedder ?? 'portal.example.org')) return undefined;
      if (options.unavailable === true) {
        return { state: 'unavailable', feed: 'portal', lastSyncAt: options.lastSyncAt, maxStaleSeconds: 60 };
      }
      const revocation = list.match(claims, datasets);
      return revocation === undefined
        ? { state: 'clear', feed: 'portal', seq: revocations.length }
        : { state: 'revoked', feed: 'portal', revocation };
    },
  };
}
