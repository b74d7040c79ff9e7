import { css } from 'lit';

/**
 * Styles of `<pp-viewer>`, on top of the shared theme tokens.
 *
 * @example
 * static override styles = [tokens, viewerStyles];
 */
export const viewerStyles = css`
  :host {
    display: block;
    container-type: inline-size;
  }

  :host([hidden]) {
    display: none;
  }

  .frame {
    overflow: hidden;
    background: var(--_background);
    border: 1px solid var(--_border);
    border-radius: calc(var(--_radius) + 2px);
  }

  .header {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5em 0.75em;
    padding: 0.8em 1.25em;
    border-block-end: 1px solid var(--_border);
  }

  .dataset {
    margin: 0;
    font-size: 1.07em;
    font-weight: 650;
    letter-spacing: -0.005em;
  }

  .pill {
    padding: 0.08em 0.6em;
    border: 1px solid var(--_border);
    border-radius: 999px;
    background: var(--_surface);
    color: var(--_muted);
    font-size: 0.786em;
    font-weight: 500;
    line-height: 1.6;
  }

  .pill.restricted {
    margin-inline-start: auto;
  }

  .pad {
    padding: 1.25em 1.5em;
  }

  .layout {
    display: grid;
    grid-template-columns: minmax(13em, 17.5em) minmax(0, 1fr);
    min-block-size: 20em;
  }

  /* The sidebar is as tall as the chart column; a long tree scrolls inside it instead of stretching the widget. */
  .sidebar {
    position: relative;
    background: var(--_surface);
    border-inline-end: 1px solid var(--_border);
  }

  .sidebar-scroll {
    position: absolute;
    inset: 0;
    overflow: auto;
    padding: 1em 0.6em;
  }

  .eyebrow {
    margin: 0 0 0.5em;
    padding-inline: 0.5em;
    font-size: 0.75em;
    font-weight: 600;
    letter-spacing: 0.06em;
    text-transform: uppercase;
    color: var(--_muted);
  }

  .main {
    display: grid;
    align-content: start;
    gap: 0;
    min-inline-size: 0;
  }

  .card {
    padding: 1.25em 1.5em 1.4em;
    min-inline-size: 0;
  }

  .card + .card {
    border-block-start: 1px solid var(--_border);
  }

  .card-title {
    margin: 0 0 0.85em;
    font-size: 1em;
    font-weight: 650;
  }

  .card-title .sub {
    margin-inline-start: 0.5em;
    font-weight: 400;
    color: var(--_muted);
    font-size: 0.929em;
  }

  .placeholder {
    display: grid;
    justify-items: center;
    gap: 0.6em;
    padding: 3em 1em;
    text-align: center;
    color: var(--_muted);
  }

  .placeholder svg {
    inline-size: 2.5em;
    block-size: 2.5em;
    color: var(--_border);
  }

  .placeholder p {
    max-inline-size: 26em;
    margin: 0;
  }

  @container (max-width: 640px) {
    .layout {
      grid-template-columns: minmax(0, 1fr);
    }

    .sidebar {
      border-inline-end: none;
      border-block-end: 1px solid var(--_border);
    }

    .sidebar-scroll {
      position: static;
      max-block-size: var(--pp-tree-max-height, 16em);
    }

    .card {
      padding-inline: 1em;
    }
  }

  .password {
    display: flex;
    flex-wrap: wrap;
    align-items: flex-end;
    gap: 0.6em 0.75em;
    max-inline-size: 36em;
  }

  .password-label {
    display: grid;
    gap: 0.4em;
    flex: 1 1 16em;
  }

  .password input {
    font: inherit;
    padding: 0.45em 0.6em;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
  }

  .password button {
    font: inherit;
    padding: 0.45em 1.1em;
    border: 1px solid var(--_accent);
    border-radius: var(--_radius);
    background: var(--_accent);
    color: #fff;
    cursor: pointer;
  }

  .password button:disabled {
    opacity: 0.6;
    cursor: progress;
  }

  .password .message {
    flex-basis: 100%;
  }
`;
