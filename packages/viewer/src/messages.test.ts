import { describe, expect, it } from 'vitest';
import { messageFor } from './messages.js';

const context = { dslabel: 'TermdbTest', host: 'https://viz.example.org', route: 'samples' as const };

describe('messageFor', () => {
  it('gives the documented sentences for sample-level refusals', () => {
    expect(messageFor('token_missing', context)).toBe('Sign in to see sample-level data for TermdbTest.');
    expect(messageFor('token_expired', context)).toBe(
      'Your session has expired. Sign in again to see sample-level data for TermdbTest.',
    );
    expect(messageFor('dataset_not_granted', context)).toBe(
      'Your account is not granted access to sample-level data for TermdbTest.',
    );
  });

  it('names the dataset, not sample-level data, for other routes', () => {
    expect(messageFor('embedder_not_allowed', { ...context, route: 'config' })).toBe(
      'This site is not allowed to show TermdbTest.',
    );
    expect(messageFor('token_missing', { ...context, route: 'barchart' })).toBe('Sign in to see TermdbTest.');
  });

  it('names the host that cannot be reached', () => {
    expect(messageFor('network_error', context)).toBe(
      'The visualization server at https://viz.example.org cannot be reached.',
    );
  });

  it('falls back to a generic sentence for codes it does not know', () => {
    expect(messageFor('something_new', context)).toBe(
      'Something went wrong while loading TermdbTest. Please try again later.',
    );
  });

  it('has a distinct sentence for every documented code', () => {
    const codes = [
      'bad_request',
      'dataset_not_found',
      'term_not_found',
      'term_not_supported',
      'token_missing',
      'token_invalid',
      'token_expired',
      'token_not_yet_valid',
      'token_revoked',
      'embedder_not_allowed',
      'dataset_not_granted',
      'grant_required',
      'ip_mismatch',
      'route_forbidden',
      'scripts_not_allowed',
      'token_not_for_scripts',
      'token_not_for_browsers',
      'insufficient_scope',
      'issuer_not_trusted',
      'internal_error',
      'dataset_unavailable',
      'server_draining',
      'revocation_unavailable',
      'network_error',
      'term_wrong_type',
      'too_many_values',
      'filter_invalid',
    ];
    const sentences = codes.filter((code) => code !== 'bad_request').map((code) => messageFor(code, context));
    expect(new Set(sentences).size).toBe(sentences.length);
    for (const sentence of sentences) expect(sentence).toMatch(/^[A-Z].*\.$/);
  });
});
