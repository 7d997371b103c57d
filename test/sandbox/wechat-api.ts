/** What every WeChat API endpoint of the sandbox shares: errcode replies, the fault gate, lenient JSON bodies. */
import type { Context } from 'hono';
import type { SandboxState } from './state';

/** WeChat's error reply: `{ errcode, errmsg }`, with HTTP 200 as WeChat does. */
export const err = (errcode: number, errmsg: string) => ({ errcode, errmsg });

/** Counts the call and applies an injected fault (errcode and/or delay) if one is queued. */
export async function gate(state: SandboxState, c: Context, api: string, forAppid?: string): Promise<Response | null> {
  const token = c.req.query('access_token') ?? c.req.query('component_access_token');
  const appid = forAppid ?? ((token && state.tokens.get(token)?.appid) || c.req.query('appid'));
  state.count(api, appid);
  const fault = state.takeFault(api, appid);
  if (!fault) return null;
  if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
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
