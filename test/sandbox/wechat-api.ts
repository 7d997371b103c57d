/** What every WeChat API endpoint of the sandbox shares: errcode replies, the fault gate, lenient JSON bodies. */
import type { Context, MiddlewareHandler } from 'hono';
import type { SandboxState } from './state';

/** WeChat's error reply: `{ errcode, errmsg }`, with HTTP 200 as WeChat does. */
export const err = (errcode: number, errmsg: string) => ({ errcode, errmsg });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Answers WeChat processed at once but sends late (a `lateMs` fault), by request. */
const late = new WeakMap<Request, number>();

/** Holds back the answers of calls a `lateMs` fault made late (mounted before every route). */
export const lateAnswers: MiddlewareHandler = async (c, next) => {
  await next();
  const ms = late.get(c.req.raw);
  if (ms) await sleep(ms);
};

/** Counts the call and applies an injected fault (errcode, delay, a lost request or a late answer) if one is queued. */
export async function gate(state: SandboxState, c: Context, api: string, forAppid?: string): Promise<Response | null> {
  const token = c.req.query('access_token') ?? c.req.query('component_access_token');
  const appid = forAppid ?? ((token && state.tokens.get(token)?.appid) || c.req.query('appid'));
  state.count(api, appid);
  const fault = state.takeFault(api, appid);
  if (!fault) return null;
  if (fault.delayMs) await sleep(fault.delayMs);
  if (fault.drop) return c.html('<html><body><h1>502 Bad Gateway</h1></body></html>', 502);
  if (fault.lateMs) late.set(c.req.raw, fault.lateMs);
  return fault.errcode ? c.json(err(fault.errcode, fault.errmsg ?? 'sandbox fault')) : null;
}

/** The JSON body, or `{}` when it is missing or malformed. */
export async function body(c: Context): Promise<Record<string, any>> {
  try {
    return await c.req.json();
  } catch {
    return {};
  }
}
