import { css } from 'lit';

/**
 * Styles of `<pp-barchart>`, on top of the shared theme tokens.
 *
 * @example
 * static override styles = [tokens, barchartStyles];
 */
export const barchartStyles = css`
  :host {
    display: block;
    min-inline-size: 0;
  }

  .top {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    justify-content: space-between;
    gap: 0.4em 1.5em;
    margin: 0 0 0.75em;
    font-size: 0.857em;
  }

  .legend {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.4em 1.25em;
    margin: 0;
    padding: 0;
    list-style: none;
    color: var(--_muted);
  }

  .legend li {
    display: inline-flex;
    align-items: center;
    gap: 0.45em;
  }

  .swatch {
    inline-size: 0.9em;
    block-size: 0.9em;
    border-radius: 2px;
    background: var(--_bar);
  }

  .swatch.suppressed {
    background: repeating-linear-gradient(45deg, var(--_suppressed) 0 1.5px, var(--_background) 1.5px 4px);
    box-shadow: inset 0 0 0 1px var(--_suppressed);
  }

  svg {
    display: block;
    overflow: visible;
    font-family: var(--_font);
    border-radius: 4px;
  }

  svg:focus {
    outline: none;
  }

  svg:focus-visible {
    outline: 2px solid var(--_accent);
    outline-offset: 4px;
  }

  .grid {
    stroke: var(--_grid);
    stroke-width: 1;
    shape-rendering: crispEdges;
  }

  .baseline {
    stroke: var(--_muted);
    stroke-width: 1;
    shape-rendering: crispEdges;
  }

  .tick {
    fill: var(--_muted);
    font-size: 11px;
    font-variant-numeric: tabular-nums;
  }

  .label {
    fill: var(--_text);
    font-size: 13px;
  }

  .value {
    fill: var(--_text);
    font-size: 12.5px;
    font-weight: 600;
    font-variant-numeric: tabular-nums;
  }

  .value.suppressed {
    fill: var(--_muted);
    font-weight: 500;
  }

  /* Suppressed bars take their hatch from the fill attribute, which any CSS fill would override. */
  .bar:not(.suppressed) {
    fill: var(--_bar);
    transition: fill 120ms ease-out;
  }

  .row.active .bar:not(.suppressed) {
    fill: var(--_bar-active);
  }

  .bar.suppressed {
    stroke: var(--_suppressed);
    stroke-width: 1;
  }

  .row.active .bar.suppressed {
    stroke-width: 2;
  }

  .hit {
    fill: transparent;
  }

  .row.active .hit {
    fill: var(--_accent-soft);
  }

  .hatch-background {
    fill: var(--_background);
  }

  .hatch-line {
    stroke: var(--_suppressed);
    stroke-width: 1.6;
  }

  .readout {
    margin: 0 0 0 auto;
    color: var(--_text);
    font-variant-numeric: tabular-nums;
  }

  .readout strong {
    color: var(--_text);
    font-weight: 600;
  }
`;
