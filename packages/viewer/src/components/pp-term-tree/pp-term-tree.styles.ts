import { css } from 'lit';

/**
 * Styles of `<pp-term-tree>`, on top of the shared theme tokens.
 *
 * @example
 * static override styles = [tokens, termTreeStyles];
 */
export const termTreeStyles = css`
  :host {
    display: block;
  }

  ul {
    margin: 0;
    padding: 0;
    list-style: none;
  }

  [role='treeitem'] {
    outline: none;
  }

  .row {
    display: flex;
    align-items: center;
    gap: 0.35em;
    min-block-size: 2em;
    padding: 0.2em 0.5em 0.2em calc(0.35em + var(--level, 0) * 1.1em);
    border-radius: 6px;
    cursor: pointer;
    user-select: none;
  }

  .row:hover {
    background: color-mix(in srgb, var(--_accent) 7%, transparent);
  }

  [role='treeitem']:focus-visible > .row {
    outline: 2px solid var(--_accent);
    outline-offset: -2px;
  }

  [aria-selected='true'] > .row {
    background: var(--_accent-soft);
    color: var(--_accent);
    font-weight: 600;
  }

  [aria-disabled='true'] > .row {
    cursor: default;
    color: var(--_muted);
  }

  [aria-disabled='true'] > .row:hover {
    background: none;
  }

  .twisty {
    flex: none;
    display: inline-grid;
    place-items: center;
    inline-size: 1.1em;
    block-size: 1.1em;
    color: var(--_muted);
  }

  .twisty svg {
    inline-size: 0.75em;
    block-size: 0.75em;
    transition: transform 120ms ease-out;
  }

  [aria-expanded='true'] > .row .twisty svg {
    transform: rotate(90deg);
  }

  .dot {
    inline-size: 0.34em;
    block-size: 0.34em;
    border-radius: 50%;
    background: currentColor;
    opacity: 0.45;
  }

  .name {
    flex: 1 1 auto;
    min-inline-size: 0;
    overflow-wrap: break-word;
  }

  .note {
    padding: 0.3em 0.5em 0.3em calc(1.8em + var(--level, 0) * 1.1em);
    color: var(--_muted);
    font-size: 0.93em;
  }

  .note .message {
    padding: 0.5em 0.7em;
    font-size: 0.93em;
  }

  .note .status {
    padding: 0.2em 0;
  }
`;
