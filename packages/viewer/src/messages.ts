import type { ClientErrorCode, PpErrorCode, ServerErrorCode } from './client/errors.js';
import type { RouteName } from './types.js';

/**
 * What a sentence is about: the dataset, the server, and the route that was refused.
 *
 * @example
 * const context: MessageContext = { dslabel: 'TermdbTest', host: 'https://viz.example.org', route: 'samples' };
 */
export interface MessageContext {
  dslabel: string;
  host: string;
  route: RouteName;
}

/**
 * The plain sentence a researcher reads for an error code. Sample-level refusals name what is held back
 * ("sample-level data for TermdbTest"), so that a signed-out user understands that the chart above still
 * shows the aggregated counts.
 *
 * @example
 * messageFor('token_missing', { dslabel: 'TermdbTest', host: 'https://viz.example.org', route: 'samples' });
 * // 'Sign in to see sample-level data for TermdbTest.'
 */
export function messageFor(code: PpErrorCode, context: MessageContext): string {
  const sentence = Object.hasOwn(SENTENCES, code) ? SENTENCES[code as KnownCode] : undefined;
  return (sentence ?? unknownCode)(words(context));
}

type KnownCode = ServerErrorCode | ClientErrorCode;

interface Words {
  /** The dataset, or "this dataset". */
  ds: string;
  /** What was refused: "sample-level data for X" on the samples route, else the dataset. */
  what: string;
  route: RouteName;
  host: string;
}

function words({ dslabel, host, route }: MessageContext): Words {
  const ds = dslabel || 'this dataset';
  return { ds, what: route === 'samples' ? `sample-level data for ${ds}` : ds, route, host };
}

const unknownCode = ({ ds }: Words): string =>
  `Something went wrong while loading ${ds}. Please try again later.`;

// One sentence per code the widget can meet: the compiler refuses a code of the wire contract without one.
const SENTENCES: Record<KnownCode, (w: Words) => string> = {
  token_missing: ({ what }) => `Sign in to see ${what}.`,
  token_expired: ({ what }) => `Your session has expired. Sign in again to see ${what}.`,
  // The portal's tokens are refused whoever signs in: the researcher is told it is not their doing, and the
  // developer finds the server's reason in the console.
  token_invalid: ({ what }) =>
    `This site's access to ${what} is set up wrongly, so it cannot be shown. This is not a problem with your account; the site's developers can see why in the browser console.`,
  // A new sign-in mints a token issued after the withdrawal, which the site's grants then decide.
  token_revoked: ({ what }) =>
    `Your access was withdrawn by this site (you signed out, your password or grants changed, or an administrator withdrew it). Sign in again to see ${what}.`,
  token_not_yet_valid: ({ what }) =>
    `This site's access to ${what} is not valid yet (a clock is off), so it cannot be shown. This is not a problem with your account; the site's developers can see why in the browser console.`,
  issuer_not_trusted: ({ what }) =>
    `The service you signed in with is not trusted for ${what}. Sign in with one this site accepts.`,
  insufficient_scope: ({ what }) => `Your sign-in does not grant access to ${what}.`,
  ip_mismatch: ({ what }) => `Your session was started on another network. Sign in again to see ${what}.`,
  dataset_not_granted: ({ what }) => `Your account is not granted access to ${what}.`,
  grant_required: ({ ds }) =>
    `You are signed in, but sample-level data for ${ds} needs a grant for it. Ask the portal's administrators for one.`,
  embedder_not_allowed: ({ what }) => `This site is not allowed to show ${what}.`,
  embedder_retired: ({ what }) =>
    `This site is no longer registered with the visualization server, so it cannot show ${what}.`,
  route_forbidden: ({ ds, route }) =>
    route === 'samples' ? `${ds} does not share sample-level data.` : `This view of ${ds} is not available.`,
  // A page always sends an Origin and a browser's token; these mean the site hands the widget the wrong kind of
  // token, or its requests lose their origin on the way (a proxy).
  token_not_for_browsers: ({ what }) =>
    `This site gave the viewer an access token made for scripts, which web pages cannot use, so ${what} cannot be shown. This is not a problem with your account.`,
  token_not_for_scripts: ({ what }) =>
    `The viewer's requests for ${what} reached the visualization server without this page's origin, so they were refused. This is not a problem with your account.`,
  scripts_not_allowed: ({ what }) =>
    `The viewer's requests for ${what} reached the visualization server without this page's origin, and it accepts no such requests.`,
  password_invalid: ({ ds }) => `That password is not correct for ${ds}.`,
  too_many_attempts: () => 'Too many attempts. Wait a few minutes, then try again.',
  dataset_not_found: ({ ds }) => `The visualization server has no dataset named ${ds}.`,
  term_not_found: ({ ds }) => `This term is not part of ${ds}.`,
  term_not_supported: () => 'This kind of term cannot be charted yet.',
  term_wrong_type: () => 'This term cannot be shown this way. Choose another term or another chart.',
  too_many_values: () =>
    'This term has too many categories to overlay or split by. Choose a term with fewer categories.',
  filter_invalid: ({ ds }) => `This filter cannot be applied to ${ds}. Remove it or choose other values.`,
  network_error: ({ host }) =>
    `The visualization server at ${host || 'the configured address'} cannot be reached.`,
  host_missing: () => 'This view has no visualization server address, so nothing can be shown.',
  dslabel_missing: () => 'This view does not name a dataset, so nothing can be shown.',
  internal_error: () => 'The visualization server ran into a problem. Please try again later.',
  dataset_unavailable: ({ ds }) =>
    `${ds} is being updated on the visualization server. Try again in a moment.`,
  server_draining: () => 'The visualization server is restarting. Try again in a moment.',
  revocation_unavailable: ({ what }) =>
    `The visualization server cannot check access to ${what} right now. Please try again in a minute.`,
  // The widget sends well-formed requests only; these mean the server and the widget disagree on the contract.
  bad_request: unknownCode,
  not_found: unknownCode,
  method_not_allowed: unknownCode,
  login_not_available: unknownCode,
  unexpected_response: unknownCode,
};
