import { accountsApi } from './accounts';
import { activitiesApi } from './activities';
import { auditApi } from './audit';
import { capBodies } from './body-cap';
import { fansApi } from './fans';
import { messagesApi } from './messages';
import { createApi } from './openapi';
import { postersApi } from './posters';
import { promosApi } from './promos';
import { requireOperator } from './require-operator';
import { reviewsApi } from './reviews';
import { loginApi, sessionApi } from './session';
import { templatesApi } from './templates';
import { uploadsApi } from './uploads';
import { usersApi } from './users';
import { winnersApi } from './winners';

export const api = createApi();
api.openAPIRegistry.registerComponent('securitySchemes', 'cookieAuth', { type: 'apiKey', in: 'cookie', name: 'sid' });
api.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer' });
api.doc31('/openapi.json', {
  openapi: '3.1.0',
  info: {
    title: '任务宝 on the edge — admin API',
    version: '1.0.0',
    description: '媒体宝任务宝运营后台 API。错误统一为 { error: { code, message, fields? } }。',
  },
});
api.use('*', capBodies());
// Public: registering and logging in. Every route mounted after requireOperator needs a session.
api.route('/', usersApi);
api.route('/', loginApi);
api.use('*', requireOperator());
api.route('/', sessionApi);
api.route('/', accountsApi);
api.route('/', templatesApi);
api.route('/', activitiesApi);
api.route('/', uploadsApi);
api.route('/', postersApi);
api.route('/', promosApi);
api.route('/', fansApi);
api.route('/', winnersApi);
api.route('/', reviewsApi);
api.route('/', auditApi);
api.route('/', messagesApi);
