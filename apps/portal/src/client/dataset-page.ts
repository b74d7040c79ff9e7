/**
 * The dataset page's script (built by vite into `dist/public/dataset-page.js`). It reads what the server put in
 * `data-` attributes and the CSRF `<meta>`, starts one token provider, and embeds the widget with
 * `runproteinpaint()` once the first token (or the answer "signed out") is in, so that the widget's first
 * requests already carry the token.
 * @module
 */
import { createTokenProvider, type TokenProvider } from '@pp-embed/token-provider';

/** The part of the widget's global API this page uses (the script comes from the visualization server). */
interface ProteinPaintHandle {
  refresh(): void;
}
type RunProteinPaint = (options: {
  host?: string;
  holder: Element;
  mass: { state: { dslabel: string; genome?: string } };
  getDatasetAccessToken?: () => string;
}) => ProteinPaintHandle;

function say(text: string): void {
  const status = document.getElementById('viewer-status');
  if (status !== null) status.textContent = text;
}

async function start(): Promise<void> {
  const holder = document.getElementById('viewer');
  if (holder === null) return;
  const { host, dslabel, genome, tokenEndpoint } = holder.dataset;
  if (!host || !dslabel) return;
  // Read through a local type: the global is the visualization server's, whatever version it serves.
  const run = (window as unknown as { runproteinpaint?: RunProteinPaint }).runproteinpaint;
  if (typeof run !== 'function') {
    say(
      `The viewer could not be loaded from ${host}. The visualization server may be down; try again later.`,
    );
    return;
  }

  let provider: TokenProvider | undefined;
  if (tokenEndpoint) {
    const csrf = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';
    provider = createTokenProvider({ endpoint: tokenEndpoint, headers: { 'x-csrf-token': csrf } });
    await provider.ready;
  }

  holder.replaceChildren();
  const handle = run({
    host,
    holder,
    mass: { state: genome ? { dslabel, genome } : { dslabel } },
    ...(provider === undefined ? {} : { getDatasetAccessToken: provider.getDatasetAccessToken }),
  });

  // Rendered for a signed-in user only (a visitor already sees the sign-in prompt): the widget says when the
  // token stopped working, and the page offers to sign in again.
  const authNotice = document.getElementById('auth-required');
  holder.addEventListener('pp-auth-required', () => {
    if (authNotice !== null) authNotice.hidden = false;
  });
  provider?.subscribe((state) => {
    // A token arrived after a network failure, or the session ended: let the widget load what changed.
    if (state.status === 'active' || state.status === 'signed-out') handle.refresh();
    if (state.status === 'signed-out' && authNotice !== null) authNotice.hidden = false;
  });
}

void start();
