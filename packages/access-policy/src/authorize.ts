import { canonicalIp, parseIp, sameAddress, sameNetwork } from '@pp-embed/client-address';
import type { DatasetTokenClaims } from '@pp-embed/dataset-token';
import type { CredentialEntry, ScriptAccess } from './entries.js';

/** The result of {@link authorize}: granted, or refused with a stable code and a reason for logs. */
export type Authorization =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: 'dataset_not_granted' | 'ip_mismatch'; readonly reason: string };

export interface AuthorizeRequest {
  /** The requested dataset label, exactly as the request named it. */
  dataset: string;
  /** The client address as the server sees it (after its own trusted-proxy handling), or undefined. */
  clientIp: string | undefined;
  /**
   * For a script's request (no `Origin`): the entry's `scripts` rule. `true`: a token without `ip` is accepted
   * (the portal did not pin it); `'pinned'`: it must carry one. A present `ip` is checked by `ipCheck` either way.
   */
  script?: Exclude<ScriptAccess, false> | undefined;
}

const GRANTED: Authorization = Object.freeze({ ok: true });

/**
 * Decides whether verified claims grant a request that `resolve` said needs a token; one step of `decide`.
 * Never throws.
 *
 * - Datasets: every `dsnames` id of the entry (or, without `dsnames`, the requested dataset label) must be in
 *   the `datasets` claim, compared exactly: no case folding, no trimming.
 * - Address, strict (the default): the `ip` claim must be present and be the client's address. IPv4 and its
 *   IPv4-mapped IPv6 form are the same address; IPv6 is compared as bytes, so any spelling matches.
 * - Address, `ipCheck: "loose"` (or `looseIpCheck`): a missing `ip` claim is accepted; a present one must be in
 *   the client's /24 (IPv4) or /64 (IPv6) network, so a user moving between addresses of one network keeps
 *   access.
 * - Address, `ipCheck: "none"`: the `ip` claim is not compared (ProteinPaint's setting for users whose address
 *   changes between requests; the token can then be used from anywhere until it expires).
 * - A script's token (`request.script`): without an `ip` claim it is accepted under `"scripts": true` and refused
 *   under `"scripts": "pinned"`; with one, `ipCheck` decides as above.
 *
 * @example
 * const grant = authorize(entry, claims, { dataset: 'TermdbTest', clientIp: '203.0.113.7' });
 * if (!grant.ok) refuse(403, grant.code, grant.reason);
 */
export function authorize(
  entry: CredentialEntry,
  claims: DatasetTokenClaims,
  request: AuthorizeRequest,
): Authorization {
  const granted = Array.isArray(claims?.datasets) ? claims.datasets : [];
  const required = requiredDatasets(entry, request.dataset);
  const missing = required.filter((id) => !granted.includes(id));
  if (missing.length > 0) {
    return {
      ok: false,
      code: 'dataset_not_granted',
      reason: `the "datasets" claim lacks ${missing.map((id) => JSON.stringify(id)).join(', ')}`,
    };
  }

  const claimed = claims.ip;
  // Scripts run on clusters and behind changing addresses: their tokens are pinned only when the portal pins them.
  if (claimed === undefined && request.script === true) return GRANTED;
  if (claimed === undefined && request.script === 'pinned') {
    return {
      ok: false,
      code: 'ip_mismatch',
      reason: 'the script\'s token has no "ip" claim and this entry takes pinned script tokens only',
    };
  }
  if (entry.ipCheck === 'none') return GRANTED;
  const client = request.clientIp;
  const shown = (ip: string): string => canonicalIp(ip) ?? JSON.stringify(ip);
  if (claimed === undefined) {
    if (entry.ipCheck === 'loose') return GRANTED;
    return {
      ok: false,
      code: 'ip_mismatch',
      reason: 'the token has no "ip" claim and this entry checks the address strictly',
    };
  }
  if (client === undefined || parseIp(client) === undefined) {
    return {
      ok: false,
      code: 'ip_mismatch',
      reason: 'the client address is unknown, so the "ip" claim cannot be checked',
    };
  }
  if (entry.ipCheck === 'loose') {
    if (sameNetwork(claimed, client)) return GRANTED;
    const size = parseIp(claimed)?.family === 6 ? '/64' : '/24';
    return {
      ok: false,
      code: 'ip_mismatch',
      reason: `the client address ${shown(client)} is not in the ${size} network of the "ip" claim ${shown(claimed)}`,
    };
  }
  if (sameAddress(claimed, client)) return GRANTED;
  return {
    ok: false,
    code: 'ip_mismatch',
    reason: `the client address ${shown(client)} is not the "ip" claim ${shown(claimed)}`,
  };
}

/**
 * The dataset ids a token must list to open `dataset` under `entry`: its `dsnames` ids, or the label itself.
 *
 * @example
 * requiredDatasets(entry, 'TermdbTest'); // ['TermdbTest']
 */
export function requiredDatasets(entry: CredentialEntry, dataset: string): readonly string[] {
  return entry.dsnames === undefined ? [dataset] : entry.dsnames.map((d) => d.id);
}
