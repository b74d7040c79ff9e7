// Numeric binning per ProteinPaint's "Numerical Binning Scheme" (`jsondata.bins.default`), with the same
// labels ProteinPaint shows ("<5", "5 to <10", "≥40", or "5 to 9" when the term sets a label_offset).

/** Bins laid out for one barchart are capped, as ProteinPaint does, so a tiny bin_size cannot flood a chart. */
export const MAX_BINS = 100;

interface BinConfigBase {
  /** d3-format specifier from `bins.default.rounding` or `bins.rounding`; only "d" and ".Nf" are applied. */
  readonly rounding: string | null;
  /** `bins.label_offset`: 1 turns "5 to <10" into "5 to 9" for integer-like values. */
  readonly labelOffset: number;
}

export interface RegularBinConfig extends BinConfigBase {
  readonly type: 'regular-bin';
  readonly binSize: number;
  readonly firstStop: number;
  /** Start of the open-ended last bin, when the term caps its bins. */
  readonly lastStart: number | null;
  readonly startinclusive: boolean;
  readonly stopinclusive: boolean;
}

export interface CustomBinConfig extends BinConfigBase {
  readonly type: 'custom-bin';
  readonly bins: readonly Bin[];
}

export type BinConfig = RegularBinConfig | CustomBinConfig;

export interface Bin {
  /** null: unbounded below. */
  readonly start: number | null;
  /** null: unbounded above. */
  readonly stop: number | null;
  readonly startinclusive: boolean;
  readonly stopinclusive: boolean;
  readonly label: string;
}

/** A bin as the half-open range of doubles `lo <= v < hi` that SQL compares against. */
export interface BinRange {
  readonly lo: number;
  readonly hi: number;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function finite(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * Reads a term's `jsondata.bins` into a checked configuration, or null when the term cannot be binned
 * (no default bins, percentile-based bins, or a configuration ProteinPaint itself would reject).
 *
 * @example
 * parseBinConfig({ default: { type: 'regular-bin', bin_size: 5, first_bin: { stop: 5 } } });
 * // { type: 'regular-bin', binSize: 5, firstStop: 5, lastStart: null, startinclusive: true, ... }
 */
export function parseBinConfig(bins: unknown): BinConfig | null {
  if (!isObject(bins) || !isObject(bins.default)) return null;
  const d = bins.default;
  const rounding =
    typeof d.rounding === 'string' ? d.rounding : typeof bins.rounding === 'string' ? bins.rounding : null;
  const offset = finite(d.label_offset) ?? finite(bins.label_offset) ?? 0;
  const type = d.type ?? 'regular-bin';

  if (type === 'regular-bin') {
    const binSize = finite(d.bin_size);
    if (binSize === null || binSize <= 0) return null;
    if (!isObject(d.first_bin) || 'stop_percentile' in d.first_bin || 'start_percentile' in d.first_bin)
      return null;
    const firstStop = finite(d.first_bin.stop);
    if (firstStop === null) return null;
    let lastStart: number | null = null;
    if (d.last_bin !== undefined) {
      if (!isObject(d.last_bin) || 'start_percentile' in d.last_bin || 'stop' in d.last_bin) return null;
      lastStart = finite(d.last_bin.start);
      if (lastStart === null) return null;
    }
    let startinclusive = Boolean(d.startinclusive);
    const stopinclusive = Boolean(d.stopinclusive);
    if (!startinclusive && !stopinclusive) startinclusive = true;
    return {
      type,
      binSize,
      firstStop,
      lastStart,
      startinclusive,
      stopinclusive,
      rounding,
      // ProteinPaint ignores an offset larger than the bins it would shorten.
      labelOffset: binSize < offset ? 0 : offset,
    };
  }

  if (type === 'custom-bin') {
    if (!Array.isArray(d.lst) || d.lst.length === 0) return null;
    const cfg = { rounding, labelOffset: offset, binSize: null };
    const out: Bin[] = [];
    let previousStop = -Infinity;
    for (const [i, raw] of d.lst.entries()) {
      if (!isObject(raw) || !('startinclusive' in raw || 'stopinclusive' in raw)) return null;
      const first = i === 0;
      const last = i === d.lst.length - 1 && !first;
      const start = first ? null : finite(raw.start);
      const stop = last ? null : finite(raw.stop);
      if ((!first && start === null) || (!last && stop === null)) return null;
      if (first && 'start' in raw) return null;
      if (last && 'stop' in raw) return null;
      // Bins must run upwards: a value then belongs to the first bin that holds it, as it reads on screen.
      if (start !== null && start < previousStop) return null;
      if (start !== null && stop !== null && start > stop) return null;
      previousStop = stop ?? previousStop;
      const shape = {
        start,
        stop,
        startinclusive: Boolean(raw.startinclusive),
        stopinclusive: Boolean(raw.stopinclusive),
      };
      const label = typeof raw.label === 'string' && raw.label !== '' ? raw.label : binLabel(shape, cfg);
      out.push({ ...shape, label });
    }
    return { type, bins: out, rounding, labelOffset: offset };
  }

  return null;
}

/**
 * The bins of one barchart. Custom bins are fixed. Regular bins start with `<first_bin.stop`, step by
 * `bin_size`, stop at `last_bin.start` when the term sets one, and end with an open-ended bin ("≥X") at the
 * bin that holds `max`, the largest value being charted. With no value to chart (`max` null) there are no
 * regular bins.
 *
 * @example
 * layoutBins(parseBinConfig({ default: { bin_size: 5, first_bin: { stop: 5 } } })!, 17).map((b) => b.label);
 * // ['<5', '5 to <10', '10 to <15', '≥15']
 */
export function layoutBins(config: BinConfig, max: number | null): Bin[] {
  if (config.type === 'custom-bin') return [...config.bins];
  if (max === null) return [];
  const { binSize, firstStop, lastStart, startinclusive, stopinclusive } = config;
  const holdsMax = (stop: number) => max < stop || (stopinclusive && max === stop);
  const make = (start: number | null, stop: number | null): Bin => {
    const shape = { start, stop, startinclusive, stopinclusive };
    return { ...shape, label: binLabel(shape, config) };
  };

  const bins: Bin[] = [make(null, firstStop)];
  if (holdsMax(firstStop)) return bins;
  let start = firstStop;
  for (let k = 1; ; k++) {
    if (bins.length === MAX_BINS - 1 || (lastStart !== null && start >= lastStart)) {
      bins.push(make(start, null));
      return bins;
    }
    // Multiplying rather than adding keeps bin edges free of accumulated rounding error.
    let stop = firstStop + k * binSize;
    if (lastStart !== null && stop > lastStart) stop = lastStart;
    if (holdsMax(stop)) {
      bins.push(make(start, null));
      return bins;
    }
    bins.push(make(start, stop));
    start = stop;
  }
}

/**
 * Turns bins into disjoint half-open ranges of doubles, so that SQL can count each bin with one index range
 * (`lo <= value < hi`) whatever its inclusive ends. Where bins touch at an inclusive edge, the value goes
 * to the first bin.
 *
 * @example
 * binRanges([{ start: null, stop: 5, startinclusive: true, stopinclusive: false, label: '<5' }]);
 * // [{ lo: -Infinity, hi: 5 }]
 */
export function binRanges(bins: readonly Bin[]): BinRange[] {
  let floor = -Infinity;
  return bins.map((b) => {
    let lo = b.start === null ? -Infinity : b.startinclusive ? b.start : nextUp(b.start);
    const hi = b.stop === null ? Infinity : b.stopinclusive ? nextUp(b.stop) : b.stop;
    lo = Math.max(lo, floor);
    floor = Math.max(floor, hi);
    return { lo, hi: Math.max(lo, hi) };
  });
}

/**
 * The smallest double above x: `v > x` is `v >= nextUp(x)` for every double v.
 *
 * @example
 * nextUp(1); // 1.0000000000000002
 */
export function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}

interface LabelConfig {
  readonly rounding: string | null;
  readonly labelOffset: number;
  readonly binSize: number | null;
}

type BinShape = Omit<Bin, 'label'>;

function binLabel(bin: BinShape, cfg: LabelConfig): string {
  const fmt = formatter(cfg.rounding);
  const { start, stop } = bin;
  if (start === null) return (bin.stopinclusive ? '≤' : '<') + (stop === null ? '' : fmt(stop));
  if (stop === null || start === stop) return (bin.startinclusive ? '≥' : '>') + fmt(start);

  if (cfg.labelOffset && bin.startinclusive && !bin.stopinclusive) {
    if (cfg.binSize !== null && Number.isInteger(cfg.binSize) && Math.abs(start - stop) === cfg.labelOffset) {
      return fmt(start);
    }
    const v0 = fmt(start);
    const v1 = fmt(stop - cfg.labelOffset);
    return Number(v0) >= Number(v1) ? v0 : `${v0} to ${v1}`;
  }

  const v0 = Number.isInteger(start) ? String(start) : fmt(start);
  const v1 = Number.isInteger(stop) ? String(stop) : fmt(stop);
  // Rounding can make a narrow bin's ends meet; ProteinPaint then shows it as open-ended.
  if (Number(v0) >= Number(v1)) return (bin.startinclusive ? '≥' : '>') + v0;
  return `${bin.startinclusive ? '' : '>'}${v0} to ${bin.stopinclusive ? '' : '<'}${v1}`;
}

function formatter(rounding: string | null): (v: number) => string {
  if (rounding === 'd') return (v) => String(Math.round(v));
  const fixed = rounding === null ? null : /^\.(\d{1,2})f$/.exec(rounding);
  if (fixed?.[1] !== undefined) {
    const digits = Number(fixed[1]);
    return (v) => v.toFixed(digits);
  }
  // Twelve significant digits hide binary noise such as 3786.7599999999998 without touching real values.
  return (v) => String(Number(v.toPrecision(12)));
}
