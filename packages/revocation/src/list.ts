import type { DatasetTokenClaims } from '@pp-embed/dataset-token';
import { type Revocation, subjectHash } from './revocation.js';

type Dated = Extract<Revocation, { before: number }>;

/**
 * A feed's revocations indexed for the question every request asks: is this token withdrawn? Each kind is one
 * map lookup; the user's subject hash is computed once per verified token (verifiers hand back the same frozen
 * claims object for a cached token), and not at all while the list holds no user or grant entry.
 *
 * @example
 * const list = new RevocationList(feed.revocations);
 * list.match(claims, ['PPDemo']); // undefined, or the revocation that withdraws the token
 */
export class RevocationList {
  readonly size: number;
  readonly #tokens = new Map<string, Revocation>();
  readonly #users = new Map<string, Dated>();
  readonly #grants = new Map<string, Map<string, Dated>>();
  #embedder: Dated | undefined;
  readonly #subjects = new WeakMap<DatasetTokenClaims, string>();

  constructor(revocations: readonly Revocation[]) {
    this.size = revocations.length;
    // Of several revocations of one kind and subject, the latest cutoff decides (it covers the earlier ones).
    const later = (a: Dated | undefined, b: Dated): Dated => (a === undefined || b.before > a.before ? b : a);
    for (const r of revocations) {
      if (r.type === 'token') this.#tokens.set(r.jti, r);
      else if (r.type === 'user') this.#users.set(r.sub, later(this.#users.get(r.sub), r));
      else if (r.type === 'embedder') this.#embedder = later(this.#embedder, r);
      else {
        let byDataset = this.#grants.get(r.sub);
        if (byDataset === undefined) this.#grants.set(r.sub, (byDataset = new Map()));
        byDataset.set(r.dataset, later(byDataset.get(r.dataset), r));
      }
    }
  }

  /**
   * The revocation that withdraws a token used for `datasets` (the ids the request needs), if any.
   *
   * @example
   * list.match(claims, entry.dsnames?.map((d) => d.id) ?? [label]);
   */
  match(claims: DatasetTokenClaims, datasets: readonly string[]): Revocation | undefined {
    if (claims.jti !== undefined) {
      const byId = this.#tokens.get(claims.jti);
      if (byId !== undefined) return byId;
    }
    const iat = claims.iat;
    if (this.#embedder !== undefined && iat < this.#embedder.before) return this.#embedder;
    if (this.#users.size === 0 && this.#grants.size === 0) return undefined;
    let sub = this.#subjects.get(claims);
    if (sub === undefined) {
      sub = subjectHash(claims.email);
      this.#subjects.set(claims, sub);
    }
    const user = this.#users.get(sub);
    if (user !== undefined && iat < user.before) return user;
    const grants = this.#grants.get(sub);
    if (grants !== undefined) {
      for (const dataset of datasets) {
        const grant = grants.get(dataset);
        if (grant !== undefined && iat < grant.before) return grant;
      }
    }
    return undefined;
  }
}
