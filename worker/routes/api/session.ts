import { createRoute, z } from '@hono/zod-openapi';
import { deleteCookie } from 'hono/cookie';
import { authenticate, createSession, deleteSession, SESSION_COOKIE } from '../../auth/sessions';
import { createApi, errorResponses, security } from './openapi';
import { sessionIdOf, setSessionCookie } from './session-cookie';

export const Credentials = z
  .object({
    username: z
      .string()
      .trim()
      .min(3, '用户名至少 3 个字符')
      .max(32, '用户名最多 32 个字符')
      .regex(/^[A-Za-z0-9_.@-]+$/, '用户名只能包含字母、数字和 _ . @ -'),
    password: z.string().min(8, '密码至少 8 位').max(128, '密码最多 128 位'),
  })
  .openapi('Credentials');

export const UserSchema = z
  .object({ id: z.number().int(), username: z.string(), token: z.string().optional().openapi({ description: '会话令牌（也可用于 Authorization: Bearer）' }) })
  .openapi('User');

const login = createRoute({
  method: 'post',
  path: '/session',
  summary: '登录',
  request: { body: { required: true, content: { 'application/json': { schema: Credentials } } } },
  responses: {
    200: { description: '已登录', content: { 'application/json': { schema: UserSchema } } },
    ...errorResponses(401, 422, 429),
  },
});

const me = createRoute({
  method: 'get',
  path: '/session',
  summary: '当前登录的运营账号',
  security,
  responses: { 200: { description: '当前用户', content: { 'application/json': { schema: UserSchema } } }, ...errorResponses(401) },
});

const logout = createRoute({
  method: 'delete',
  path: '/session',
  summary: '退出登录',
  security,
  responses: { 204: { description: '已退出' }, ...errorResponses(401) },
});

/** Logging in: public. */
export const loginApi = createApi().openapi(login, async (c) => {
  const { username, password } = c.req.valid('json');
  const { home: db } = c.var.services;
  const ip = c.req.header('cf-connecting-ip') ?? 'local';
  const user = await authenticate(db, username, password, ip);
  const session = await createSession(db, user.id);
  setSessionCookie(c, session);
  return c.json({ ...user, token: session.id }, 200);
});

/** The signed-in operator's session: who they are, and logging out. */
export const sessionApi = createApi()
  .openapi(me, (c) => c.json({ id: c.var.user.id, username: c.var.user.username }, 200))
  .openapi(logout, async (c) => {
    const id = sessionIdOf(c);
    if (id) await deleteSession(c.var.services.home, id);
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: true });
    return c.body(null, 204);
  });
