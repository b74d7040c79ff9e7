import type { HttpBindings } from '@hono/node-server';
import type { AccessState } from '../embedders.js';
import type { Access } from './access.js';

/** The typed context of every handler: node bindings (absent under `app.request()`) and what middleware sets. */
export interface AppEnv {
  Bindings: Partial<HttpBindings>;
  Variables: {
    /** The access state in force when the request started: it decides the whole request. */
    state: AccessState;
    access: Access;
    /** Set by sample-level handlers for the audit line. */
    sampleCount: number | undefined;
  };
}
