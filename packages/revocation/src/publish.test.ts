import { randomBytes } from 'node:crypto';
import { createSigner } from '@pp-embed/dataset-token';
import { describe, expect, it } from 'vitest';
import { feedEtag } from './client.js';
import { FeedPublisher } from './publish.js';

const signer = createSigner({ algorithm: 'HS256', key: { secret: randomBytes(32) } });

function publisher() {
  const version = { epoch: randomBytes(12).toString('base64url'), seq: 3 };
  const feed = new FeedPublisher({
    version: async () => version,
    snapshot: async () => ({ ...version, revocations: [] }),
    signer: () => signer,
  });
  return { feed, etag: feedEtag(version) };
}

describe('FeedPublisher.close', () => {
  it('answers a held request at once with 304, and holds no later one, so that a shutdown is not kept waiting', async () => {
    const { feed, etag } = publisher();
    const t0 = performance.now();
    const held = feed.answer({ ifNoneMatch: etag, prefer: 'wait=20' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    feed.close();
    await expect(held).resolves.toEqual({ status: 304, etag });
    const later = await feed.answer({ ifNoneMatch: etag, prefer: 'wait=20' });
    expect(later).toEqual({ status: 304, etag });
    // Either request, held to its wait, would have taken 20 s.
    expect(performance.now() - t0).toBeLessThan(2000);
    // A replica without the current list still gets it.
    await expect(feed.answer({ ifNoneMatch: '"old"' })).resolves.toMatchObject({ status: 200, etag });
  });
});
