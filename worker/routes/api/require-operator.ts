import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../app-env';
import { findSession } from '../../auth/sessions';
import { AppError } from '../../errors';
import { sessionIdOf } from './session-cookie';

/**
 * Loads the operator from the session cookie or Bearer token onto `c.var.user`, and the services
 * over their shard onto `c.var.services`; without a valid session the request is refused (401).
 * Mounted after the public routes, so it guards the rest.
 */
export function requireOperator(): MiddlewareHandler<AppEnv> {
  return async function requireOperator(c, next) {
    const id = sessionIdOf(c);
    const { home, directory, forShard } = c.var.services;
    const user = id ? await findSession(home, id) : null;
    if (!user) throw new AppError('unauthorized', '请先登录');
    c.set('user', user);
    c.set('services', forShard(await directory.operatorShard(user.id)));
    await next();
  };
}
