// The presets table of docs/disclosure.md, rendered from the wire contract (@pp-embed/viz-api).
import { DISCLOSURE_PRESET_NAMES, DISCLOSURE_PRESETS } from '@pp-embed/viz-api';

/** Every programme preset: its name in serverconfig.json, what it shows, and the programme's own words. */
export function presetTable(): string {
  const rows = DISCLOSURE_PRESET_NAMES.map((name) => {
    const { programme, rule, summary, source } = DISCLOSURE_PRESETS[name];
    const rounding = rule.rounding > 1 ? `nearest ${rule.rounding}` : 'none';
    const noise = rule.noise > 0 ? `±${rule.noise}` : 'none';
    return `| \`"${name}"\` | [${programme}](${source}) | 1 to ${rule.threshold - 1} | \`${rule.hiddenAs}\` | ${rounding} | ${noise} | ${summary} |`;
  });
  return [
    '| preset | programme | hidden counts | shown as | rounding | noise | the programme’s rule, in short |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
