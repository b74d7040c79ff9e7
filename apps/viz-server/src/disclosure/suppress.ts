// Which cells of one table a rule hides, given what the tables below it (its margins) show.
//
// 1. Primary: a count 0 < n < k is hidden (SMALL). Zeros are shown: an empty group hides no one.
// 2. Complementary, along every line of the table (the cells that differ in one dimension only; each line adds
//    up to a cell of a margin):
//    - a line whose sum is shown must not hold exactly one hidden cell (subtraction gives it), nor hidden cells
//      that add up to less than k (their group would be a small count worked out), nor nothing beyond what their
//      marks imply (a small count is at least 1, a withheld one at least k), which pins every small one to 1;
//    - a line whose sum is hidden must hold a hidden cell, or the sum would be given away; a line whose sum is a
//      small count is hidden whole, zeros included (BLANK): telling which of its cells are not zero would pin
//      them (four non-zero cells under a total below 5 are 1 each); only a zero that another line shows to be
//      zero stays shown.
//    A line that breaks this withholds one more of its shown cells (WITHHELD): one that also mends another line,
//    not one that would leave a line it sits on beyond mending, else the smallest; never a zero, and never a cell
//    a lower tier is shown. Repeated to a fixed point.
// 3. The audit (audit.ts) attacks the result with every public sum and every mark; what it can work out is mended
//    by withholding one more cell next to it, and the audit runs again. What only the marks pin (a small count is
//    at least 1, a withheld one at least k) with nothing left to withhold is told less of: the hidden cells of
//    its lines become MASKED, "not zero" only, small or not. A withheld count that can be worked out all the same
//    is shown instead: the attacker has it anyway, and it is not small.
// 4. A table whose small counts cannot be protected this way is shown in no detail: every non-zero count MASKED,
//    small or not, so that the marks say nothing beyond "not zero" (those that can be worked out anyway, and are
//    not small, are shown); if even that gives a small count away, every cell BLANK (fail closed).
import { auditTable, BLANK, boundsOf, type Margin, MASKED, SHOWN, SMALL, WITHHELD } from './audit.js';
import { coordinate, projector, type Shape } from './shape.js';

export { BLANK, type Margin, MASKED, SHOWN, SMALL, WITHHELD } from './audit.js';

export interface TableRule {
  /** The smallest non-zero count shown. */
  readonly threshold: number;
  readonly complementary: boolean;
}

export interface TableInput {
  readonly shape: Shape;
  readonly counts: ArrayLike<number>;
  /**
   * Every margin of the table over fewer dimensions (all of them, down to the grand total), each with the pattern
   * its own table was given: what other answers show.
   */
  readonly margins: readonly Margin[];
  /** The pattern a lower tier was given for this table: what it shows, this tier shows too. */
  readonly forced?: Uint8Array | undefined;
}

/** Rounds of audit and repair before a table is shown in no detail. */
const MAX_ROUNDS = 24;

/**
 * The state of every cell of a table under a rule: SHOWN, SMALL, WITHHELD, MASKED or BLANK (see the module
 * comment).
 *
 * @example
 * const states = suppressTable({ shape, counts, margins }, { threshold: 5, complementary: true });
 */
export function suppressTable(input: TableInput, rule: TableRule): Uint8Array {
  const { shape, counts } = input;
  const k = rule.threshold;
  const states = new Uint8Array(shape.cells);
  if (k <= 1) return states;
  for (let c = 0; c < shape.cells; c++) {
    const n = counts[c] as number;
    if (n > 0 && n < k) states[c] = SMALL;
  }
  if (!rule.complementary || shape.sizes.length === 0) return states;
  blankSmallLines(input, states);
  const outcome = protect(input, states, k);
  if (outcome === 'protected') return states;

  // Shown in no detail: only "not zero" is told of each count, unless even that gives a small one away (or the
  // table is too tangled to audit in bounded time).
  for (let c = 0; c < shape.cells && outcome === 'unprotectable'; c++) {
    const forcedShown = input.forced !== undefined && input.forced[c] === SHOWN;
    states[c] = (counts[c] as number) === 0 || forcedShown ? SHOWN : MASKED;
  }
  blankSmallLines(input, states);
  for (let round = 0; round < MAX_ROUNDS && outcome === 'unprotectable'; round++) {
    const found = auditTable(shape, counts, states, input.margins, k);
    if (found.failed || found.margins.length > 0) break;
    if (found.cells.length === 0) return states;
    if (found.cells.some((c) => (counts[c] as number) < k)) break;
    for (const c of found.cells) states[c] = SHOWN;
  }
  for (let c = 0; c < shape.cells; c++) {
    if (input.forced === undefined || input.forced[c] !== SHOWN) states[c] = BLANK;
  }
  return states;
}

/**
 * Hides whole, zeros included, every line whose sum is a small hidden count of a margin; but not a zero that
 * another line through it shows to be zero (a shown margin of 0): the attacker knows it already.
 */
function blankSmallLines(input: TableInput, states: Uint8Array): void {
  const { shape, counts } = input;
  const D = shape.sizes.length;
  const lines = Array.from({ length: D }, (_, d) => {
    const kept = Array.from({ length: D }, (_, e) => e).filter((e) => e !== d);
    const margin = input.margins.find(
      (m) => m.kept.length === kept.length && m.kept.every((e, i) => e === kept[i]),
    );
    return margin === undefined ? undefined : { margin, project: projector(shape, kept).project };
  }).filter((l) => l !== undefined);
  const knownZero = (c: number) =>
    (counts[c] as number) === 0 &&
    lines.some(({ margin, project }) => {
      const u = project(c);
      return margin.pattern[u] === SHOWN && (margin.counts[u] as number) === 0;
    });
  for (const { margin, project } of lines) {
    for (let c = 0; c < shape.cells; c++) {
      if (
        margin.pattern[project(c)] === SMALL &&
        (input.forced === undefined || input.forced[c] !== SHOWN) &&
        !knownZero(c)
      ) {
        states[c] = BLANK;
      }
    }
  }
}

/**
 * Complementary suppression and audit (steps 2 and 3): whether the table is protected, cannot be mended, or holds
 * more linked hidden cells than the audit solves in bounded time.
 */
function protect(
  input: TableInput,
  states: Uint8Array,
  k: number,
): 'protected' | 'unprotectable' | 'too-large' {
  const { shape, counts, forced } = input;
  const D = shape.sizes.length;
  const cells = shape.cells;
  const all = Array.from({ length: D }, (_, d) => d);
  // Per dimension d: the margin that keeps every dimension but d (what each line along d adds up to), each cell's
  // line, and each line's first cell.
  const lines = all.map((d) => {
    const kept = all.filter((e) => e !== d);
    const margin = input.margins.find(
      (m) => m.kept.length === kept.length && m.kept.every((e, i) => e === kept[i]),
    );
    if (margin === undefined) throw new Error(`the margin without dimension ${d} is missing`);
    const { project, shape: lineShape } = projector(shape, kept);
    const of = new Int32Array(cells);
    const first = new Int32Array(lineShape.cells);
    for (let c = 0; c < cells; c++) {
      const u = project(c);
      of[c] = u;
      if (coordinate(shape, c, d) === 0) first[u] = c;
    }
    return {
      margin,
      of,
      first,
      stride: shape.strides[d] as number,
      size: shape.sizes[d] as number,
      hidden: new Uint32Array(lineShape.cells),
      // Hidden cells an attacker cannot bound below 1 (small or blank ones), the hidden sum, and the least sum
      // their marks allow.
      open: new Uint32Array(lineShape.cells),
      sum: new Float64Array(lineShape.cells),
      least: new Float64Array(lineShape.cells),
    };
  });
  type Line = (typeof lines)[number];
  const lineAt = (d: number) => lines[d] as Line;
  const count = (c: number, by = 1) => {
    const state = states[c] as number;
    const least = boundsOf(state, k)[0] * by;
    const open = state === SMALL || state === BLANK ? by : 0;
    const n = (counts[c] as number) * by;
    for (let d = 0; d < D; d++) {
      const l = lineAt(d);
      const u = l.of[c] as number;
      l.hidden[u] = (l.hidden[u] as number) + by;
      l.open[u] = (l.open[u] as number) + open;
      l.sum[u] = (l.sum[u] as number) + n;
      l.least[u] = (l.least[u] as number) + least;
    }
  };
  for (let c = 0; c < cells; c++) if (states[c] !== SHOWN) count(c);

  // Withheld counts shown again because they can be worked out anyway: never withheld again.
  const exposed = new Uint8Array(cells);
  const candidate = (c: number) =>
    states[c] === SHOWN &&
    (counts[c] as number) > 0 &&
    exposed[c] === 0 &&
    (forced === undefined || forced[c] !== SHOWN);
  const needsMore = (d: number, u: number) => {
    const l = lineAt(d);
    const h = l.hidden[u] as number;
    if (l.margin.pattern[u] !== SHOWN) return h === 0 && (l.margin.counts[u] as number) > 0;
    if (h === 0) return false;
    if (h === 1) return true;
    const sum = l.sum[u] as number;
    return (sum > 0 && sum < k) || ((l.open[u] as number) > 0 && sum - (l.least[u] as number) < 1);
  };
  /** Whether withholding c would leave a line along e with nothing left to mend it with. */
  const strands = (e: number, c: number) => {
    const l = lineAt(e);
    const u = l.of[c] as number;
    if (l.margin.pattern[u] !== SHOWN || (l.hidden[u] as number) !== 0) return false;
    const first = l.first[u] as number;
    for (let j = 0; j < l.size; j++) {
      const x = first + j * l.stride;
      if (x !== c && candidate(x)) return false;
    }
    return true;
  };
  /** The shown cell of line u along d to withhold (see the module comment), or -1. */
  const pick = (d: number, u: number): number => {
    const l = lineAt(d);
    // A withheld cell adds to the slack only what it holds beyond k: prefer one that makes up the deficit.
    const need =
      (l.open[u] as number) === 0 ? 0 : Math.max(0, 1 - ((l.sum[u] as number) - (l.least[u] as number)));
    let best = -1;
    let bestScore = -Infinity;
    const first = l.first[u] as number;
    for (let j = 0; j < l.size; j++) {
      const c = first + j * l.stride;
      if (!candidate(c)) continue;
      let score = (counts[c] as number) - k >= need ? 1000 : 0;
      for (let e = 0; e < D; e++) {
        if (e === d) continue;
        if (needsMore(e, lineAt(e).of[c] as number)) score++;
        else if (strands(e, c)) score -= 100;
      }
      if (score > bestScore || (score === bestScore && (counts[c] as number) < (counts[best] as number))) {
        best = c;
        bestScore = score;
      }
    }
    return best;
  };
  // Lines to look at again: those through a cell whose state changed.
  const queue: number[] = [];
  const queued = lines.map((l) => new Uint8Array(l.hidden.length));
  const enqueue = (c: number) => {
    for (let d = 0; d < D; d++) {
      const u = lineAt(d).of[c] as number;
      if ((queued[d] as Uint8Array)[u] === 0) {
        (queued[d] as Uint8Array)[u] = 1;
        queue.push(d, u);
      }
    }
  };
  const setState = (c: number, state: number) => {
    if (states[c] !== SHOWN) count(c, -1);
    states[c] = state;
    if (state !== SHOWN) count(c);
    enqueue(c);
  };
  const hide = (c: number) => setState(c, WITHHELD);
  /** Tells less of the hidden cells of the shown-sum lines through c: "not zero" only. False if none changes. */
  const unmark = (c: number): boolean => {
    let changed = false;
    for (let d = 0; d < D; d++) {
      const l = lineAt(d);
      const u = l.of[c] as number;
      if (l.margin.pattern[u] !== SHOWN) continue;
      const first = l.first[u] as number;
      for (let j = 0; j < l.size; j++) {
        const x = first + j * l.stride;
        if (states[x] === SMALL || states[x] === WITHHELD) {
          setState(x, MASKED);
          changed = true;
        }
      }
    }
    return changed;
  };
  /** Mends the queued lines to a fixed point, as far as they can be: the audit finds what is left. */
  const fixedPoint = () => {
    while (queue.length > 0) {
      const u = queue.pop() as number;
      const d = queue.pop() as number;
      (queued[d] as Uint8Array)[u] = 0;
      while (needsMore(d, u)) {
        const c = pick(d, u);
        if (c < 0) break;
        hide(c);
      }
    }
  };
  /** Withholds one more cell on a line through hidden cell c: the line with fewest hidden cells that has one. */
  const mend = (c: number): boolean => {
    let best = -1;
    let fewest = Infinity;
    for (let d = 0; d < D; d++) {
      const l = lineAt(d);
      const u = l.of[c] as number;
      const h = l.hidden[u] as number;
      if (h >= fewest) continue;
      const x = pick(d, u);
      if (x >= 0) {
        fewest = h;
        best = x;
      }
    }
    if (best < 0) return false;
    hide(best);
    return true;
  };

  for (const l of lines) l.hidden.forEach((_, u) => queue.push(lines.indexOf(l), u));
  fixedPoint();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const found = auditTable(shape, counts, states, input.margins, k);
    if (found.failed) return 'too-large';
    if (found.cells.length === 0 && found.margins.length === 0) return 'protected';
    const pinned = new Set(found.pinned);
    for (const c of found.cells) {
      if (mend(c)) continue;
      if (pinned.has(c) && unmark(c)) continue;
      if (states[c] === SMALL) return 'unprotectable';
      // A withheld count the public sums give away, with nothing left to hide beside it: shown, as it is known.
      setState(c, SHOWN);
      exposed[c] = 1;
    }
    for (const { margin, cell } of found.margins) {
      const m = input.margins[margin] as Margin;
      const project = projector(shape, m.kept).project;
      // Withhold the smallest shown cell that adds to it, else mend around one of its hidden cells.
      let best = -1;
      let around = -1;
      for (let c = 0; c < cells; c++) {
        if (project(c) !== cell) continue;
        if (candidate(c) && (best < 0 || (counts[c] as number) < (counts[best] as number))) best = c;
        if (states[c] !== SHOWN) around = c;
      }
      if (best >= 0) hide(best);
      else if (around < 0 || !mend(around)) return 'unprotectable';
    }
    fixedPoint();
  }
  return 'unprotectable';
}
