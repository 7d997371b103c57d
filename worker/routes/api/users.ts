import { createRoute } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { hashPassword } from '../../auth/password';
import { createSession } from '../../auth/sessions';
import { schema } from '../../db/client';
import { AppError } from '../../errors';
import { createApi, errorResponses } from './openapi';
import { Credentials, UserSchema } from './session';
import { setSessionCookie } from './session-cookie';

const register = createRoute({
  method: 'post',
  path: '/users',
  summary: '注册运营账号（注册后即登录）',
  request: { body: { required: true, content: { 'application/json': { schema: Credentials } } } },
  responses: {
    201: { description: '已注册', content: { 'application/json': { schema: UserSchema } } },
    ...errorResponses(409, 422),
  },
});

export const usersApi = createApi().openapi(register, async (c) => {
  const { username, password } = c.req.valid('json');
  const { home: db, directory, config, forShard } = c.var.services;
  if (await db.query.userInfo.findFirst({ where: eq(schema.userInfo.username, username) })) {
    throw new AppError('conflict', '该用户名已被注册', { username: '该用户名已被注册' });
  }
  const [user] = await db
    .insert(schema.userInfo)
    .values({ username, passwordHash: await hashPassword(password) })
    .onConflictDoNothing()
    .returning({ id: schema.userInfo.id, username: schema.userInfo.username });
  if (!user) throw new AppError('conflict', '该用户名已被注册', { username: '该用户名已被注册' });
  await directory.placeOperator(user, config.newOperatorShard, forShard(config.newOperatorShard).db);
  const session = await createSession(db, user.id);
  setSessionCookie(c, session);
  return c.json({ ...user, token: session.id }, 201);
});
