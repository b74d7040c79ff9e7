import { css } from 'lit';

/**
 * The theme: every public `--pp-*` custom property with its default, resolved into private `--_*`
 * properties that the component styles use. Each component includes it, so each also works on its own.
 *
 * @example
 * static override styles = [tokens, css`:host { color: var(--_text); }`];
 */
export const tokens = css`
  :host {
    --_font: var(
      --pp-font,
      -apple-system,
      BlinkMacSystemFont,
      'Segoe UI',
      Roboto,
      'Helvetica Neue',
      Arial,
      'Noto Sans',
      sans-serif
    );
    --_font-size: var(--pp-font-size, 14px);
    --_text: var(--pp-text-color, #1d2733);
    --_muted: var(--pp-muted-color, #5a6472);
    --_background: var(--pp-background, #ffffff);
    --_surface: var(--pp-surface-color, #f6f8fa);
    --_border: var(--pp-border-color, #d9dee5);
    --_radius: var(--pp-radius, 8px);
    --_accent: var(--pp-accent, #2f5fb3);
    --_accent-soft: var(--pp-accent-soft, #e8effa);
    --_bar: var(--pp-bar-color, #4a7cc9);
    --_bar-active: var(--pp-bar-active-color, #2a5599);
    --_suppressed: var(--pp-suppressed-color, #737d8a);
    --_grid: var(--pp-grid-color, #e6e9ee);
    --_notice-bg: var(--pp-notice-background, #eef3fb);
    --_notice-border: var(--pp-notice-border-color, #c8d7ef);
    --_error-bg: var(--pp-error-background, #fdf2f1);
    --_error-border: var(--pp-error-border-color, #efc7c3);
    --_error-text: var(--pp-error-color, #9b2c22);

    font-family: var(--_font);
    font-size: var(--_font-size);
    line-height: 1.45;
    color: var(--_text);
  }

  /* A short note beside a term's name, such as "not supported yet" (tree and search). */
  .badge {
    display: inline-block;
    margin-inline-start: 0.15em;
    padding: 0 0.5em;
    border: 1px solid var(--_border);
    border-radius: 999px;
    font-size: 0.75em;
    font-weight: 500;
    line-height: 1.6;
    vertical-align: 0.1em;
    white-space: nowrap;
    color: var(--_muted);
    background: var(--_background);
  }

  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    margin: -1px;
    padding: 0;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }

  :focus-visible {
    outline: 2px solid var(--_accent);
    outline-offset: 2px;
  }

  .status {
    display: flex;
    align-items: center;
    gap: 0.6em;
    padding: 1.25em 0.25em;
    color: var(--_muted);
  }

  .spinner {
    inline-size: 1em;
    block-size: 1em;
    border: 2px solid var(--_grid);
    border-top-color: var(--_accent);
    border-radius: 50%;
    animation: pp-spin 0.8s linear infinite;
    flex: none;
  }

  @keyframes pp-spin {
    to {
      transform: rotate(360deg);
    }
  }

  @media (prefers-reduced-motion: reduce) {
    .spinner {
      animation-duration: 2.4s;
    }
  }

  .message {
    display: flex;
    align-items: flex-start;
    gap: 0.7em;
    margin: 0;
    padding: 0.85em 1em;
    border: 1px solid var(--_notice-border);
    border-radius: var(--_radius);
    background: var(--_notice-bg);
    color: var(--_text);
  }

  .message[data-kind='error'] {
    border-color: var(--_error-border);
    background: var(--_error-bg);
  }

  .message svg {
    flex: none;
    inline-size: 1.25em;
    block-size: 1.25em;
    margin-block-start: 0.05em;
    color: var(--_accent);
  }

  .message[data-kind='error'] svg {
    color: var(--_error-text);
  }

  .empty {
    margin: 0;
    padding: 1.25em 0.25em;
    color: var(--_muted);
  }
`;
