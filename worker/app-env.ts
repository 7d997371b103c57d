import type { SessionUser } from './auth/sessions';
import type { Services } from './services';

/** Hono's environment: bindings, the request's services and (behind requireOperator) the operator. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    services: Services;
    user: SessionUser;
  };
}
