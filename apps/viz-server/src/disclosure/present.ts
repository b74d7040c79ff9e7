// How a number is shown under a rule once the lattice has decided it may be: rounded to the rule's base, and
// moved by the rule's noise. Neither is what keeps hidden counts hidden (suppression does, on exact values);
// they follow the programmes that ask for them, and repeat exactly for the same number.
//
// The noise of a number is an HMAC of the number's identity (which samples it counts: its canonical box) under a
// key only the data gives (a digest of the dataset's columns): every replica of the same file adds the same noise
// to the same number, however it is asked for, so asking again or in other words averages nothing away; and no
// one without the file can work the noise out and take it off.
import { createHmac } from 'node:crypto';

import type { DisclosureRule } from '@pp-embed/viz-api';

import { type BoxValue, SHOWN, SMALL } from './lattice.js';

/**
 * A shown count as the rule presents it: zero stays zero; noise from `-noise` to `+noise` that depends only on
 * `identity` (which samples the number counts) and `key` (the dataset's), then rounding to the nearest multiple of
 * `rounding`, never below one multiple (a non-zero count is never shown as 0).
 *
 * @example
 * presentCount(42, presetRule('opensafely'), 'x', key); // 40
 */
export function presentCount(value: number, rule: DisclosureRule, identity: string, key: string): number {
  if (value === 0) return 0;
  let out = value;
  if (rule.noise > 0) {
    const draw = createHmac('sha256', key).update(identity).digest().readUInt32BE(0);
    out += (draw % (2 * rule.noise + 1)) - rule.noise;
  }
  if (rule.rounding > 1) out = Math.max(rule.rounding, Math.round(out / rule.rounding) * rule.rounding);
  return Math.max(1, out);
}

/**
 * A number of an answer on the wire: the presented count, or null with `suppressed` telling a small count from a
 * withheld one.
 *
 * @example
 * shown({ value: 3, state: SMALL }, rule, 'x', key); // { count: null, suppressed: true }
 */
export function shown(
  box: BoxValue,
  rule: DisclosureRule,
  identity: string,
  key: string,
): { count: number | null; suppressed: boolean } {
  if (box.state !== SHOWN) return { count: null, suppressed: box.state === SMALL };
  return { count: presentCount(box.value, rule, identity, key), suppressed: false };
}
