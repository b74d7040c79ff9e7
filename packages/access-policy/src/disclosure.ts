import type { DatasetTokenClaims } from '@pp-embed/dataset-token';
import { DISCLOSURE_PRESETS, type DisclosureRule, type Tier, TIERS } from '@pp-embed/viz-api';

/**
 * One tier's disclosure rule as serverconfig.json sets it, and where: `rule` null means exact counts.
 *
 * @example
 * const anonymous: TierRule = { rule: presetRule('genomics-england'), path: 'datasets[0].disclosure.anonymous' };
 */
export interface TierRule {
  readonly rule: DisclosureRule | null;
  /** The config path that set it (a lower tier's when this tier inherits it), for explain and logs. */
  readonly path: string;
}

/**
 * A dataset's disclosure settings: a rule per tier (each tier not given inherits the one below), and what the
 * sample-level routes of the dataset do when no credential protects them.
 *
 * - `sampleRows: 'protected'` (the default): those routes answer only callers who see exact counts; a caller
 *   whose counts are controlled would undo the control by counting rows, so is refused (`route_forbidden`).
 * - `sampleRows: 'public'`: the operator publishes the rows; anyone may read them.
 *
 * @example
 * const none: DatasetDisclosure = NO_DISCLOSURE;
 */
export interface DatasetDisclosure {
  readonly anonymous: TierRule;
  readonly signedIn: TierRule;
  readonly granted: TierRule;
  readonly sampleRows: 'protected' | 'public';
  /** Where `sampleRows` is set (or would be), for explain. */
  readonly sampleRowsPath: string;
}

/** Exact counts for every tier. @example decide(policy, { ...facts, disclosure: NO_DISCLOSURE }); */
export const NO_DISCLOSURE: DatasetDisclosure = Object.freeze({
  anonymous: { rule: null, path: 'disclosure' },
  signedIn: { rule: null, path: 'disclosure' },
  granted: { rule: null, path: 'disclosure' },
  sampleRows: 'protected',
  sampleRowsPath: 'disclosure.sampleRows',
});

/**
 * A dataset's disclosure settings from the rules given per tier: a tier not given inherits the rule of the tier
 * below it (anonymous: exact counts), and rows stay protected unless `sampleRows` is `"public"`.
 *
 * @example
 * const d = datasetDisclosure({ anonymous: { rule: presetRule('genomics-england'), path: 'datasets[0].disclosure.anonymous' } });
 * d.granted.rule?.threshold; // 5: inherited
 */
export function datasetDisclosure(
  given: Partial<Record<Tier, TierRule>> & { sampleRows?: 'protected' | 'public'; sampleRowsPath?: string },
  path = 'disclosure',
): DatasetDisclosure {
  const anonymous = given.anonymous ?? { rule: null, path };
  const signedIn = given.signedIn ?? anonymous;
  const granted = given.granted ?? signedIn;
  return {
    anonymous,
    signedIn,
    granted,
    sampleRows: given.sampleRows ?? 'protected',
    sampleRowsPath: given.sampleRowsPath ?? `${path}.sampleRows`,
  };
}

/**
 * Settings that cannot be what the operator meant: a tier that sees less than the one below it (a caller can
 * always ask as the lower tier, without its token), as problems with the JSON path of the stricter tier.
 *
 * @example
 * disclosureProblems(d); // [{ tier: 'granted', path: 'datasets[0].disclosure.granted', message: 'threshold 10 is above …' }]
 */
export function disclosureProblems(d: DatasetDisclosure): { tier: Tier; path: string; message: string }[] {
  const problems: { tier: Tier; path: string; message: string }[] = [];
  for (let i = 1; i < TIERS.length; i++) {
    const lower = TIERS[i - 1] as Tier;
    const tier = TIERS[i] as Tier;
    const below = d[lower];
    const here = d[tier];
    if (here === below) continue;
    const threshold = here.rule?.threshold ?? 1;
    const lowerThreshold = below.rule?.threshold ?? 1;
    if (threshold > lowerThreshold) {
      problems.push({
        tier,
        path: here.path,
        message: `threshold ${threshold} is above the ${lower} rule's (${lowerThreshold}): ${tierWords(tier)} would see less than ${tierWords(lower)}, who can always ask without a token`,
      });
    }
  }
  return problems;
}

/**
 * The tier of a caller: anonymous without verified claims; otherwise what the token's `access` claim says, a token
 * without one being granted (a ProteinPaint token lists the datasets the user is granted).
 *
 * @example
 * tierOf(undefined); // 'anonymous'
 * tierOf({ …claims, access: 'signedIn' }); // 'signedIn'
 */
export function tierOf(claims: DatasetTokenClaims | undefined): Tier {
  if (claims === undefined) return 'anonymous';
  return claims.access === 'signedIn' ? 'signedIn' : 'granted';
}

/**
 * The rules of the tiers below `tier` that are not exact, lowest first: a caller can always ask as a lower tier
 * (without a token), so the counts its own rule hides must stay hidden given what those rules show.
 *
 * @example
 * rulesBeneath(disclosure, 'granted'); // [anonymous rule, signed-in rule]
 */
export function rulesBeneath(disclosure: DatasetDisclosure, tier: Tier): DisclosureRule[] {
  const out: DisclosureRule[] = [];
  for (const t of TIERS) {
    if (t === tier) break;
    const rule = disclosure[t].rule;
    if (rule !== null) out.push(rule);
  }
  return out;
}

const TIER_WORDS: Record<Tier, string> = {
  anonymous: 'callers without a verified token',
  signedIn: 'signed-in users without a grant',
  granted: 'granted users',
};

/** How explain names a tier. @example tierWords('signedIn'); // 'signed-in users without a grant' */
export function tierWords(tier: Tier): string {
  return TIER_WORDS[tier];
}

/**
 * A rule in one sentence, for developers and operators.
 *
 * @example
 * describeRule(presetRule('opensafely'));
 * // 'Preset "opensafely" (OpenSAFELY): counts from 1 to 7 are hidden and shown as "≤7"; …'
 */
export function describeRule(rule: DisclosureRule | null): string {
  if (rule === null) return 'Every count is exact.';
  const parts: string[] = [];
  if (rule.threshold > 1) {
    const range = rule.threshold === 2 ? 'a count of 1 is' : `counts from 1 to ${rule.threshold - 1} are`;
    parts.push(`${range} hidden and shown as ${JSON.stringify(rule.hiddenAs)}`);
    parts.push(
      rule.complementary
        ? 'more counts are withheld so that no hidden one can be worked out from totals, margins, other splits or filters (complementary suppression)'
        : 'no further count is withheld, so hidden counts can be worked out from totals (complementary suppression is off)',
    );
  }
  if (rule.rounding > 1) parts.push(`shown counts are rounded to the nearest ${rule.rounding}`);
  if (rule.noise > 0) parts.push(`shown counts are moved by a fixed amount of up to ±${rule.noise}`);
  if (parts.length === 0) parts.push('every count is shown as it is');
  const name =
    rule.preset === null
      ? 'The rule'
      : `Preset ${JSON.stringify(rule.preset)} (${DISCLOSURE_PRESETS[rule.preset].programme})`;
  return `${name}: ${parts.join('; ')}.`;
}

/**
 * What a rule does to one count, with the part of the rule that does it: for `pp-token explain --count`.
 *
 * @example
 * describeCount(presetRule('genomics-england'), 3);
 * // 'A count of 3 is hidden by the threshold (counts from 1 to 4 are shown as "<5").'
 */
export function describeCount(rule: DisclosureRule | null, count: number): string {
  if (rule === null) return `A count of ${count} is shown as it is (exact counts).`;
  if (count === 0) return 'A count of 0 is shown: an empty group hides no one.';
  if (count < rule.threshold) {
    return `A count of ${count} is hidden by the threshold (counts from 1 to ${rule.threshold - 1} are shown as ${JSON.stringify(rule.hiddenAs)}).`;
  }
  const shown: string[] = [];
  if (rule.rounding > 1) shown.push(`rounded to the nearest ${rule.rounding}`);
  if (rule.noise > 0) shown.push(`moved by up to ±${rule.noise}`);
  const how = shown.length === 0 ? 'as it is' : shown.join(' and ');
  const withheld = rule.complementary
    ? ', unless it is withheld because, with the totals or other answers, it would give a hidden count away (complementary suppression)'
    : '';
  return `A count of ${count} is shown ${how}${withheld}.`;
}
