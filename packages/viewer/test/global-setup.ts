import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildBundle } from './fixture/build-bundle.js';
import { startFixtureServer } from './fixture/server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the fixture server, e.g. `http://127.0.0.1:43121`. */
    fixtureUrl: string;
    /** A URL where nothing listens: the "server cannot be reached" case. */
    unreachableHost: string;
  }
}

/** A port that was free a moment ago and has nothing listening on it now. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 9;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/**
 * Vitest `globalSetup`: builds the script bundle, starts the fixture server and provides its URL and an
 * address where nothing listens.
 *
 * @example
 * // vite.config.ts
 * test: { globalSetup: ['test/global-setup.ts'] }
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const bundlePath = await buildBundle();
  const fixture = await startFixtureServer({ bundlePath });
  project.provide('fixtureUrl', fixture.url);
  project.provide('unreachableHost', await closedPortUrl());
  return async () => {
    await fixture.close();
    await rm(dirname(bundlePath), { recursive: true, force: true });
  };
}
