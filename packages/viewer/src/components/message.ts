import { html, svg, type TemplateResult } from 'lit';
import { isAuthCode, type PpRequestError } from '../client/errors.js';
import { messageFor, type MessageContext } from '../messages.js';

const lockIcon = svg`<path d="M7 10V7a5 5 0 0 1 10 0v3" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/><rect x="4.5" y="10" width="15" height="11" rx="2" fill="none" stroke="currentColor" stroke-width="2"/><circle cx="12" cy="15.5" r="1.5" fill="currentColor"/>`;
const alertIcon = svg`<path d="M12 3 2.5 20h19L12 3Z" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"/><path d="M12 10v4.5" stroke="currentColor" stroke-width="2" stroke-linecap="round"/><circle cx="12" cy="17.3" r="1.2" fill="currentColor"/>`;
const infoIcon = svg`<circle cx="12" cy="12" r="9" fill="none" stroke="currentColor" stroke-width="2"/><path d="M12 11v6" stroke="currentColor" stroke-width="2" stroke-linecap="round"/><circle cx="12" cy="7.6" r="1.2" fill="currentColor"/>`;

// Refusals the user can do something about (sign in, ask for access) are notices; the rest are faults.
const NOTICE_CODES = new Set(['dataset_not_granted', 'route_forbidden', 'term_not_supported']);

/**
 * The sentence for a failed request, with an icon, as the `message` part.
 *
 * @example
 * html`${renderMessage(error, { dslabel: 'TermdbTest', host: 'https://viz.example.org', route: error.route })}`
 */
export function renderMessage(error: PpRequestError, context: MessageContext): TemplateResult {
  const auth = isAuthCode(error.code);
  const notice = auth || NOTICE_CODES.has(error.code);
  const icon = auth ? lockIcon : notice ? infoIcon : alertIcon;
  return html`<p
    class="message"
    part="message"
    role=${notice ? 'status' : 'alert'}
    data-kind=${notice ? 'notice' : 'error'}
    data-code=${error.code}
  >
    <svg viewBox="0 0 24 24" aria-hidden="true">${icon}</svg>
    <span>${messageFor(error.code, context)}</span>
  </p>`;
}

/**
 * A polite loading line with a spinner.
 *
 * @example
 * html`${renderLoading('Loading chart…')}`
 */
export function renderLoading(label: string): TemplateResult {
  return html`<div class="status" role="status" part="loading">
    <span class="spinner" aria-hidden="true"></span><span>${label}</span>
  </div>`;
}
