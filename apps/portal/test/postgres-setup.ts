import type { TestProject } from 'vitest/node';
import { startPostgres } from '../../../scripts/postgres-cluster.js';

/** Global setup of the portal suite's PostgreSQL run: one throwaway cluster, removed at the end. */
export default async function setup(project: TestProject): Promise<() => void> {
  const cluster = await startPostgres();
  project.provide('postgresUrl', cluster.url);
  return () => cluster.stop();
}
