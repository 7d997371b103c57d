import { createRoute, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { hashPassword } from '../../auth/password';
import { PASSWORD_MAX, PASSWORD_MIN, passwordProblem } from '../../auth/password-policy';
import { countAttempt } from '../../auth/rate-limit';
import { createSession } from '../../auth/sessions';
import { schema } from '../../db/client';
import { AppError } from '../../errors';
import { clientAddress } from './client-address';
import { createApi, errorResponses } from './openapi';
import { Username, UserSchema } from './session';
import { setSessionCookie } from './session-cookie';

/** Registrations allowed from one address in an hour. */
const REGISTRATIONS_PER_ADDRESS = 10;
const REGISTRATION_WINDOW_MS = 3600_000;

const NewUser = z
  .object({
    username: Username.min(3, '用户名至少 3 个字符')
      .max(32, '用户名最多 32 个字符')
      .regex(/^[a-z0-9_.@-]+$/, '用户名只能包含字母、数字和 _ . @ -'),
    password: z.string().min(PASSWORD_MIN, `密码至少 ${PASSWORD_MIN} 位`).max(PASSWORD_MAX, `密码最多 ${PASSWORD_MAX} 位`),
  })
  .superRefine(async ({ username, password }, ctx) => {
    const problem = await passwordProblem(username, password);
    if (problem) ctx.addIssue({ code: 'custom', path: ['password'], message: problem });
  })
  .openapi('NewUser');

const register = createRoute({
  method: 'post',
  path: '/users',
  summary: '注册运营账号（注册后即登录）',
  request: { body: { required: true, content: { 'application/json': { schema: NewUser } } } },
  responses: {
    201: { description: '已注册', content: { 'application/json': { schema: UserSchema } } },
    ...errorResponses(409, 422, 429),
  },
});

export const usersApi = createApi().openapi(register, async (c) => {
  const { username, password } = c.req.valid('json');
  const { home: db, directory, config, forShard } = c.var.services;
  const within = await countAttempt(db, [{ key: `register:@${clientAddress(c)}`, max: REGISTRATIONS_PER_ADDRESS, windowMs: REGISTRATION_WINDOW_MS }]);
  if (!within) throw new AppError('rate_limited', '注册过于频繁，请一小时后再试');
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
