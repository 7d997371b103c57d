/** The sandbox's control surface, `/__sandbox/*`: what tests and dev scripts use to play WeChat's side. */
import { Hono } from 'hono';
import { blackPng } from './png';
import type { SandboxAccount, SandboxState } from './state';
import { body, err } from './wechat-api';

/** Tickets, accounts, fans, codes, faults, token expiry, and the record of messages, calls and QR codes. */
export function controlApp(state: SandboxState) {
  const app = new Hono();

  app.post('/__sandbox/ticket', (c) => {
    const ticket = state.id('ticket@@@');
    state.tickets.add(ticket);
    state.latestTicket = ticket;
    return c.json({ ticket });
  });

  app.post('/__sandbox/accounts', async (c) => {
    const b = await body(c);
    const appid = b.appid ?? `wx${Array.from(crypto.getRandomValues(new Uint8Array(8)), (x) => x.toString(16).padStart(2, '0')).join('')}`;
    const account: SandboxAccount = {
      appid,
      ghId: b.ghId ?? `gh_${appid.slice(2, 14)}`,
      nickName: b.nickName ?? '沙箱公众号',
      serviceType: b.serviceType ?? 2,
      verifyType: b.verifyType ?? 0,
      refreshToken: b.refreshToken ?? state.id('refreshtoken@@@'),
      authorized: b.authorized === true,
    };
    state.accounts.set(appid, account);
    return c.json(account);
  });

  /** Issues an auth_code directly (what clicking "授权" on the page does). */
  app.post('/__sandbox/auth-code', async (c) => {
    const b = await body(c);
    if (!state.accounts.has(b.appid)) return c.json(err(404, 'no such account'), 404);
    const code = state.id('queryauthcode@@@');
    state.authCodes.set(code, { appid: b.appid, used: false });
    return c.json({ auth_code: code });
  });

  app.post('/__sandbox/revoke', async (c) => {
    const b = await body(c);
    const a = state.accounts.get(b.appid);
    if (a) a.authorized = false;
    return c.json({ ok: !!a });
  });

  /**
   * Creates or updates a fan (nickname, avatar, following) and records an interaction.
   * `staffSends`: the account's own staff sends that many customer-service messages from the
   * official platform, spending the fan's windows as any send does. `age`: the fan's windows are
   * that many ms older, as if the time had passed. `blocksTemplates`: the fan refuses the
   * account's template messages.
   */
  app.post('/__sandbox/fans', async (c) => {
    const b = await body(c);
    const f = state.fan(b.appid, b.openid);
    if (typeof b.nickname === 'string') f.nickname = b.nickname;
    if (typeof b.headimgurl === 'string') f.headimgurl = b.headimgurl;
    if (typeof b.following === 'boolean') f.following = b.following;
    if (typeof b.blocksTemplates === 'boolean') f.blocksTemplates = b.blocksTemplates;
    if (b.interaction === 'message' || b.interaction === 'event') state.interact(b.appid, b.openid, b.interaction);
    for (let i = 0; i < (Number(b.staffSends) || 0); i++) state.spendSend(f);
    for (const w of [f.message, f.event]) w.until -= Number(b.age) || 0;
    return c.json(f);
  });

  app.post('/__sandbox/oauth-code', async (c) => {
    const b = await body(c);
    const code = state.id('oauthcode');
    state.oauthCodes.set(code, { appid: b.appid, openid: b.openid, used: false, snapshot: !!b.snapshot });
    return c.json({ code });
  });

  app.post('/__sandbox/faults', async (c) => {
    const b = await body(c);
    state.faults.push({
      api: b.api,
      appid: b.appid,
      errcode: b.errcode ?? 0,
      errmsg: b.errmsg,
      times: b.times ?? 1,
      delayMs: b.delayMs,
      drop: b.drop === true,
      lateMs: b.lateMs,
    });
    return c.json({ ok: true });
  });

  app.post('/__sandbox/expire-tokens', async (c) => {
    const b = await body(c);
    state.expireTokens(b.kind, b.appid);
    return c.json({ ok: true });
  });

  app.get('/__sandbox/messages', (c) => {
    const { appid, touser } = c.req.query();
    return c.json(state.sent.filter((m) => (!appid || m.appid === appid) && (!touser || m.touser === touser)));
  });

  // Avatars a hostile profile could point at, on the sandbox's own (WeChat's) origin: the poster
  // flow must draw the default avatar for each. A redirect anywhere; a PNG of 4000×4000 pixels in
  // a few KB; a body that never ends (64 MB, no content-length), counting what was read of it.
  app.get('/__sandbox/avatars/redirect', (c) => c.redirect(c.req.query('to') ?? '/', 302));
  let bomb: Uint8Array<ArrayBuffer> | undefined;
  app.get('/__sandbox/avatars/bomb.png', (c) => c.body((bomb ??= new Uint8Array(blackPng(4000, 4000))), 200, { 'content-type': 'image/png' }));
  app.get('/__sandbox/avatars/endless.png', (c) => {
    const chunk = new Uint8Array(64 * 1024);
    chunk.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    let left = 1024;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (left-- === 0) return controller.close();
        state.endlessAvatarBytes += chunk.byteLength;
        controller.enqueue(chunk.slice());
      },
    });
    return c.body(body, 200, { 'content-type': 'image/png' });
  });
  app.get('/__sandbox/avatar-requests', (c) => c.json({ requests: state.avatarRequests, endlessBytes: state.endlessAvatarBytes, elsewhere: state.elsewhere }));

  app.get('/__sandbox/calls', (c) => c.json(Object.fromEntries(state.calls)));
  app.get('/__sandbox/token-calls/:ticket', (c) => c.json({ calls: state.tokenCallsByTicket.get(c.req.param('ticket')) ?? 0 }));

  /** The QR codes an account had made (posters `1_…`, promo codes `2_…`), newest first, one per scene: what a friend can scan. */
  app.get('/__sandbox/qrcodes', (c) => {
    const appid = c.req.query('appid');
    const newest = new Map<string, { ticket: string; appid: string; scene: string; url: string; createdAt: number; expiresAt: number | null }>();
    for (const [ticket, q] of [...state.qrcodes].reverse()) {
      if ((!appid || q.appid === appid) && !newest.has(`${q.appid}/${q.scene}`)) newest.set(`${q.appid}/${q.scene}`, { ticket, ...q });
    }
    return c.json([...newest.values()]);
  });

  app.get('/__sandbox/qrcodes/:ticket', (c) => {
    const q = state.qrcodes.get(c.req.param('ticket'));
    return q ? c.json(q) : c.json(err(404, 'no such ticket'), 404);
  });

  app.get('/__sandbox/qrcode-by-url', (c) => {
    const url = c.req.query('url');
    const hit = [...state.qrcodes.values()].find((q) => q.url === url);
    return hit ? c.json(hit) : c.json(err(404, 'no such QR url'), 404);
  });

  return app;
}
