import {
  type DatasetDisclosure,
  datasetDisclosure,
  disclosureProblems,
  type TierRule,
} from '@pp-embed/access-policy';
import { formatPath } from '@pp-embed/server-runtime';
import {
  DISCLOSURE_PRESET_NAMES,
  type DisclosureRule,
  isDisclosurePreset,
  presetRule,
  type Tier,
  TIERS,
} from '@pp-embed/viz-api';
import * as z from 'zod';

type Report = (segments: readonly PropertyKey[], message: string) => void;

const PRESET_LIST = [...DISCLOSURE_PRESET_NAMES, 'exact'].map((n) => `"${n}"`).join(', ');
const MAX_THRESHOLD = 10_000;
const MAX_ROUNDING = 1000;
const MAX_NOISE = 100;
const MAX_HIDDEN_AS = 16;
// What a widget shows must not carry control characters.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

// For the JSON Schema that editors read; the loader checks the block itself, so that every mistake is named with
// its path and a sentence rather than a union's "invalid input".
const ruleObjectSchema = z
  .strictObject({
    preset: z
      .enum(DISCLOSURE_PRESET_NAMES as [string, ...string[]])
      .optional()
      .meta({ description: "A programme's rule to start from; the settings beside it override its own." }),
    threshold: z
      .int()
      .min(1)
      .max(MAX_THRESHOLD)
      .optional()
      .meta({ description: 'The smallest non-zero count shown: counts from 1 to threshold - 1 are hidden.' }),
    hiddenAs: z
      .string()
      .min(1)
      .max(MAX_HIDDEN_AS)
      .optional()
      .meta({ description: 'What a hidden small count is shown as. Default "<threshold".' }),
    rounding: z.int().min(1).max(MAX_ROUNDING).optional().meta({
      description:
        'Shown counts are rounded to the nearest multiple of this (at most the threshold). Default 1.',
    }),
    noise: z.int().min(0).max(MAX_NOISE).optional().meta({
      description:
        'Shown counts are moved by a fixed amount from -noise to +noise, the same every time (below the threshold). Default 0.',
    }),
    complementary: z.boolean().optional().meta({
      description:
        'Withhold more counts so that no hidden one can be worked out from totals, margins, other splits or filters. Default true.',
    }),
  })
  .meta({ title: 'A disclosure rule' });

const ruleSchema = z
  .union([z.enum(['exact', ...DISCLOSURE_PRESET_NAMES]), ruleObjectSchema])
  .meta({ description: `A preset (${PRESET_LIST}) or a rule.` });

/** The `disclosure` block of a dataset in serverconfig.json, for the JSON Schema. */
export const disclosureSchema = z
  .strictObject({
    anonymous: ruleSchema
      .optional()
      .meta({ description: 'Callers without a verified token. Default: exact.' }),
    signedIn: ruleSchema
      .optional()
      .meta({ description: 'Tokens whose "access" claim is "signedIn". Default: the anonymous rule.' }),
    granted: ruleSchema.optional().meta({
      description:
        'Granted tokens of callers who may not read the sample-level rows (those who may see exact counts). Default: the signedIn rule.',
    }),
    sampleRows: z.enum(['protected', 'public']).optional().meta({
      description:
        'Sample-level routes that no credential protects: "protected" (default) serves them only to callers who see exact counts; "public" serves them to anyone.',
    }),
  })
  .meta({ title: 'Disclosure control: a rule per tier of caller' });

const RULE_KEYS = new Set(Object.keys(ruleObjectSchema.shape));
const BLOCK_KEYS = new Set(Object.keys(disclosureSchema.shape));

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function wholeNumber(
  value: unknown,
  min: number,
  max: number,
  at: readonly PropertyKey[],
  report: Report,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  report(at, `expected a whole number from ${min} to ${max}`);
  return undefined;
}

/** One tier's rule: a preset name, "exact", or an object; undefined when it has a problem (reported). */
function readRule(
  raw: unknown,
  at: readonly PropertyKey[],
  report: Report,
): DisclosureRule | null | undefined {
  if (raw === 'exact') return null;
  if (typeof raw === 'string') {
    if (isDisclosurePreset(raw)) return presetRule(raw);
    report(at, `unknown preset ${JSON.stringify(raw)}; expected one of ${PRESET_LIST}`);
    return undefined;
  }
  if (!isRecord(raw)) {
    report(at, `expected a preset (${PRESET_LIST}) or a rule object`);
    return undefined;
  }
  let ok = true;
  const fail: Report = (segments, message) => {
    ok = false;
    report(segments, message);
  };
  for (const key of Object.keys(raw)) if (!RULE_KEYS.has(key)) fail([...at, key], 'is not a known setting');
  let base: DisclosureRule | undefined;
  if (raw.preset !== undefined) {
    if (isDisclosurePreset(raw.preset)) base = presetRule(raw.preset);
    else
      fail(
        [...at, 'preset'],
        `unknown preset ${JSON.stringify(raw.preset)}; expected one of ${PRESET_LIST.replace(', "exact"', '')}`,
      );
  }
  const threshold = wholeNumber(raw.threshold, 1, MAX_THRESHOLD, [...at, 'threshold'], fail);
  const rounding = wholeNumber(raw.rounding, 1, MAX_ROUNDING, [...at, 'rounding'], fail);
  const noise = wholeNumber(raw.noise, 0, MAX_NOISE, [...at, 'noise'], fail);
  let hiddenAs: string | undefined;
  if (raw.hiddenAs !== undefined) {
    if (typeof raw.hiddenAs !== 'string' || raw.hiddenAs.trim() === '' || CONTROL.test(raw.hiddenAs)) {
      fail([...at, 'hiddenAs'], 'expected a short text such as "<5"');
    } else if (raw.hiddenAs.length > MAX_HIDDEN_AS) {
      fail([...at, 'hiddenAs'], `expected at most ${MAX_HIDDEN_AS} characters`);
    } else hiddenAs = raw.hiddenAs;
  }
  let complementary: boolean | undefined;
  if (raw.complementary !== undefined) {
    if (typeof raw.complementary === 'boolean') complementary = raw.complementary;
    else fail([...at, 'complementary'], 'expected true or false');
  }
  if (
    base === undefined &&
    threshold === undefined &&
    raw.preset === undefined &&
    raw.threshold === undefined
  ) {
    fail(at, 'give a "preset" or a "threshold"');
  }
  if (!ok) return undefined;
  const t = threshold ?? base?.threshold ?? 1;
  const rule: DisclosureRule = {
    threshold: t,
    hiddenAs: hiddenAs ?? (threshold === undefined && base !== undefined ? base.hiddenAs : `<${t}`),
    rounding: rounding ?? base?.rounding ?? 1,
    noise: noise ?? base?.noise ?? 0,
    complementary: complementary ?? base?.complementary ?? true,
    preset: base?.preset ?? null,
  };
  // A shown count is at least the threshold; rounding or noise past it could show it as 0, or as a number in
  // the hidden range, which says nothing true and hints at the hidden counts.
  if (rule.rounding > rule.threshold) {
    report(
      [...at, raw.rounding === undefined ? 'threshold' : 'rounding'],
      `rounding ${rule.rounding} is larger than the threshold ${rule.threshold}: a count the rule shows could be rounded to 0`,
    );
    return undefined;
  }
  if (rule.noise > 0 && rule.noise >= rule.threshold) {
    report(
      [...at, raw.noise === undefined ? 'threshold' : 'noise'],
      `noise ${rule.noise} is not below the threshold ${rule.threshold}: a count the rule shows could be moved to 0`,
    );
    return undefined;
  }
  return rule;
}

/** What a rule of a dataset with rows open to anyone hides, the rows show. */
const ROWS_PUBLIC =
  'publishes the sample rows to anyone, so the counts its rules hide can be counted from the rows';

/**
 * A dataset's disclosure settings from its `minSampleSize` (the short form: every tier hides counts below it) or its
 * `disclosure` block, each problem reported with its JSON path; undefined when there is one.
 *
 * @example
 * const d = readDisclosure({ disclosure: { anonymous: 'genomics-england' } }, ['datasets', 0], report, warnings);
 */
export function readDisclosure(
  dataset: { minSampleSize?: number | undefined; disclosure?: unknown },
  at: readonly PropertyKey[],
  report: Report,
  warnings: string[],
): DatasetDisclosure | undefined {
  const base = formatPath('', [...at, 'disclosure']);
  if (dataset.disclosure === undefined) {
    const k = dataset.minSampleSize;
    if (k === undefined) return datasetDisclosure({}, base);
    const rule: DisclosureRule = {
      threshold: k,
      hiddenAs: `<${k}`,
      rounding: 1,
      noise: 0,
      complementary: true,
      preset: null,
    };
    return datasetDisclosure({ anonymous: { rule, path: formatPath('', [...at, 'minSampleSize']) } }, base);
  }
  if (dataset.minSampleSize !== undefined) {
    report(
      [...at, 'minSampleSize'],
      'is the short form of disclosure.anonymous; with a disclosure block, give the threshold there',
    );
    return undefined;
  }
  const raw = dataset.disclosure;
  if (!isRecord(raw)) {
    report([...at, 'disclosure'], 'expected an object with a rule per tier: anonymous, signedIn, granted');
    return undefined;
  }
  let ok = true;
  for (const key of Object.keys(raw)) {
    if (!BLOCK_KEYS.has(key)) {
      report([...at, 'disclosure', key], 'is not a known setting');
      ok = false;
    }
  }
  const given: Partial<Record<Tier, TierRule>> = {};
  for (const tier of TIERS) {
    if (raw[tier] === undefined) continue;
    const path = [...at, 'disclosure', tier];
    const rule = readRule(raw[tier], path, report);
    if (rule === undefined) ok = false;
    else {
      given[tier] = { rule, path: formatPath('', path) };
      if (rule !== null && !rule.complementary && rule.threshold > 1) {
        warnings.push(
          `${formatPath('', path)}.complementary: false: hidden counts can be worked out from totals and other answers`,
        );
      }
    }
  }
  let sampleRows: 'protected' | 'public' | undefined;
  if (raw.sampleRows !== undefined) {
    if (raw.sampleRows === 'protected' || raw.sampleRows === 'public') sampleRows = raw.sampleRows;
    else {
      report([...at, 'disclosure', 'sampleRows'], 'expected "protected" or "public"');
      ok = false;
    }
  }
  if (!ok) return undefined;
  const disclosure = datasetDisclosure({ ...given, ...(sampleRows !== undefined && { sampleRows }) }, base);
  const problems = disclosureProblems(disclosure);
  for (const problem of problems) report([...at, 'disclosure', problem.tier], problem.message);
  if (problems.length > 0) return undefined;
  if (disclosure.sampleRows === 'public' && TIERS.some((t) => disclosure[t].rule !== null)) {
    warnings.push(`${disclosure.sampleRowsPath}: "public" ${ROWS_PUBLIC}`);
  }
  return disclosure;
}
