/** The phone page (dev): a person plays fans of the sandbox's accounts, and the sandbox pushes what they do to the worker. */
import { Hono } from 'hono';
import type { SandboxOptions } from './app';
import { PHONE_PAGE } from './phone-page';
import { fanMessage } from './pushes';
import type { SandboxState } from './state';
import { body, err } from './wechat-api';

/** `/phone`, the accounts it offers, and `/__sandbox/phone/push`. */
export function phoneApp(state: SandboxState, opts: SandboxOptions) {
  const app = new Hono();

  app.get('/phone', (c) => c.html(PHONE_PAGE));
  app.get('/__sandbox/accounts', (c) => c.json([...state.accounts.values()]));
  app.post('/__sandbox/phone/push', async (c) => {
    if (!opts.pushToWorker) return c.json(err(501, 'this sandbox has no worker to push to'), 501);
    const b = await body(c);
    const a = state.accounts.get(b.appid);
    if (!a) return c.json(err(404, 'no such account'), 404);
    const f = state.fan(a.appid, b.openid);
    if (b.type === 'subscribe') f.following = true;
    if (b.type === 'unsubscribe') f.following = false;
    state.interact(a.appid, b.openid, b.type === 'text' ? 'message' : 'event');
    const inner = fanMessage({ ghId: a.ghId, openId: b.openid, createTime: Math.floor(Date.now() / 1000), type: b.type, content: b.content, scene: b.scene });
    return c.json({ reply: await opts.pushToWorker(a.appid, inner, a.ghId) });
  });

  return app;
}
