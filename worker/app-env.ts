import type { SessionUser } from './auth/sessions';
import type { AppConfig } from './config';
import type { Db } from './db/client';

/** Hono's environment: bindings plus the services middleware puts on `c.var`. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    config: AppConfig;
    db: Db;
    user: SessionUser;
  };
}
