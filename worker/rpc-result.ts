import { AppError, type ErrorCode } from './errors';
import { WeChatApiError } from './wechat/api';

/**
 * Durable Object RPC keeps only an error's message, so DO methods return this instead of
 * throwing our error types, and callers unwrap it back into the same error.
 */
export type RpcResult<T> =
  | { ok: true; value: T }
  | { ok: false; app?: { code: ErrorCode; message: string; fields?: Record<string, string> }; wechat?: { api: string; errcode: number; errmsg: string } };

export async function capture<T>(fn: () => Promise<T>): Promise<RpcResult<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    if (e instanceof AppError) return { ok: false, app: { code: e.code, message: e.message, fields: e.fields } };
    if (e instanceof WeChatApiError) return { ok: false, wechat: { api: e.api, errcode: e.errcode, errmsg: e.errmsg } };
    throw e;
  }
}

export function unwrap<T>(r: RpcResult<T>): T {
  if (r.ok) return r.value;
  if (r.app) throw new AppError(r.app.code, r.app.message, r.app.fields);
  const w = r.wechat!;
  throw new WeChatApiError(w.api, w.errcode, w.errmsg);
}
