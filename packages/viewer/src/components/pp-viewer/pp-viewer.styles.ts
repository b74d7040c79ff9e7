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
    /* Room for the search field and a few rows of the tree beside a short chart card (a sentence). */
    min-block-size: 26em;
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

  .rule-note {
    margin: 0.75em 0 0;
    color: var(--_muted);
    font-size: 0.857em;
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

  .sidebar pp-term-search {
    margin: 0 0.25em 1em;
  }

  .filters {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.45em 0.5em;
    padding: 0.8em 1.5em;
    border-block-end: 1px solid var(--_border);
    background: var(--_surface);
  }

  .filters .eyebrow {
    margin: 0 0.25em 0 0;
    padding: 0;
  }

  .none {
    color: var(--_muted);
    font-size: 0.929em;
  }

  .toolbar {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5em 0.6em;
    margin: -0.35em 0 0.9em;
  }

  .chip {
    display: inline-flex;
    align-items: center;
    gap: 0.3em;
    padding: 0.15em 0.25em 0.15em 0.7em;
    border: 1px solid var(--_notice-border);
    border-radius: 999px;
    background: var(--_accent-soft);
    font-size: 0.857em;
  }

  .chip button {
    inline-size: 1.5em;
    block-size: 1.5em;
    padding: 0;
    border: none;
    border-radius: 50%;
    background: none;
    color: var(--_muted);
    font: inherit;
    font-size: 1.1em;
    line-height: 1;
    cursor: pointer;
  }

  .chip button:hover {
    background: var(--_background);
    color: var(--_text);
  }

  button.add,
  .views button,
  button.primary {
    padding: 0.25em 0.75em;
    border: 1px solid var(--_border);
    border-radius: 999px;
    background: var(--_background);
    color: var(--_text);
    font: inherit;
    font-size: 0.857em;
    cursor: pointer;
  }

  button.add:hover,
  .views button:hover {
    border-color: var(--_accent);
  }

  .views {
    display: inline-flex;
  }

  .views button {
    border-radius: 0;
  }

  .views button:first-child {
    border-radius: 999px 0 0 999px;
  }

  .views button:last-child {
    border-radius: 0 999px 999px 0;
  }

  .views button + button {
    margin-inline-start: -1px;
  }

  .views button[aria-pressed='true'] {
    position: relative;
    border-color: var(--_accent);
    background: var(--_accent-soft);
    color: var(--_accent);
    font-weight: 600;
  }

  button.primary {
    border-color: var(--_accent);
    background: var(--_accent);
    color: #fff;
  }

  button.primary:disabled {
    opacity: 0.5;
    cursor: default;
  }

  button.link {
    padding: 0.1em 0.3em;
    border: none;
    background: none;
    color: var(--_accent);
    font: inherit;
    font-size: 0.857em;
    cursor: pointer;
  }

  button.link:hover {
    text-decoration: underline;
  }

  .downloads {
    margin-inline-start: auto;
    color: var(--_muted);
    font-size: 0.929em;
  }

  .card-title .download {
    margin-inline-start: 0.75em;
    font-weight: 400;
  }

  .picker,
  .editor {
    flex-basis: 100%;
    display: grid;
    gap: 0.5em;
    max-inline-size: 28em;
    margin: 0 0 0.9em;
    padding: 0.75em;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_background);
    box-shadow: 0 2px 10px rgb(0 0 0 / 6%);
  }

  .picker > button {
    justify-self: start;
  }

  .editor fieldset {
    display: grid;
    gap: 0.35em;
    max-block-size: 14em;
    overflow: auto;
    margin: 0;
    padding: 0;
    border: none;
  }

  .editor legend {
    margin-block-end: 0.35em;
    font-weight: 600;
  }

  .editor input[type='number'] {
    inline-size: 8em;
    margin-inline-start: 0.4em;
    padding: 0.2em 0.4em;
    font: inherit;
  }

  .actions {
    display: flex;
    gap: 0.5em;
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
