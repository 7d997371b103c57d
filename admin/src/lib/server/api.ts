import { type Cookies, error, type RequestEvent, redirect } from '@sveltejs/kit';
import createClient from 'openapi-fetch';
import { dev } from '$app/environment';
import { env } from '$env/dynamic/private';
import type { paths } from '$lib/api/schema';

/** The operator's session token, kept on the admin origin and sent to the API as a Bearer token. */
export const SESSION_COOKIE = 'sid';

/** What any request handler has: enough to reach the API as the signed-in operator. */
type ApiEvent = Pick<RequestEvent, 'cookies' | 'platform' | 'url' | 'getClientAddress'>;

/** The API's one error envelope. */
interface ErrorBody {
  error?: { code?: string; message?: string; fields?: Record<string, string> };
}

/** A failed call, ready for `fail()` in an action or `error()` in a load. */
export interface ApiFailure {
  ok: false;
  status: number;
  message: string;
  fields: Record<string, string>;
}

export type ApiResult<T> = { ok: true; data: T } | ApiFailure;

const UNREACHABLE = '无法连接后台服务，请确认 API 已启动后刷新页面重试';

/**
 * How this server reaches the API: on Cloudflare through the `API` service binding (the host is
 * then a placeholder), in dev at API_BASE. Dev never touches `platform`: reading it would start
 * wrangler's platform emulation, which cannot reach a worker on an arbitrary port.
 */
function apiRoute(event: ApiEvent): { base: string; binding?: NonNullable<App.Platform['env']>['API'] } {
  const binding = dev ? undefined : event.platform?.env?.API;
  if (binding) return { base: 'https://api.internal/api', binding };
  return { base: `${(env.API_BASE || 'http://127.0.0.1:8787').replace(/\/+$/, '')}/api` };
}

/**
 * Headers of every call: the operator's session, and the browser's address with the secret the
 * API believes it beside (its login and registration limits count per address; without it the
 * API would see every operator at this server's address).
 */
function apiHeaders(event: ApiEvent): Headers {
  if (!env.ADMIN_API_SECRET) {
    console.error('ADMIN_API_SECRET is not set: the API cannot tell operators apart by address');
    error(503, '后台配置不完整（缺少 ADMIN_API_SECRET），请联系管理员');
  }
  const headers = new Headers({ 'x-admin-secret': env.ADMIN_API_SECRET, 'x-client-address': event.getClientAddress() });
  const sid = event.cookies.get(SESSION_COOKIE);
  if (sid) headers.set('authorization', `Bearer ${sid}`);
  return headers;
}

/** Typed client for the API, authenticated as the operator whose cookie came with this request. */
export function api(event: ApiEvent) {
  const { base, binding } = apiRoute(event);
  return createClient<paths>({
    // The OpenAPI document's paths are relative to the /api mount point.
    baseUrl: base,
    headers: apiHeaders(event),
    ...(binding ? { fetch: (req: Request) => binding.fetch(req) } : {}),
  });
}

/** Raw fetch to the API (binary bodies such as poster previews), with the same auth and routing. */
export function apiFetch(event: ApiEvent, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = apiHeaders(event);
  for (const [k, v] of new Headers(init.headers)) headers.set(k, v);
  const { base, binding } = apiRoute(event);
  const req = new Request(`${base}${path}`, { ...init, headers });
  return binding ? binding.fetch(req) : fetch(req);
}

/** Sets the session cookie on the admin origin from the token the API issued. */
export function setSession(cookies: Cookies, token: string) {
  // SvelteKit marks it Secure everywhere except plain-http localhost, so dev works over http.
  cookies.set(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', maxAge: 60 * 60 * 24 * 30 });
}

export function clearSession(cookies: Cookies) {
  cookies.delete(SESSION_COOKIE, { path: '/' });
}

/** Where an expired session goes: the login page, coming back here afterwards. */
export function loginRedirect(event: ApiEvent): never {
  clearSession(event.cookies);
  const next = event.url.pathname + event.url.search;
  redirect(303, next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`);
}

function failure(status: number, body: unknown): ApiFailure {
  const e = (body as ErrorBody | undefined)?.error;
  return {
    ok: false,
    status,
    message: e?.message || `请求失败（HTTP ${status}），请稍后重试`,
    fields: e?.fields ?? {},
  };
}

/**
 * Awaits an openapi-fetch call and sorts out the outcome: data, or a failure carrying the API's
 * Chinese message and field errors. A 401 means the session is gone: off to the login page (except
 * where 401 is an answer, e.g. a wrong password at login).
 */
export async function call<R extends { data?: unknown; error?: unknown; response: Response }>(
  event: ApiEvent,
  request: Promise<R>,
  { loginOn401 = true } = {},
): Promise<ApiResult<NonNullable<R['data']>>> {
  let r: R;
  try {
    r = await request;
  } catch (e) {
    console.error('API unreachable:', e);
    return { ok: false, status: 503, message: UNREACHABLE, fields: {} };
  }
  if (r.response.status === 401 && loginOn401) loginRedirect(event);
  if (r.response.ok) return { ok: true, data: r.data as NonNullable<R['data']> };
  return failure(r.response.status, r.error);
}

/** For loads: the data, or the error page with the API's message. */
export async function load<R extends { data?: unknown; error?: unknown; response: Response }>(
  event: ApiEvent,
  request: Promise<R>,
): Promise<NonNullable<R['data']>> {
  const r = await call(event, request);
  if (!r.ok) error(r.status, r.message);
  return r.data;
}
