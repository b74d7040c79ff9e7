import type { PpErrorCode } from './client/errors.js';
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
export function messageFor(code: PpErrorCode, { dslabel, host, route }: MessageContext): string {
  const ds = dslabel || 'this dataset';
  const what = route === 'samples' ? `sample-level data for ${ds}` : ds;
  switch (code) {
    case 'token_missing':
      return `Sign in to see ${what}.`;
    case 'token_expired':
      return `Your session has expired. Sign in again to see ${what}.`;
    case 'token_invalid':
      return `Your sign-in could not be verified. Sign in again to see ${what}.`;
    case 'token_not_yet_valid':
      return `Your sign-in is not valid yet. Check that this computer's clock is right, then sign in again to see ${what}.`;
    case 'ip_mismatch':
      return `Your session was started on another network. Sign in again to see ${what}.`;
    case 'dataset_not_granted':
      return `Your account is not granted access to ${what}.`;
    case 'embedder_not_allowed':
      return `This site is not allowed to show ${what}.`;
    case 'route_forbidden':
      return route === 'samples'
        ? `${ds} does not share sample-level data.`
        : `This view of ${ds} is not available.`;
    case 'dataset_not_found':
      return `The visualization server has no dataset named ${ds}.`;
    case 'term_not_found':
      return `This term is not part of ${ds}.`;
    case 'term_not_supported':
      return 'This kind of term cannot be charted yet.';
    case 'network_error':
      return `The visualization server at ${host || 'the configured address'} cannot be reached.`;
    case 'host_missing':
      return 'This view has no visualization server address, so nothing can be shown.';
    case 'dslabel_missing':
      return 'This view does not name a dataset, so nothing can be shown.';
    case 'internal_error':
      return 'The visualization server ran into a problem. Please try again later.';
    default:
      return `Something went wrong while loading ${ds}. Please try again later.`;
  }
}
