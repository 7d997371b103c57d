/** `/api/accounts[/authorize]`: authorizing an official account through WeChat's page, and revoking it. */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { pickAccount } from '../../sandbox/authorization-page';
import { componentMessage } from '../../sandbox/pushes';
import { api, authorizeAccount, KEYS, pushComponent, pushTicket, register, sandbox, strictPage, worker } from '../helpers';

beforeAll(async () => {
  await pushTicket();
});

describe('happy', () => {
  it('ticket push → authorize link → WeChat page → redirect → account stored for that operator', async () => {
    const op = await register();
    const res = await api(op, '/accounts/authorize', { method: 'POST' });
    expect(res.status).toBe(200);
    const links = await res.json<{ url: string; mobile_url: string }>();
    expect(links.url).toMatch(/\/cgi-bin\/componentloginpage\?component_appid=wx0000000000component&pre_auth_code=/);
    expect(links.mobile_url).toMatch(/\/wxaopen\/safe\/bindcomponent\?action=bindcomponent&no_scan=1&.*#wechat_redirect$/);

    const account = await authorizeAccount(op, { nickName: '沙箱服务号' });
    expect(account.redirect).toBe(`http://localhost:5173/accounts?authorized=${account.appid}`);
    const list = await (await api(op, '/accounts')).json<{ items: any[] }>();
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({ appid: account.appid, nick_name: '沙箱服务号', user_name: account.ghId, qr_capable: true, authorized: true });
    expect(JSON.stringify(list)).not.toMatch(/refresh|access_token|token/i);
  });

  it('unauthorized marks the account revoked; updateauthorized brings it back', async () => {
    const op = await register();
    const account = await authorizeAccount(op);
    expect(await (await pushComponent(componentMessage(KEYS.componentAppid, 'unauthorized', { AuthorizerAppid: account.appid }))).text()).toBe('success');
    let item = (await (await api(op, '/accounts')).json<{ items: any[] }>()).items[0];
    expect(item.authorized).toBe(false);
    expect(item.revoked_at).toBeTruthy();
    const { auth_code } = await sandbox('/__sandbox/auth-code', { appid: account.appid });
    await pushComponent(componentMessage(KEYS.componentAppid, 'updateauthorized', { AuthorizerAppid: account.appid, AuthorizationCode: auth_code }));
    item = (await (await api(op, '/accounts')).json<{ items: any[] }>()).items[0];
    expect(item.authorized).toBe(true);
  });
});

describe('security', () => {
  it('an authorization link works once and only for the operator who started it', async () => {
    const op = await register();
    const other = await register();
    const account = await authorizeAccount(op);
    expect((await (await api(other, '/accounts')).json<{ items: unknown[] }>()).items).toEqual([]);
    const row = await env.DB.prepare('SELECT id FROM authorize_requests WHERE user_id = ? AND used_at IS NOT NULL').bind(op.id).first<{ id: string }>();
    const { auth_code } = await sandbox('/__sandbox/auth-code', { appid: account.appid });
    const replay = await worker(`/wechat/authorized?req=${row!.id}&auth_code=${auth_code}`);
    expect(replay.status).toBe(400);
    expect(await strictPage(replay)).toContain('授权链接已失效');
  });

  it('an account authorized by one operator cannot be taken by another', async () => {
    const op = await register();
    const thief = await register();
    const account = await authorizeAccount(op);
    const { url } = await (await api(thief, '/accounts/authorize', { method: 'POST' })).json<{ url: string }>();
    const redirect = new URL(await pickAccount(url, account.appid));
    const res = await worker(`${redirect.pathname}${redirect.search}`);
    expect(res.status).toBe(409);
    expect((await (await api(thief, '/accounts')).json<{ items: unknown[] }>()).items).toEqual([]);
  });
});
