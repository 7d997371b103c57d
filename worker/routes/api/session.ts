import { createRoute, z } from '@hono/zod-openapi';
import { deleteCookie } from 'hono/cookie';
import { authenticate, createSession, deleteSession, SESSION_COOKIE } from '../../auth/sessions';
import { clientAddress } from './client-address';
import { createApi, errorResponses, security } from './openapi';
import { sessionIdOf, setSessionCookie } from './session-cookie';

/** A username as stored: trimmed and lowercase, so `Demo` and `demo` are one account everywhere. */
export const Username = z.string().trim().toLowerCase();

const LoginInput = z
  .object({
    username: Username.min(1, '请输入用户名').max(64, '用户名最多 32 个字符'),
    // No rule beyond "given": any wrong password, whatever its length, is just wrong (401).
    password: z.string().min(1, '请输入密码'),
  })
  .openapi('LoginInput');

export const UserSchema = z
  .object({ id: z.number().int(), username: z.string(), token: z.string().optional().openapi({ description: '会话令牌（也可用于 Authorization: Bearer）' }) })
  .openapi('User');

const login = createRoute({
  method: 'post',
  path: '/session',
  summary: '登录',
  request: { body: { required: true, content: { 'application/json': { schema: LoginInput } } } },
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
  const user = await authenticate(db, username, password, clientAddress(c));
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
