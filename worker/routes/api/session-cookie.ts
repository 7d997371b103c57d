import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { AppEnv } from '../../app-env';
import { SESSION_COOKIE } from '../../auth/sessions';

/** The opaque session id: cookie (httpOnly, Secure, SameSite=Lax) or `Authorization: Bearer`. */
export function sessionIdOf(c: Context<AppEnv>): string | undefined {
  const auth = c.req.header('authorization');
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  return getCookie(c, SESSION_COOKIE);
}

export function setSessionCookie(c: Context<AppEnv>, s: { id: string; expiresAt: number }) {
  setCookie(c, SESSION_COOKIE, s.id, { httpOnly: true, secure: true, sameSite: 'Lax', path: '/', expires: new Date(s.expiresAt) });
}
