/**
 * Disclosure control: which counts a caller sees, and how. A dataset has one rule per tier of caller; the server
 * applies the caller's rule to every number it answers, and says in each answer which rule that was.
 * @module
 */

/**
 * Who is asking, as the access decision sees it:
 * - `anonymous`: no verified token;
 * - `signedIn`: a verified token for the dataset whose `access` claim is `"signedIn"` (the portal knows the user
 *   but has not granted them the dataset);
 * - `granted`: a verified token for the dataset, with `access` absent or `"granted"`.
 *
 * A granted caller who may also read the dataset's sample-level routes sees exact counts: rows can be counted.
 *
 * @example
 * const tier: Tier = 'anonymous';
 */
export type Tier = 'anonymous' | 'signedIn' | 'granted';

/** The tiers, from the one that sees least. @example for (const tier of TIERS) console.log(tier); */
export const TIERS: readonly Tier[] = ['anonymous', 'signedIn', 'granted'];

/**
 * How counts are shown to one tier of callers.
 *
 * - A count from 1 to `threshold - 1` is hidden and shown as `hiddenAs`; zero is shown.
 * - With `complementary`, more counts are withheld so that no hidden count can be worked out from what the server
 *   answers: totals, margins, the same chart split another way, or filtered charts.
 * - Every shown count is rounded to the nearest multiple of `rounding`, and moved by a fixed amount from `-noise`
 *   to `+noise` that depends on the number alone (asking again gives the same answer).
 *
 * @example
 * const genomicsEngland: DisclosureRule = DISCLOSURE_PRESETS['genomics-england'].rule;
 */
export interface DisclosureRule {
  /** The smallest non-zero count shown. */
  readonly threshold: number;
  /** What a hidden small count is shown as, e.g. `<5`. */
  readonly hiddenAs: string;
  /** Shown counts are rounded to the nearest multiple of this; 1 shows them as they are. */
  readonly rounding: number;
  /** Shown counts are moved by up to this much, always the same for the same number; 0 for none. */
  readonly noise: number;
  readonly complementary: boolean;
  /** The preset the rule comes from, if any (settings given beside it override its own). */
  readonly preset: DisclosurePreset | null;
}

/**
 * A programme's published rule on counts from patient data, as a preset for serverconfig.json. pp-embed applies the
 * programme's threshold, display, rounding and noise, and always adds its own complementary suppression: where a
 * programme's wording leaves a way to work a hidden count out (PIC-SURE shows noisy totals in place of hidden ones,
 * which many totals average out), the preset is stricter than the programme.
 *
 * @example
 * const { programme, source } = DISCLOSURE_PRESETS.opensafely;
 */
export const DISCLOSURE_PRESETS = {
  'all-of-us': {
    programme: 'All of Us',
    rule: { threshold: 21, hiddenAs: '≤20', rounding: 1, noise: 0, complementary: true },
    summary:
      'No participant count from 1 to 20 is shown, nor anything that lets one be derived from other cells (Data and Statistics Dissemination Policy).',
    source:
      'https://support.researchallofus.org/hc/en-us/articles/360040042792-What-data-or-figures-can-I-download-in-compliance-with-the-Data-Use-Agreement',
  },
  'genomics-england': {
    programme: 'Genomics England',
    rule: { threshold: 5, hiddenAs: '<5', rounding: 1, noise: 0, complementary: true },
    summary:
      'Non-zero counts below five are masked as "<5" and must not be calculable from other values (Airlock rules).',
    source: 'https://re-docs.genomicsengland.co.uk/airlock_rules/',
  },
  opensafely: {
    programme: 'OpenSAFELY',
    rule: { threshold: 8, hiddenAs: '≤7', rounding: 5, noise: 0, complementary: true },
    summary:
      'Counts of 7 or fewer are redacted, totals may not reveal them, and every count is then rounded to the nearest 5 (disclosure control guidance).',
    source: 'https://docs.opensafely.org/releasing-files/',
  },
  'pic-sure': {
    programme: 'PIC-SURE',
    rule: { threshold: 10, hiddenAs: '<10', rounding: 1, noise: 3, complementary: true },
    summary:
      'Counts from 1 to 9 are shown as "<10", and counts made of such small groups are obfuscated by ±3 (Open PIC-SURE).',
    source:
      'https://pic-sure.gitbook.io/nhlbi-biodata-catalyst-powered-by-pic-sure/open-pic-sure/open-pic-sure-features',
  },
} as const satisfies Record<
  string,
  {
    readonly programme: string;
    readonly rule: Omit<DisclosureRule, 'preset'>;
    readonly summary: string;
    readonly source: string;
  }
>;

/** A preset's name in serverconfig.json. @example const name: DisclosurePreset = 'opensafely'; */
export type DisclosurePreset = keyof typeof DISCLOSURE_PRESETS;

/** Every preset name, in table order. @example DISCLOSURE_PRESET_NAMES.includes('pic-sure'); // true */
export const DISCLOSURE_PRESET_NAMES = Object.keys(DISCLOSURE_PRESETS) as readonly DisclosurePreset[];

/** True for a preset name. @example isDisclosurePreset('opensafely'); // true */
export function isDisclosurePreset(name: unknown): name is DisclosurePreset {
  return typeof name === 'string' && Object.hasOwn(DISCLOSURE_PRESETS, name);
}

/**
 * The rule of a preset.
 *
 * @example
 * presetRule('genomics-england').threshold; // 5
 */
export function presetRule(name: DisclosurePreset): DisclosureRule {
  return { ...DISCLOSURE_PRESETS[name].rule, preset: name };
}

/**
 * What an answer says about the counts in it: the caller's tier, and the rule applied (null: exact counts).
 *
 * @example
 * const shown = (n: number | null) => (n === null ? d.rule?.hiddenAs : d.rule && d.rule.rounding > 1 ? `≈ ${n}` : n);
 */
export interface Disclosure {
  readonly tier: Tier;
  readonly rule: DisclosureRule | null;
}

/**
 * A count as a reader should see it under a rule: `<5` for a small hidden count, `hidden` for a withheld one,
 * `≈ 40` for a rounded or perturbed one, the number otherwise.
 *
 * @example
 * shownAs(null, true, presetRule('genomics-england')); // '<5'
 * shownAs(40, false, presetRule('opensafely')); // '≈ 40'
 */
export function shownAs(count: number | null, small: boolean, rule: DisclosureRule | null): string {
  if (count === null) return small && rule !== null ? rule.hiddenAs : 'hidden';
  const text = count.toLocaleString('en-US');
  return rule !== null && count !== 0 && (rule.rounding > 1 || rule.noise > 0) ? `≈ ${text}` : text;
}
