import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../app-env';
import { findSession } from '../../auth/sessions';
import { AppError } from '../../errors';
import { accountsApi } from './accounts';
import { activitiesApi } from './activities';
import { fansApi } from './fans';
import { postersApi } from './posters';
import { promosApi } from './promos';
import { uploadsApi } from './uploads';
import { createApi } from './openapi';
import { sessionApi, sessionIdOf } from './session';
import { usersApi } from './users';

/** Routes reachable without a session. */
const PUBLIC = new Set(['POST /api/users', 'POST /api/session', 'GET /api/openapi.json']);

/** Loads the operator from the session; every other /api route requires one. */
const requireOperator: MiddlewareHandler<AppEnv> = async function requireOperator(c, next) {
  if (PUBLIC.has(`${c.req.method} ${c.req.path}`)) return next();
  const id = sessionIdOf(c);
  const user = id ? await findSession(c.var.db, id) : null;
  if (!user) throw new AppError('unauthorized', '请先登录');
  c.set('user', user);
  return next();
};

export const api = createApi();
api.openAPIRegistry.registerComponent('securitySchemes', 'cookieAuth', { type: 'apiKey', in: 'cookie', name: 'sid' });
api.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer' });
api.use('*', requireOperator);
api.route('/', usersApi);
api.route('/', sessionApi);
api.route('/', accountsApi);
api.route('/', activitiesApi);
api.route('/', uploadsApi);
api.route('/', postersApi);
api.route('/', promosApi);
api.route('/', fansApi);
api.doc31('/openapi.json', {
  openapi: '3.1.0',
  info: { title: '任务宝 on the edge — admin API', version: '1.0.0', description: '媒体宝任务宝运营后台 API。错误统一为 { error: { code, message, fields? } }。' },
});
