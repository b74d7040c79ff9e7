import type { HttpBindings } from '@hono/node-server';
import type { Access } from './access.js';

/** The typed context of every handler: node bindings (absent under `app.request()`) and what middleware sets. */
export interface AppEnv {
  Bindings: Partial<HttpBindings>;
  Variables: {
    access: Access;
    /** Set by sample-level handlers for the audit line. */
    sampleCount: number | undefined;
  };
}
