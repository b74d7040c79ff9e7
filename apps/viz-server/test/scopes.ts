// Scopes and disclosure settings as the access decision makes them, for tests that call the dataset directly.
import { type DatasetDisclosure, datasetDisclosure, type Scope } from '@pp-embed/access-policy';
import type { DisclosureRule } from '@pp-embed/viz-api';

/** A rule hiding counts below `threshold`, with complementary suppression (what `minSampleSize` gives). */
export function thresholdRule(threshold: number): DisclosureRule {
  return { threshold, hiddenAs: `<${threshold}`, rounding: 1, noise: 0, complementary: true, preset: null };
}

/** What `minSampleSize: k` in serverconfig.json sets: every tier hides counts below k. */
export function minSampleSize(k: number): DatasetDisclosure {
  return datasetDisclosure({ anonymous: { rule: thresholdRule(k), path: 'datasets[0].minSampleSize' } });
}

/** A caller who sees exact counts (granted, may read the rows), restricted to `cohorts` when given. */
export function exact(cohorts: readonly string[] | null = null): Scope {
  return { cohorts, tier: 'granted', rule: null, beneath: [] };
}

/** A caller whose counts go through `rule` (a threshold for short), restricted to `cohorts` when given. */
export function ruled(rule: number | DisclosureRule, cohorts: readonly string[] | null = null): Scope {
  return {
    cohorts,
    tier: 'anonymous',
    rule: typeof rule === 'number' ? thresholdRule(rule) : rule,
    beneath: [],
  };
}
