import { css } from 'lit';

/**
 * Styles of `<pp-sample-table>`, on top of the shared theme tokens.
 *
 * @example
 * static override styles = [tokens, sampleTableStyles];
 */
export const sampleTableStyles = css`
  :host {
    display: block;
  }

  .scroller {
    max-block-size: var(--pp-table-max-height, 22em);
    overflow: auto;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
  }

  table {
    inline-size: 100%;
    border-collapse: separate;
    border-spacing: 0;
    font-variant-numeric: tabular-nums;
  }

  th,
  td {
    padding: 0.45em 0.9em;
    text-align: start;
    border-block-end: 1px solid var(--_grid);
  }

  th {
    position: sticky;
    inset-block-start: 0;
    z-index: 1;
    background: var(--_surface);
    font-size: 0.857em;
    font-weight: 600;
    letter-spacing: 0.01em;
    color: var(--_muted);
    border-block-end-color: var(--_border);
  }

  tbody tr:last-child td {
    border-block-end: none;
  }

  tbody tr:nth-child(even) td {
    background: color-mix(in srgb, var(--_surface) 55%, transparent);
  }

  .numeric {
    text-align: end;
  }

  .pagination {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    justify-content: space-between;
    gap: 0.5em 1em;
    margin-block-start: 0.75em;
    color: var(--_muted);
    font-size: 0.93em;
    font-variant-numeric: tabular-nums;
  }

  .buttons {
    display: flex;
    gap: 0.5em;
  }

  button {
    font: inherit;
    padding: 0.3em 0.9em;
    border: 1px solid var(--_border);
    border-radius: 6px;
    background: var(--_background);
    color: var(--_text);
    cursor: pointer;
  }

  button:hover:not(:disabled) {
    border-color: var(--_accent);
    color: var(--_accent);
  }

  button:disabled {
    cursor: default;
    opacity: 0.5;
  }

  [aria-busy='true'] tbody {
    opacity: 0.55;
  }
`;
