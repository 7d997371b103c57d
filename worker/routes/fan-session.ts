import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { AppEnv } from '../app-env';
import { FAN_SESSION_COOKIE, FAN_SESSION_TTL_MS } from '../campaign/fan-access';

/** The fan's session (campaign/fan-access.ts) as their browser sent it. */
export const fanSession = (c: Context<AppEnv>): string | undefined => getCookie(c, FAN_SESSION_COOKIE);

/** Keeps the fan's session for their pages: the poster page (/oauth) and the /h5 pages share it. */
export function keepFanSession(c: Context<AppEnv>, session: string): void {
  setCookie(c, FAN_SESSION_COOKIE, session, { httpOnly: true, secure: true, sameSite: 'Lax', path: '/', maxAge: FAN_SESSION_TTL_MS / 1000 });
}
