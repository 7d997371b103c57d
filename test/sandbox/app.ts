import { type Context, Hono } from 'hono';
import { html } from 'hono/html';
import qrcode from 'qrcode-generator';
import { PHONE_PAGE } from './phone-page';
import { avatarPng } from './png';
import { templateReceipt } from './pushes';
import { type SandboxAccount, SandboxState, TOKEN_TTL_S } from './state';
import { templateApis } from './templates';

/** What the worker answered a fan's push with, as the phone shows it: a text, or a news card. */
export interface PhoneReply {
  text?: string;
  news?: { title: string; description: string; url: string };
}

export interface SandboxOptions {
  componentAppid: string;
  componentSecret: string;
  /** This sandbox's own origin, for avatar and QR URLs. */
  origin: string;
  /** Called when a fan acts on the phone page; dev wires it to push to the worker. */
  pushToWorker?: (appid: string, inner: string, ghId: string) => Promise<PhoneReply>;
  componentPush?: (inner: string) => Promise<unknown>;
}

const err = (errcode: number, errmsg: string) => ({ errcode, errmsg });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A stand-in for WeChat's servers, following WECHAT.md: the component and authorizer APIs with
 * realistic errcodes, the authorization and OAuth pages, a record of every message sent, fault
 * injection, and a phone page to play a fan. Never part of the worker bundle.
 */
export function createSandbox(opts: SandboxOptions) {
  const state = new SandboxState();
  const app = new Hono();

  /** Answers that WeChat processed at once but sends late (a `lateMs` fault), by request. */
  const late = new WeakMap<Request, number>();
  app.use('*', async (c, next) => {
    await next();
    const ms = late.get(c.req.raw);
    if (ms) await sleep(ms);
  });

  /** Counts the call and applies an injected fault (errcode, delay, a lost request or a late answer) if one is queued. */
  async function gate(c: Context, api: string, forAppid?: string): Promise<Response | null> {
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

  async function body(c: Context): Promise<Record<string, any>> {
    try {
      return await c.req.json();
    } catch {
      return {};
    }
  }

  function componentTokenOk(c: Context) {
    return state.checkToken(c.req.query('component_access_token'), 'component');
  }

  // ---- component APIs ----
  app.post('/cgi-bin/component/api_component_token', async (c) => {
    const g = await gate(c, 'api_component_token');
    if (g) return g;
    const b = await body(c);
    if (b.component_appid !== opts.componentAppid || b.component_appsecret !== opts.componentSecret) return c.json(err(40013, 'invalid appid or secret'));
    if (!state.tickets.has(b.component_verify_ticket)) return c.json(err(61006, 'component ticket is invalid'));
    state.tokenCallsByTicket.set(b.component_verify_ticket, (state.tokenCallsByTicket.get(b.component_verify_ticket) ?? 0) + 1);
    return c.json({ component_access_token: state.issueToken('component', opts.componentAppid), expires_in: TOKEN_TTL_S });
  });

  app.post('/cgi-bin/component/api_create_preauthcode', async (c) => {
    const g = await gate(c, 'api_create_preauthcode');
    if (g) return g;
    const t = componentTokenOk(c);
    if (t.errcode) return c.json(err(t.errcode, t.errmsg));
    const code = state.id('preauthcode@@@');
    state.preAuthCodes.set(code, Date.now() + 600_000);
    return c.json({ pre_auth_code: code, expires_in: 600 });
  });

  const authorizationInfo = (a: SandboxAccount, accessToken: string) => ({
    authorizer_appid: a.appid,
    authorizer_access_token: accessToken,
    expires_in: TOKEN_TTL_S,
    authorizer_refresh_token: a.refreshToken,
    func_info: [1, 2, 3, 15].map((id) => ({ funcscope_category: { id } })),
  });

  app.post('/cgi-bin/component/api_query_auth', async (c) => {
    const g = await gate(c, 'api_query_auth');
    if (g) return g;
    const t = componentTokenOk(c);
    if (t.errcode) return c.json(err(t.errcode, t.errmsg));
    const b = await body(c);
    const code = state.authCodes.get(b.authorization_code);
    if (!code || code.used) return c.json(err(61010, 'code is expired or invalid'));
    code.used = true;
    const a = state.accounts.get(code.appid)!;
    a.authorized = true;
    return c.json({ authorization_info: authorizationInfo(a, state.issueToken('authorizer', a.appid)) });
  });

  app.post('/cgi-bin/component/api_authorizer_token', async (c) => {
    const b = await body(c);
    const g = await gate(c, 'api_authorizer_token', b.authorizer_appid);
    if (g) return g;
    const t = componentTokenOk(c);
    if (t.errcode) return c.json(err(t.errcode, t.errmsg));
    const a = state.accounts.get(b.authorizer_appid);
    if (!a || !a.authorized || a.refreshToken !== b.authorizer_refresh_token) return c.json(err(61023, 'refresh_token is invalid'));
    return c.json({ authorizer_access_token: state.issueToken('authorizer', a.appid), expires_in: TOKEN_TTL_S, authorizer_refresh_token: a.refreshToken });
  });

  app.post('/cgi-bin/component/api_get_authorizer_info', async (c) => {
    const g = await gate(c, 'api_get_authorizer_info');
    if (g) return g;
    const t = componentTokenOk(c);
    if (t.errcode) return c.json(err(t.errcode, t.errmsg));
    const b = await body(c);
    const a = state.accounts.get(b.authorizer_appid);
    if (!a || !a.authorized) return c.json(err(61003, 'component is not authorized by this account'));
    return c.json({
      authorizer_info: {
        nick_name: a.nickName,
        head_img: `${opts.origin}/sandbox/avatar/${a.appid}.png`,
        service_type_info: { id: a.serviceType },
        verify_type_info: { id: a.verifyType },
        user_name: a.ghId,
        principal_name: `${a.nickName}（沙箱）有限公司`,
        alias: '',
        qrcode_url: `${opts.origin}/sandbox/avatar/${a.ghId}.png`,
      },
      authorization_info: { authorizer_appid: a.appid, func_info: [1, 2, 3, 15].map((id) => ({ funcscope_category: { id } })) },
    });
  });

  // ---- the operator's authorization page (PC and mobile) ----
  const authorizationPage = (c: Context) => {
    const preAuth = c.req.query('pre_auth_code') ?? '';
    const redirect = c.req.query('redirect_uri') ?? '';
    if (c.req.query('component_appid') !== opts.componentAppid || !state.preAuthCodes.has(preAuth) || !redirect) {
      return c.html(html`<h1>授权链接无效</h1><p>pre_auth_code 无效或已过期</p>`, 400);
    }
    const accounts = [...state.accounts.values()];
    return c.html(html`<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>公众号授权（沙箱）</title>
<style>body{font-family:sans-serif;max-width:560px;margin:40px auto}button{margin:6px 0;padding:8px 14px}</style></head>
<body><h1>微信公众平台 · 授权（沙箱）</h1><p>选择要授权给第三方平台的公众号：</p>
${accounts.map(
  (a) => html`<form method="post" action="/sandbox/authorize"><input type="hidden" name="pre_auth_code" value="${preAuth}">
<input type="hidden" name="redirect_uri" value="${redirect}"><input type="hidden" name="appid" value="${a.appid}">
<button type="submit" data-appid="${a.appid}">授权 ${a.nickName}（${a.appid}）</button></form>`,
)}</body></html>`);
  };
  app.get('/cgi-bin/componentloginpage', authorizationPage);
  app.get('/wxaopen/safe/bindcomponent', authorizationPage);

  app.post('/sandbox/authorize', async (c) => {
    const form = await c.req.parseBody();
    const preAuth = String(form.pre_auth_code ?? '');
    const expires = state.preAuthCodes.get(preAuth);
    const account = state.accounts.get(String(form.appid ?? ''));
    if (!expires || expires < Date.now() || !account) return c.text('pre_auth_code 无效或公众号不存在', 400);
    const code = state.id('queryauthcode@@@');
    state.authCodes.set(code, { appid: account.appid, used: false });
    const url = new URL(String(form.redirect_uri));
    url.searchParams.set('auth_code', code);
    url.searchParams.set('expires_in', '600');
    return c.redirect(url.toString(), 302);
  });

  // ---- fans' web OAuth ----
  app.get('/connect/oauth2/authorize', (c) => {
    const q = c.req.query();
    const account = state.accounts.get(q.appid ?? '');
    if (!account || q.component_appid !== opts.componentAppid || q.scope !== 'snsapi_userinfo' || !q.redirect_uri) {
      return c.html(html`<h1>授权参数错误</h1>`, 400);
    }
    // The phone page (or a test) says which fan is holding the phone.
    const openid = q.as ?? c.req.header('cookie')?.match(/sandbox_fan=([^;]+)/)?.[1];
    if (!openid) return c.html(html`<h1>请在沙箱手机页中打开此链接</h1>`, 400);
    const code = state.id('oauthcode');
    state.oauthCodes.set(code, { appid: account.appid, openid: decodeURIComponent(openid), used: false, snapshot: q.snapshot === '1' });
    const url = new URL(q.redirect_uri);
    url.searchParams.set('code', code);
    url.searchParams.set('state', q.state ?? '');
    url.searchParams.set('appid', account.appid);
    return c.redirect(url.toString(), 302);
  });

  app.get('/sns/oauth2/component/access_token', async (c) => {
    const g = await gate(c, 'sns/oauth2/component/access_token');
    if (g) return g;
    const q = c.req.query();
    if (q.component_appid !== opts.componentAppid) return c.json(err(40013, 'invalid component_appid'));
    const t = state.checkToken(q.component_access_token, 'component');
    if (t.errcode) return c.json(err(t.errcode, t.errmsg));
    const code = state.oauthCodes.get(q.code ?? '');
    if (!code || code.appid !== q.appid) return c.json(err(40029, 'invalid code'));
    if (code.used) return c.json(err(40163, 'code been used'));
    code.used = true;
    return c.json({
      access_token: state.issueToken('oauth', code.appid, code.openid),
      expires_in: TOKEN_TTL_S,
      refresh_token: state.id('oauthrefresh'),
      openid: code.openid,
      scope: 'snsapi_userinfo',
      ...(code.snapshot ? { is_snapshotuser: 1 } : {}),
    });
  });

  app.get('/sns/userinfo', async (c) => {
    const g = await gate(c, 'sns/userinfo');
    if (g) return g;
    const t = state.checkToken(c.req.query('access_token'), 'oauth');
    if (t.errcode) return c.json(err(t.errcode, t.errmsg));
    if (t.token!.openid !== c.req.query('openid')) return c.json(err(40003, 'invalid openid'));
    const f = state.fan(t.token!.appid, t.token!.openid!);
    return c.json({
      openid: f.openid,
      nickname: f.nickname,
      sex: 0,
      province: '',
      city: '',
      country: '',
      headimgurl: f.headimgurl || `${opts.origin}/sandbox/avatar/${encodeURIComponent(f.openid)}.png`,
      privilege: [],
    });
  });

  // ---- authorizer APIs ----
  const authorizerOk = (c: Context) => state.checkToken(c.req.query('access_token'), 'authorizer');

  app.post('/cgi-bin/qrcode/create', async (c) => {
    const g = await gate(c, 'qrcode/create');
    if (g) return g;
    const t = authorizerOk(c);
    if (t.errcode) return c.json(err(t.errcode, t.errmsg));
    const a = state.accounts.get(t.token!.appid)!;
    if (a.serviceType !== 2 || a.verifyType < 0) return c.json(err(48001, 'api unauthorized'));
    const b = await body(c);
    const scene = b.action_info?.scene?.scene_str;
    if (typeof scene !== 'string' || scene.length < 1 || scene.length > 64) return c.json(err(40097, 'invalid args: scene_str'));
    const permanent = b.action_name === 'QR_LIMIT_STR_SCENE';
    if (!permanent && b.action_name !== 'QR_STR_SCENE') return c.json(err(40097, 'invalid action_name'));
    const expire = permanent ? null : Math.min(Number(b.expire_seconds) || 60, 2_592_000);
    const ticket = state.id('gQ');
    const url = `http://weixin.qq.com/q/${ticket}`;
    state.qrcodes.set(ticket, { appid: a.appid, scene, expiresAt: expire ? Date.now() + expire * 1000 : null, url });
    return c.json({ ticket, url, ...(expire ? { expire_seconds: expire } : {}) });
  });

  app.get('/cgi-bin/showqrcode', (c) => {
    const q = state.qrcodes.get(c.req.query('ticket') ?? '');
    if (!q) return c.json(err(40097, 'invalid ticket'), 404);
    const qr = qrcode(0, 'M');
    qr.addData(q.url);
    qr.make();
    const gif = qr.createDataURL(8, 16).split(',')[1];
    return c.body(new Uint8Array(Buffer.from(gif, 'base64')), 200, { 'content-type': 'image/gif' });
  });

  app.post('/cgi-bin/message/custom/send', async (c) => {
    const g = await gate(c, 'message/custom/send');
    if (g) return g;
    const t = authorizerOk(c);
    if (t.errcode) return c.json(err(t.errcode, t.errmsg));
    const b = await body(c);
    const appid = t.token!.appid;
    if (typeof b.touser !== 'string' || !['text', 'news', 'image'].includes(b.msgtype)) return c.json(err(40008, 'invalid message type'));
    if (b.msgtype === 'news' && b.news?.articles?.length !== 1) return c.json(err(45008, 'article size out of limit'));
    const f = state.fan(appid, b.touser);
    if (!f.following) return c.json(err(43004, 'require subscribe'));
    const refused = state.spendSend(f);
    if (refused === 45015) return c.json(err(45015, 'response out of time limit or subscription is canceled'));
    if (refused === 45047) return c.json(err(45047, 'out of response count limit'));
    state.sent.push({ appid, touser: b.touser, msgtype: b.msgtype, body: b, at: Date.now() });
    return c.json(err(0, 'ok'));
  });

  app.route(
    '/',
    templateApis({
      state,
      gate,
      pushReceipt: opts.pushToWorker
        ? (appid, job) => {
            const a = state.accounts.get(appid)!;
            return opts.pushToWorker!(appid, templateReceipt({ ghId: a.ghId, openId: job.touser, msgid: job.msgid, status: job.status }), a.ghId);
          }
        : undefined,
    }),
  );

  app.post('/cgi-bin/media/upload', async (c) => {
    const g = await gate(c, 'media/upload');
    if (g) return g;
    const t = authorizerOk(c);
    if (t.errcode) return c.json(err(t.errcode, t.errmsg));
    const form = await c.req.parseBody();
    const media = form.media;
    if (!(media instanceof File)) return c.json(err(41005, 'media data missing'));
    const id = state.id('media_');
    state.media.set(id, { appid: t.token!.appid, bytes: media.size });
    return c.json({ type: c.req.query('type') ?? 'image', media_id: id, created_at: Math.floor(Date.now() / 1000) });
  });

  app.get('/sandbox/avatar/:name', (c) =>
    c.body(new Uint8Array(avatarPng(c.req.param('name'))), 200, { 'content-type': 'image/png', 'cache-control': 'max-age=86400' }),
  );

  // ---- control surface for tests and the phone page ----
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

  app.get('/__sandbox/calls', (c) => c.json(Object.fromEntries(state.calls)));
  app.get('/__sandbox/token-calls/:ticket', (c) => c.json({ calls: state.tokenCallsByTicket.get(c.req.param('ticket')) ?? 0 }));

  app.get('/__sandbox/qrcodes/:ticket', (c) => {
    const q = state.qrcodes.get(c.req.param('ticket'));
    return q ? c.json(q) : c.json(err(404, 'no such ticket'), 404);
  });

  app.get('/__sandbox/qrcode-by-url', (c) => {
    const url = c.req.query('url');
    const hit = [...state.qrcodes.values()].find((q) => q.url === url);
    return hit ? c.json(hit) : c.json(err(404, 'no such QR url'), 404);
  });

  // ---- the phone page (dev): a person plays fans of the sandbox's accounts ----
  app.get('/phone', (c) => c.html(PHONE_PAGE));
  app.get('/__sandbox/accounts', (c) => c.json([...state.accounts.values()]));
  app.post('/__sandbox/phone/push', async (c) => {
    if (!opts.pushToWorker) return c.json(err(501, 'this sandbox has no worker to push to'), 501);
    const b = await body(c);
    const a = state.accounts.get(b.appid);
    if (!a) return c.json(err(404, 'no such account'), 404);
    const { fanMessage } = await import('./pushes');
    const f = state.fan(a.appid, b.openid);
    if (b.type === 'subscribe') f.following = true;
    if (b.type === 'unsubscribe') f.following = false;
    else state.interact(a.appid, b.openid, b.type === 'text' ? 'message' : 'event');
    const inner = fanMessage({ ghId: a.ghId, openId: b.openid, createTime: Math.floor(Date.now() / 1000), type: b.type, content: b.content, scene: b.scene });
    const reply = await opts.pushToWorker(a.appid, inner, a.ghId);
    return c.json({ reply: reply.text ?? '', news: reply.news ?? null });
  });

  return { app, state };
}
