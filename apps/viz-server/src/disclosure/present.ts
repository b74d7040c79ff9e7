// How a number is shown under a rule once the lattice has decided it may be: rounded to the rule's base, and
// moved by the rule's noise. Neither is what keeps hidden counts hidden (suppression does, on exact values);
// they follow the programmes that ask for them, and repeat exactly for the same number.
import type { DisclosureRule } from '@pp-embed/viz-api';

import { type BoxValue, SHOWN, SMALL } from './lattice.js';

/** A 32-bit FNV-1a hash: the same noise for the same number on every replica, without a key to keep. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A shown count as the rule presents it: zero stays zero; noise from `-noise` to `+noise` that depends only on
 * `identity` (the number's place: dataset, terms, categories), then rounding to the nearest multiple of `rounding`,
 * never below one multiple (a non-zero count is never shown as 0).
 *
 * @example
 * presentCount(42, presetRule('opensafely'), 'x'); // 40
 */
export function presentCount(value: number, rule: DisclosureRule, identity: string): number {
  if (value === 0) return 0;
  let out = value;
  if (rule.noise > 0) out += (hash(identity) % (2 * rule.noise + 1)) - rule.noise;
  if (rule.rounding > 1) out = Math.max(rule.rounding, Math.round(out / rule.rounding) * rule.rounding);
  return Math.max(1, out);
}

/**
 * A number of an answer on the wire: the presented count, or null with `suppressed` telling a small count from a
 * withheld one.
 *
 * @example
 * shown({ value: 3, state: SMALL }, rule, 'x'); // { count: null, suppressed: true }
 */
export function shown(
  box: BoxValue,
  rule: DisclosureRule,
  identity: string,
): { count: number | null; suppressed: boolean } {
  if (box.state !== SHOWN) return { count: null, suppressed: box.state === SMALL };
  return { count: presentCount(box.value, rule, identity), suppressed: false };
}
