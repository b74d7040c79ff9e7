import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTokenProvider, type TokenProviderOptions, type TokenState } from './index.js';

type Answer = Response | Error | Promise<Response>;

/** A token endpoint whose answers the test decides; by default it mints tok-1, tok-2, … valid for 600 s. */
function endpoint(answer?: (n: number) => Answer) {
  let count = 0;
  const requests: { input: string | URL; init: RequestInit }[] = [];
  const fetch = vi.fn((input: string | URL, init: RequestInit): Promise<Response> => {
    requests.push({ input, init });
    count += 1;
    const result = answer ? answer(count) : json({ token: `tok-${count}`, expiresIn: 600 });
    return result instanceof Error ? Promise.reject(result) : Promise.resolve(result);
  });
  return { fetch, requests, count: () => count };
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

const offline = () => new TypeError('Failed to fetch');

function page() {
  const win = new EventTarget();
  const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' as string });
  return { win, doc };
}

function provider(
  fetch: TokenProviderOptions['fetch'],
  extra: Partial<TokenProviderOptions> = {},
  env = page(),
) {
  return createTokenProvider({
    endpoint: '/api/dataset-token',
    fetch,
    window: env.win,
    document: env.doc,
    ...extra,
  });
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
  // Jitter at its midpoint: each delay is 3/4 of its ceiling.
  vi.spyOn(Math, 'random').mockReturnValue(0.5);
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('createTokenProvider', () => {
  it('fetches a token before first use and hands it out synchronously', async () => {
    const api = endpoint();
    const p = provider(api.fetch, { headers: { 'x-csrf-token': 'c1' } });
    expect(p.getDatasetAccessToken()).toBe('');
    expect(p.state.status).toBe('loading');
    await expect(p.ready).resolves.toBe('active');
    expect(p.getDatasetAccessToken()).toBe('tok-1');
    expect(api.count()).toBe(1);
    const { input, init } = api.requests[0]!;
    expect(input).toBe('/api/dataset-token');
    expect(init.method).toBe('POST');
    expect(init.credentials).toBe('same-origin');
    expect(init.cache).toBe('no-store');
    const headers = new Headers(init.headers);
    expect(headers.get('x-csrf-token')).toBe('c1');
    expect(headers.get('accept')).toBe('application/json');
    p.dispose();
  });

  it('calls a headers function before every request', async () => {
    const api = endpoint((n) => json({ token: `tok-${n}`, expiresIn: 10 }));
    let csrf = 'first';
    const p = provider(api.fetch, { headers: () => ({ 'x-csrf-token': csrf }) });
    await p.ready;
    csrf = 'second';
    await vi.advanceTimersByTimeAsync(5_000);
    expect(api.requests.map((r) => new Headers(r.init.headers).get('x-csrf-token'))).toEqual([
      'first',
      'second',
    ]);
    p.dispose();
  });

  it('renews the token refreshMargin seconds before it expires, with no gap', async () => {
    const api = endpoint();
    const p = provider(api.fetch);
    await p.ready;
    await vi.advanceTimersByTimeAsync(539_999);
    expect(api.count()).toBe(1);
    expect(p.getDatasetAccessToken()).toBe('tok-1');
    await vi.advanceTimersByTimeAsync(1);
    expect(api.count()).toBe(2);
    expect(p.getDatasetAccessToken()).toBe('tok-2');
    await vi.advanceTimersByTimeAsync(540_000);
    expect(p.getDatasetAccessToken()).toBe('tok-3');
    p.dispose();
  });

  it('renews a short-lived token at half its lifetime', async () => {
    const api = endpoint((n) => json({ token: `tok-${n}`, expiresIn: 20 }));
    const p = provider(api.fetch, { refreshMargin: 60 });
    await p.ready;
    await vi.advanceTimersByTimeAsync(9_999);
    expect(api.count()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(api.count()).toBe(2);
    p.dispose();
  });

  it('measures expiry from when the response arrived, not from when the request was sent', async () => {
    const api = endpoint(
      () =>
        new Promise<Response>((resolve) =>
          setTimeout(() => resolve(json({ token: 'slow', expiresIn: 600 })), 3_000),
        ),
    );
    const p = provider(api.fetch, { timeout: 10_000 });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(p.getDatasetAccessToken()).toBe('slow');
    await vi.advanceTimersByTimeAsync(539_999);
    expect(api.count()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(api.count()).toBe(2);
    p.dispose();
  });

  it('ignores a browser wall clock that is wrong by years', async () => {
    vi.setSystemTime(new Date('1999-12-31T23:59:00Z'));
    const api = endpoint();
    const p = provider(api.fetch);
    await p.ready;
    await vi.advanceTimersByTimeAsync(300_000);
    expect(p.getDatasetAccessToken()).toBe('tok-1');
    // The clock is "corrected" backwards by a day: the token must not live longer for it.
    vi.setSystemTime(Date.now() - 86_400_000);
    await vi.advanceTimersByTimeAsync(240_000);
    expect(api.count()).toBe(2);
    expect(p.getDatasetAccessToken()).toBe('tok-2');
    p.dispose();
  });

  it('notices a sleep that paused the monotonic clock, through elapsed wall time', async () => {
    const api = endpoint();
    const p = provider(api.fetch);
    await p.ready;
    // Timers and performance.now() stood still for an hour; only the wall clock moved.
    vi.setSystemTime(Date.now() + 3_600_000);
    expect(p.getDatasetAccessToken()).toBe('');
    expect(p.state.status).toBe('retrying');
    await vi.advanceTimersByTimeAsync(0);
    expect(api.count()).toBe(2);
    expect(p.getDatasetAccessToken()).toBe('tok-2');
    p.dispose();
  });

  it('retries with exponential backoff while the network is down, then resumes', async () => {
    let down = true;
    const api = endpoint((n) => (down ? offline() : json({ token: `tok-${n}`, expiresIn: 600 })));
    const p = provider(api.fetch);
    await expect(p.ready).resolves.toBe('retrying');
    expect(p.state).toEqual({ status: 'retrying', error: { code: 'network_error', status: 0 } });
    expect(p.getDatasetAccessToken()).toBe('');
    // Ceilings 1, 2, 4, 8 s; with jitter at its midpoint each wait is 3/4 of that.
    const waits = [750, 1_500, 3_000, 6_000];
    for (const [i, wait] of waits.entries()) {
      await vi.advanceTimersByTimeAsync(wait - 1);
      expect(api.count()).toBe(i + 1);
      await vi.advanceTimersByTimeAsync(1);
      expect(api.count()).toBe(i + 2);
    }
    down = false;
    await vi.advanceTimersByTimeAsync(12_000);
    expect(p.state).toEqual({ status: 'active' });
    expect(p.getDatasetAccessToken()).toBe('tok-6');
    p.dispose();
  });

  it('caps the backoff at maxRetryDelay and spreads retries with jitter', async () => {
    vi.mocked(Math.random).mockReturnValue(1);
    const api = endpoint(() => offline());
    const p = provider(api.fetch, { initialRetryDelay: 1_000, maxRetryDelay: 5_000 });
    await p.ready;
    await vi.advanceTimersByTimeAsync(1_000 + 2_000 + 4_000);
    expect(api.count()).toBe(4);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(api.count()).toBe(5);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(api.count()).toBe(6);
    p.dispose();
  });

  it('tries again at once when the browser comes back online, and restarts the backoff', async () => {
    let down = true;
    const env = page();
    const api = endpoint((n) => (down ? offline() : json({ token: `tok-${n}`, expiresIn: 600 })));
    const p = provider(api.fetch, {}, env);
    await p.ready;
    await vi.advanceTimersByTimeAsync(750 + 1_500 + 3_000 + 6_000 + 12_000);
    expect(api.count()).toBe(6);
    down = false;
    env.win.dispatchEvent(new Event('online'));
    await vi.advanceTimersByTimeAsync(0);
    expect(api.count()).toBe(7);
    expect(p.getDatasetAccessToken()).toBe('tok-7');
    p.dispose();
  });

  it('checks the token when the page becomes visible again', async () => {
    const env = page();
    const api = endpoint();
    const p = provider(api.fetch, {}, env);
    await p.ready;
    env.doc.visibilityState = 'hidden';
    // A background tab's timers can be held back: the renewal timer has not run, but time has passed.
    vi.setSystemTime(Date.now() + 550_000);
    env.doc.dispatchEvent(new Event('visibilitychange'));
    expect(api.count()).toBe(1);
    env.doc.visibilityState = 'visible';
    env.doc.dispatchEvent(new Event('visibilitychange'));
    await vi.advanceTimersByTimeAsync(0);
    expect(api.count()).toBe(2);
    expect(p.getDatasetAccessToken()).toBe('tok-2');
    p.dispose();
  });

  it('keeps handing out a valid token while its renewal fails, and stops at expiry', async () => {
    const api = endpoint((n) => (n === 1 ? json({ token: 'tok-1', expiresIn: 600 }) : offline()));
    const p = provider(api.fetch);
    await p.ready;
    await vi.advanceTimersByTimeAsync(540_000);
    expect(api.count()).toBe(2);
    expect(p.state).toEqual({ status: 'active', error: { code: 'network_error', status: 0 } });
    expect(p.getDatasetAccessToken()).toBe('tok-1');
    const seen: TokenState[] = [];
    p.subscribe((state) => seen.push(state));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(p.getDatasetAccessToken()).toBe('');
    expect(seen.map((s) => s.status)).toEqual(['retrying']);
    p.dispose();
  });

  it('stops on 401: the token is gone, no more requests, and online does not restart it', async () => {
    const env = page();
    const api = endpoint((n) =>
      n === 1 ? json({ token: 'tok-1', expiresIn: 600 }) : json({ error: { code: 'not_signed_in' } }, 401),
    );
    const p = provider(api.fetch, {}, env);
    await p.ready;
    const seen: string[] = [];
    p.subscribe((state) => seen.push(state.status));
    await vi.advanceTimersByTimeAsync(540_000);
    expect(p.state).toEqual({ status: 'signed-out', error: { code: 'not_signed_in', status: 401 } });
    expect(p.getDatasetAccessToken()).toBe('');
    expect(seen).toEqual(['signed-out']);
    env.win.dispatchEvent(new Event('online'));
    env.doc.dispatchEvent(new Event('visibilitychange'));
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(api.count()).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
    p.dispose();
  });

  it('settles ready with signed-out when the first answer is 401', async () => {
    const api = endpoint(() => json({ error: { code: 'not_signed_in', message: 'Sign in first.' } }, 401));
    const p = provider(api.fetch);
    await expect(p.ready).resolves.toBe('signed-out');
    expect(p.getDatasetAccessToken()).toBe('');
    p.dispose();
  });

  it('treats a redirect (to a sign-in page) as signed out', async () => {
    const api = endpoint(() => new Response(null, { status: 302, headers: { location: '/login' } }));
    const p = provider(api.fetch);
    await expect(p.ready).resolves.toBe('signed-out');
    expect(api.requests[0]!.init.redirect).toBe('manual');
    p.dispose();
  });

  it('stops on 403 and reports the endpoint code', async () => {
    const api = endpoint(() => json({ error: { code: 'no_grants' } }, 403));
    const p = provider(api.fetch);
    await expect(p.ready).resolves.toBe('refused');
    expect(p.state.error).toEqual({ code: 'no_grants', status: 403 });
    await vi.advanceTimersByTimeAsync(600_000);
    expect(api.count()).toBe(1);
    p.dispose();
  });

  it('starts again on refresh() after a stop, e.g. once the user has signed in', async () => {
    let signedIn = false;
    const api = endpoint((n) =>
      signedIn
        ? json({ token: `tok-${n}`, expiresIn: 600 })
        : json({ error: { code: 'not_signed_in' } }, 401),
    );
    const p = provider(api.fetch);
    await p.ready;
    signedIn = true;
    await expect(p.refresh()).resolves.toBe('active');
    expect(p.getDatasetAccessToken()).toBe('tok-2');
    p.dispose();
  });

  it('retries a 503 no sooner than its Retry-After', async () => {
    const api = endpoint((n) =>
      n === 1
        ? json({ error: { code: 'internal_error' } }, 503, { 'retry-after': '30' })
        : json({ token: 'tok-2', expiresIn: 600 }),
    );
    const p = provider(api.fetch);
    await p.ready;
    expect(p.state.error).toEqual({ code: 'internal_error', status: 503 });
    await vi.advanceTimersByTimeAsync(29_999);
    expect(api.count()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(p.getDatasetAccessToken()).toBe('tok-2');
    p.dispose();
  });

  it('retries an answer that is not a token, and never hands out a value unfit for a header', async () => {
    const bodies = [
      'not json',
      JSON.stringify({ token: 'a b', expiresIn: 600 }),
      JSON.stringify({ token: 'tok', expiresIn: 0 }),
      JSON.stringify({ token: 'tok', expiresIn: '600' }),
      JSON.stringify({ token: 'tok-5', expiresIn: 600 }),
    ];
    const api = endpoint((n) => new Response(bodies[n - 1], { status: 200 }));
    const p = provider(api.fetch, { maxRetryDelay: 1_000 });
    await p.ready;
    expect(p.state.error?.code).toBe('unexpected_response');
    await vi.advanceTimersByTimeAsync(4_000);
    expect(api.count()).toBe(5);
    expect(p.getDatasetAccessToken()).toBe('tok-5');
    p.dispose();
  });

  it('abandons a request that hangs and retries it', async () => {
    const api = endpoint((n) =>
      n === 1 ? new Promise<Response>(() => undefined) : json({ token: 'tok-2', expiresIn: 600 }),
    );
    const p = provider(api.fetch, { timeout: 5_000 });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(p.state).toEqual({ status: 'retrying', error: { code: 'timeout', status: 0 } });
    expect(api.requests[0]!.init.signal?.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(750);
    expect(p.getDatasetAccessToken()).toBe('tok-2');
    p.dispose();
  });

  it('shares one request among many callers and viewers', async () => {
    let release: (r: Response) => void = () => undefined;
    const api = endpoint(() => new Promise<Response>((resolve) => (release = resolve)));
    const p = provider(api.fetch);
    const waits = [p.refresh(), p.refresh(), p.ready, p.refresh()];
    const viewers = [p.getDatasetAccessToken, p.getDatasetAccessToken];
    expect(viewers.map((get) => get())).toEqual(['', '']);
    expect(api.count()).toBe(1);
    release(json({ token: 'shared', expiresIn: 600 }));
    await expect(Promise.all(waits)).resolves.toEqual(['active', 'active', 'active', 'active']);
    expect(viewers.map((get) => get())).toEqual(['shared', 'shared']);
    for (let i = 0; i < 100; i++) p.getDatasetAccessToken();
    expect(api.count()).toBe(1);
    p.dispose();
  });

  it('dispose() stops timers and listeners, aborts the request and forgets the token', async () => {
    const env = page();
    const api = endpoint();
    const p = provider(api.fetch, {}, env);
    await p.ready;
    const listener = vi.fn();
    p.subscribe(listener);
    p.dispose();
    expect(listener).toHaveBeenCalledWith({ status: 'disposed' });
    expect(vi.getTimerCount()).toBe(0);
    expect(p.getDatasetAccessToken()).toBe('');
    env.win.dispatchEvent(new Event('online'));
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(api.count()).toBe(1);
    await expect(p.refresh()).resolves.toBe('disposed');
  });

  it('dispose() during the first request settles ready and drops the late answer', async () => {
    let release: (r: Response) => void = () => undefined;
    const api = endpoint(() => new Promise<Response>((resolve) => (release = resolve)));
    const p = provider(api.fetch);
    p.dispose();
    await expect(p.ready).resolves.toBe('disposed');
    expect(api.requests[0]!.init.signal?.aborted).toBe(true);
    release(json({ token: 'late', expiresIn: 600 }));
    await vi.advanceTimersByTimeAsync(0);
    expect(p.getDatasetAccessToken()).toBe('');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never writes the token to the console', async () => {
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation(() => undefined),
    );
    const api = endpoint((n) => (n === 2 ? offline() : json({ token: `secret-${n}`, expiresIn: 20 })));
    const p = provider(api.fetch);
    await p.ready;
    await vi.advanceTimersByTimeAsync(60_000);
    p.dispose();
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
  });

  it('keeps going when a listener throws', async () => {
    const api = endpoint();
    const p = provider(api.fetch);
    const after = vi.fn();
    p.subscribe(() => {
      throw new Error('listener bug');
    });
    p.subscribe(after);
    await p.ready;
    expect(after).toHaveBeenCalledWith({ status: 'active' });
    expect(p.getDatasetAccessToken()).toBe('tok-1');
    p.dispose();
  });

  it('refuses options it cannot work with when it is created', () => {
    expect(() => createTokenProvider({ endpoint: '' })).toThrow(TypeError);
    expect(() => createTokenProvider({ endpoint: '/t', refreshMargin: -1 })).toThrow(RangeError);
    expect(() => createTokenProvider({ endpoint: '/t', timeout: Number.NaN })).toThrow(RangeError);
  });
});
