/** Fans' web OAuth through the component: the authorize page, the code exchange and `sns/userinfo`. */
import { Hono } from 'hono';
import { html } from 'hono/html';
import type { SandboxOptions } from './app';
import { type SandboxState, TOKEN_TTL_S } from './state';
import { err, gate } from './wechat-api';

/** `/connect/oauth2/authorize`, `/sns/oauth2/component/access_token`, `/sns/userinfo`. */
export function oauthApp(state: SandboxState, opts: SandboxOptions) {
  const app = new Hono();

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
    const g = await gate(state, c, 'sns/oauth2/component/access_token');
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
    const g = await gate(state, c, 'sns/userinfo');
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

  return app;
}
