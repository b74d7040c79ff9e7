import { css } from 'lit';

/**
 * Styles of `<pp-barchart>`, on top of the shared theme tokens and chart styles.
 *
 * @example
 * static override styles = [tokens, chartStyles, barchartStyles];
 */
export const barchartStyles = css`
  .top {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    justify-content: space-between;
    gap: 0.4em 1.5em;
    margin: 0 0 0.75em;
    font-size: 0.857em;
  }

  .top .legend {
    margin: 0;
    font-size: 1em;
  }

  svg {
    border-radius: 4px;
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

  /* Hidden cells and overlay segments take their fill from the attribute, which a CSS fill would override. */
  .bar:not(.suppressed):not([fill]) {
    fill: var(--_bar);
    transition: fill 120ms ease-out;
  }

  .row.active .bar:not(.suppressed):not([fill]) {
    fill: var(--_bar-active);
  }

  .row.active .bar[fill]:not(.suppressed) {
    filter: brightness(0.85);
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
