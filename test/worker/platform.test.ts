import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createServices } from '../../worker/services';
import { componentMessage, fanMessage, sealPush } from '../sandbox/pushes';
import {
  api, authorizeAccount, box, deliver, fanPush, KEYS, pushComponent, pushTicket, register, sandbox, sealFanPush, uid, waitForMessages, worker,
} from './helpers';

const calls = async (name: string) => (await sandbox<Record<string, number>>('/__sandbox/calls'))[name] ?? 0;

let ticket: string;
/** Component-token refreshes made with this file's ticket (other files refresh in parallel). */
const refreshes = async () => (await sandbox<{ calls: number }>(`/__sandbox/token-calls/${encodeURIComponent(ticket)}`)).calls;

beforeAll(async () => {
  ticket = await pushTicket();
});

describe('authorization', () => {
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

  it('an authorization link works once and only for the operator who started it', async () => {
    const op = await register();
    const other = await register();
    const account = await authorizeAccount(op);
    expect((await (await api(other, '/accounts')).json<{ items: unknown[] }>()).items).toEqual([]);
    const row = await env.DB.prepare('SELECT id FROM authorize_requests WHERE user_id = ? AND used_at IS NOT NULL').bind(op.id).first<{ id: string }>();
    const { auth_code } = await sandbox('/__sandbox/auth-code', { appid: account.appid });
    const replay = await worker(`/wechat/authorized?req=${row!.id}&auth_code=${auth_code}`);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('授权链接已失效');
  });

  it('an account authorized by one operator cannot be taken by another', async () => {
    const op = await register();
    const thief = await register();
    const account = await authorizeAccount(op);
    const { url } = await (await api(thief, '/accounts/authorize', { method: 'POST' })).json<{ url: string }>();
    const page = new URL(url);
    const back = await fetch(`${page.origin}/sandbox/authorize`, {
      method: 'POST',
      body: new URLSearchParams({ pre_auth_code: page.searchParams.get('pre_auth_code')!, redirect_uri: page.searchParams.get('redirect_uri')!, appid: account.appid }),
      redirect: 'manual',
    });
    const redirect = new URL(back.headers.get('location')!);
    const res = await worker(`${redirect.pathname}${redirect.search}`);
    expect(res.status).toBe(409);
    expect((await (await api(thief, '/accounts')).json<{ items: unknown[] }>()).items).toEqual([]);
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

describe('tokens', () => {
  it('many callers during an expired component token cause exactly one refresh', async () => {
    const op = await register();
    await api(op, '/accounts/authorize', { method: 'POST' });
    await sandbox('/__sandbox/expire-tokens', { kind: 'component' });
    const before = await refreshes();
    const results = await Promise.all(Array.from({ length: 20 }, () => api(op, '/accounts/authorize', { method: 'POST' })));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect((await refreshes()) - before).toBe(1);
  });

  it('an authorizer token that expires mid-flight is refreshed once and the calls retried once', async () => {
    const op = await register();
    const account = await authorizeAccount(op);
    const { wechat } = createServices(env);
    await wechat.createQrcode(account.appid, 'warmup', 60);
    await sandbox('/__sandbox/expire-tokens', { kind: 'authorizer', appid: account.appid });
    const refreshes = await calls(`api_authorizer_token@${account.appid}`);
    const creates = await calls(`qrcode/create@${account.appid}`);
    const tickets = await Promise.all(Array.from({ length: 10 }, (_, i) => wechat.createQrcode(account.appid, `1_${i}`, 60)));
    expect(new Set(tickets.map((t) => t.ticket)).size).toBe(10);
    expect((await calls(`api_authorizer_token@${account.appid}`)) - refreshes).toBe(1);
    // Each call failed once with 42001 and succeeded once after the refresh.
    expect((await calls(`qrcode/create@${account.appid}`)) - creates).toBe(20);
  });

  it('a busy WeChat (-1) is retried with backoff, then succeeds', async () => {
    const op = await register();
    const account = await authorizeAccount(op);
    const { wechat } = createServices(env);
    await sandbox('/__sandbox/faults', { api: 'qrcode/create', appid: account.appid, errcode: -1, times: 2 });
    const ticket = await wechat.createQrcode(account.appid, 'busy', 60);
    expect(ticket.url).toMatch(/^http:\/\/weixin\.qq\.com\/q\//);
  });
});

describe('message URL', () => {
  it('answers the URL check with the decrypted echostr', async () => {
    const echostr = await box.encrypt('echo-1234');
    const timestamp = String(Math.floor(Date.now() / 1000));
    const sig = await box.msgSignature(timestamp, 'n1', echostr);
    const res = await worker(`/wechat/callback/wxanything?timestamp=${timestamp}&nonce=n1&msg_signature=${sig}&echostr=${encodeURIComponent(echostr)}`);
    expect(await res.text()).toBe('echo-1234');
    const forged = await worker(`/wechat/callback/wxanything?timestamp=${timestamp}&nonce=n1&msg_signature=${'0'.repeat(40)}&echostr=${encodeURIComponent(echostr)}`);
    expect(forged.status).toBe(401);
  });

  it('全网发布: echoes TESTCOMPONENT_MSG_TYPE_TEXT (encrypted) and answers QUERY_AUTH_CODE via the API', async () => {
    const op = await register();
    const account = await authorizeAccount(op);
    const fan = uid('o');
    const echo = await fanPush(account, { type: 'text', openId: fan, content: 'TESTCOMPONENT_MSG_TYPE_TEXT' });
    expect(echo.body).toMatch(/^<xml><Encrypt>/);
    expect(echo.reply).toBe('TESTCOMPONENT_MSG_TYPE_TEXT_callback');

    const { auth_code } = await sandbox('/__sandbox/auth-code', { appid: account.appid });
    const query = await fanPush(account, { type: 'text', openId: fan, content: `QUERY_AUTH_CODE:${auth_code}` });
    expect(query).toMatchObject({ status: 200, body: 'success' });
    const [msg] = await waitForMessages(account.appid, fan, 1);
    expect(msg.body.text.content).toBe(`${auth_code}_from_api`);
  });

  it('handles a push delivered 3 times (sequentially and concurrently) once', async () => {
    const op = await register();
    const account = await authorizeAccount(op);
    const fan = uid('o');
    await sandbox('/__sandbox/fans', { appid: account.appid, openid: fan, following: true, interaction: 'message' });
    for (const concurrent of [false, true]) {
      const { auth_code } = await sandbox('/__sandbox/auth-code', { appid: account.appid });
      const sealed = await sealFanPush(account, { type: 'text', openId: fan, content: `QUERY_AUTH_CODE:${auth_code}` });
      const results = concurrent
        ? await Promise.all([deliver(account, sealed), deliver(account, sealed), deliver(account, sealed)])
        : [await deliver(account, sealed), await deliver(account, sealed), await deliver(account, sealed)];
      expect(results.map((r) => r.body)).toEqual(['success', 'success', 'success']);
    }
    await waitForMessages(account.appid, fan, 2);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await sandbox(`/__sandbox/messages?appid=${account.appid}&touser=${fan}`)).toHaveLength(2);
  });

  it('answers success to unknown accounts and unknown message types', async () => {
    const stranger = { appid: 'wx00000000unknown1', ghId: 'gh_unknown' };
    expect((await deliver(stranger, await sealFanPush(stranger, { type: 'text', openId: 'o1', content: 'hi' }))).body).toBe('success');
    const op = await register();
    const account = await authorizeAccount(op);
    const inner = `<xml><ToUserName><![CDATA[${account.ghId}]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[VIEW_MINIPROGRAM_SOMETHING]]></Event></xml>`;
    const res = await deliver(account, await sealPush(KEYS, account.ghId, inner));
    expect(res).toMatchObject({ status: 200, body: 'success' });
  });
});

describe('hostile pushes change nothing', () => {
  const dedupCount = async () => (await env.DB.prepare('SELECT count(*) AS n FROM message_dedup').first<{ n: number }>())!.n;

  it('refuses forged, stale and tampered pushes with 401', async () => {
    const account = { appid: 'wx1111111111111111', ghId: 'gh_x' };
    const before = await dedupCount();
    const good = await sealFanPush(account, { type: 'text', openId: 'o1', content: 'hello' });
    const forged = good.query.replace(/msg_signature=[0-9a-f]+/, `msg_signature=${'a'.repeat(40)}`);
    expect((await worker(`/wechat/callback/${account.appid}?${forged}`, { method: 'POST', body: good.body })).status).toBe(401);

    const stale = await sealPush(KEYS, account.ghId, fanMessage({ ghId: account.ghId, openId: 'o1', createTime: 1, type: 'text', content: 'old' }), Date.now() - 3600_000);
    expect((await worker(`/wechat/callback/${account.appid}?${stale.query}`, { method: 'POST', body: stale.body })).status).toBe(401);

    const tampered = good.body.replace(/<Encrypt><!\[CDATA\[(.)/, (_m, c) => `<Encrypt><![CDATA[${c === 'A' ? 'B' : 'A'}`);
    expect((await worker(`/wechat/callback/${account.appid}?${good.query}`, { method: 'POST', body: tampered })).status).toBe(401);

    const noSig = good.query.replace(/&?msg_signature=[0-9a-f]+/, '');
    expect((await worker(`/wechat/callback/${account.appid}?${noSig}`, { method: 'POST', body: good.body })).status).toBe(401);
    expect(await dedupCount()).toBe(before);
  });

  it('refuses the wrong appid inside the ciphertext', async () => {
    const other = { ...KEYS, componentAppid: 'wxnotourcomponent' };
    const sealed = await sealPush(other, 'gh_x', fanMessage({ ghId: 'gh_x', openId: 'o1', createTime: 1, type: 'text', content: 'x' }));
    expect((await worker(`/wechat/callback/wx1111111111111111?${sealed.query}`, { method: 'POST', body: sealed.body })).status).toBe(401);
  });

  it('refuses DOCTYPE / entity bombs, non-XML and 10 MB bodies', async () => {
    const ts = String(Math.floor(Date.now() / 1000));
    const q = `timestamp=${ts}&nonce=1&encrypt_type=aes&msg_signature=${'0'.repeat(40)}`;
    const bomb = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><xml><Encrypt>&b;</Encrypt></xml>';
    const r1 = await worker(`/wechat/callback/wx1111111111111111?${q}`, { method: 'POST', body: bomb });
    expect(r1.status).toBe(400);
    expect(await r1.json()).toMatchObject({ error: { code: 'bad_request' } });
    expect((await worker(`/wechat/callback/wx1111111111111111?${q}`, { method: 'POST', body: 'not xml at all' })).status).toBe(400);
    const huge = await worker(`/wechat/component?${q}`, { method: 'POST', body: `<xml><Encrypt>${'A'.repeat(10 * 1024 * 1024)}</Encrypt></xml>` });
    expect(huge.status).toBe(413);
  });
});

describe('operators', () => {
  const creds = (username: string, password: string) => ({ method: 'POST', json: { username, password } });

  it('registers, logs in with a Secure httpOnly cookie, logs out', async () => {
    const username = uid('u');
    expect((await api(null, '/users', creds(username, 'correct horse 1'))).status).toBe(201);
    expect((await api(null, '/users', creds(username, 'another password'))).status).toBe(409);
    const login = await api(null, '/session', creds(username, 'correct horse 1'));
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/sid=[^;]+;.*HttpOnly/i);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Lax/i);
    const sid = cookie.match(/sid=([^;]+)/)![1];
    expect((await worker('/api/accounts', { headers: { cookie: `sid=${sid}` } })).status).toBe(200);
    expect((await worker('/api/session', { method: 'DELETE', headers: { cookie: `sid=${sid}` } })).status).toBe(204);
    expect((await worker('/api/accounts', { headers: { cookie: `sid=${sid}` } })).status).toBe(401);
    const stored = await env.DB.prepare('SELECT password_hash FROM user_info WHERE username = ?').bind(username).first<{ password_hash: string }>();
    expect(stored!.password_hash).toMatch(/^pbkdf2-sha256\$100000\$/);
  });

  it('rate-limits failed logins', async () => {
    const username = uid('u');
    await api(null, '/users', creds(username, 'correct horse 1'));
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await api(null, '/session', creds(username, 'wrong password!'))).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect((await api(null, '/session', creds(username, 'correct horse 1'))).status).toBe(429);
  });

  it('validates input with field errors and needs a session everywhere else', async () => {
    const res = await api(null, '/users', creds('x', 'short'));
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: { code: 'validation_failed', fields: { username: expect.any(String), password: expect.any(String) } } });
    expect((await api(null, '/users', { method: 'POST', body: 'nope', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await api(null, '/accounts')).status).toBe(401);
    expect(await (await api(null, '/accounts')).json()).toEqual({ error: { code: 'unauthorized', message: '请先登录' } });
    expect((await api({ id: 0, username: 'x', token: 'forged' }, '/accounts')).status).toBe(401);
  });

  it('publishes the OpenAPI document', async () => {
    const doc = await (await worker('/api/openapi.json')).json<any>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/users', '/session', '/accounts', '/accounts/authorize']));
  });
});
