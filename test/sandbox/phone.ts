/** The phone page (dev): a person plays fans of the sandbox's accounts, and the sandbox pushes what they do to the worker. */
import { Hono } from 'hono';
import type { SandboxOptions } from './app';
import { PHONE_PAGE } from './phone-page';
import { fanMessage } from './pushes';
import type { SandboxState } from './state';
import { body, err } from './wechat-api';

type Action = 'text' | 'subscribe' | 'unsubscribe';
const ACTIONS: readonly Action[] = ['text', 'subscribe', 'unsubscribe'];
const MAX_FRIENDS = 20;

/** `/phone`, the accounts it offers, `/__sandbox/phone/push` and the friends a fan made scan (`/__sandbox/phone/friends`). */
export function phoneApp(state: SandboxState, opts: SandboxOptions) {
  const app = new Hono();

  /**
   * A fan does something on their phone: the sandbox learns it (following, the service windows),
   * WeChat pushes it to the worker, and the account's passive reply (a text or a news card) comes back. Only a follower
   * can write to an account, so a text means following too.
   */
  async function act(
    push: NonNullable<SandboxOptions['pushToWorker']>,
    appid: string,
    openid: string,
    type: Action,
    extra: { content?: string; scene?: string },
  ) {
    const a = state.accounts.get(appid)!;
    const f = state.fan(a.appid, openid);
    f.following = type !== 'unsubscribe';
    // An unfollow opens no window.
    if (type !== 'unsubscribe') state.interact(a.appid, openid, type === 'text' ? 'message' : 'event');
    const inner = fanMessage({ ghId: a.ghId, openId: openid, createTime: Math.floor(Date.now() / 1000), type, content: extra.content, scene: extra.scene });
    const reply = await push(a.appid, inner, a.ghId);
    const friend = state.friends.find((x) => x.appid === appid && x.openid === openid);
    if (friend) friend.reply = reply.text ?? reply.news?.title ?? '';
    return reply;
  }

  app.get('/phone', (c) => c.html(PHONE_PAGE));
  app.get('/__sandbox/accounts', (c) => c.json([...state.accounts.values()]));

  app.post('/__sandbox/phone/push', async (c) => {
    if (!opts.pushToWorker) return c.json(err(501, 'this sandbox has no worker to push to'), 501);
    const b = await body(c);
    if (!state.accounts.has(b.appid)) return c.json(err(404, 'no such account'), 404);
    if (typeof b.openid !== 'string' || !b.openid || !ACTIONS.includes(b.type))
      return c.json(err(400, 'openid and type (text, subscribe, unsubscribe) are required'), 400);
    const reply = await act(opts.pushToWorker, b.appid, b.openid, b.type, { content: b.content, scene: b.scene });
    return c.json({ reply: reply.text ?? '', news: reply.news ?? null });
  });

  /** `count` new friends scan the QR code of `scene` and follow: each is remembered, with the account's reply. */
  app.post('/__sandbox/phone/friends', async (c) => {
    if (!opts.pushToWorker) return c.json(err(501, 'this sandbox has no worker to push to'), 501);
    const b = await body(c);
    if (!state.accounts.has(b.appid)) return c.json(err(404, 'no such account'), 404);
    const count = Number(b.count ?? 1);
    if (typeof b.scene !== 'string' || !b.scene || !Number.isInteger(count) || count < 1 || count > MAX_FRIENDS) {
      return c.json(err(400, `scene and a count of 1–${MAX_FRIENDS} are required`), 400);
    }
    const made = [];
    for (let i = 0; i < count; i++) {
      const friend = { appid: b.appid, openid: state.id('ofriend_'), scene: b.scene, at: Date.now(), reply: '' };
      state.friends.push(friend);
      await act(opts.pushToWorker, friend.appid, friend.openid, 'subscribe', { scene: friend.scene });
      made.push(friend);
    }
    return c.json(made);
  });

  /** The friends made on an account, newest first, with whether they still follow. */
  app.get('/__sandbox/phone/friends', (c) => {
    const appid = c.req.query('appid');
    const friends = state.friends.filter((f) => !appid || f.appid === appid).toReversed();
    return c.json(friends.map((f) => ({ ...f, following: state.fan(f.appid, f.openid).following })));
  });

  return app;
}
