/** WeChat's third-party platform side: the component APIs and the operator's authorization page. */
import { type Context, Hono } from 'hono';
import { html } from 'hono/html';
import type { SandboxOptions } from './app';
import { type SandboxAccount, type SandboxState, TOKEN_TTL_S } from './state';
import { body, err, gate } from './wechat-api';

/** `/cgi-bin/component/*`, `/cgi-bin/componentloginpage`, `/wxaopen/safe/bindcomponent` and the page's form. */
export function componentApp(state: SandboxState, opts: SandboxOptions) {
  const app = new Hono();

  function componentTokenOk(c: Context) {
    return state.checkToken(c.req.query('component_access_token'), 'component');
  }

  app.post('/cgi-bin/component/api_component_token', async (c) => {
    const g = await gate(state, c, 'api_component_token');
    if (g) return g;
    const b = await body(c);
    if (b.component_appid !== opts.componentAppid || b.component_appsecret !== opts.componentSecret) return c.json(err(40013, 'invalid appid or secret'));
    if (!state.tickets.has(b.component_verify_ticket)) return c.json(err(61006, 'component ticket is invalid'));
    state.tokenCallsByTicket.set(b.component_verify_ticket, (state.tokenCallsByTicket.get(b.component_verify_ticket) ?? 0) + 1);
    return c.json({ component_access_token: state.issueToken('component', opts.componentAppid), expires_in: TOKEN_TTL_S });
  });

  app.post('/cgi-bin/component/api_create_preauthcode', async (c) => {
    const g = await gate(state, c, 'api_create_preauthcode');
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
    const g = await gate(state, c, 'api_query_auth');
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
    const g = await gate(state, c, 'api_authorizer_token', b.authorizer_appid);
    if (g) return g;
    const t = componentTokenOk(c);
    if (t.errcode) return c.json(err(t.errcode, t.errmsg));
    const a = state.accounts.get(b.authorizer_appid);
    if (!a?.authorized || a.refreshToken !== b.authorizer_refresh_token) return c.json(err(61023, 'refresh_token is invalid'));
    return c.json({ authorizer_access_token: state.issueToken('authorizer', a.appid), expires_in: TOKEN_TTL_S, authorizer_refresh_token: a.refreshToken });
  });

  app.post('/cgi-bin/component/api_get_authorizer_info', async (c) => {
    const g = await gate(state, c, 'api_get_authorizer_info');
    if (g) return g;
    const t = componentTokenOk(c);
    if (t.errcode) return c.json(err(t.errcode, t.errmsg));
    const b = await body(c);
    const a = state.accounts.get(b.authorizer_appid);
    if (!a?.authorized) return c.json(err(61003, 'component is not authorized by this account'));
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

  return app;
}
