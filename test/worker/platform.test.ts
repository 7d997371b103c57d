import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createServices } from '../../worker/services';
import { componentMessage, fanMessage, sealPush } from '../sandbox/pushes';
import { api, authorizeAccount, box, deliver, fanPush, KEYS, pushTicket, register, sandbox, sealFanPush, uid, waitForMessages, worker } from './helpers';
import { setupActivity } from './task-helpers';

const calls = async (name: string) => (await sandbox<Record<string, number>>('/__sandbox/calls'))[name] ?? 0;

let ticket: string;
/** Component-token refreshes made with this file's ticket (other files refresh in parallel). */
const refreshes = async () => (await sandbox<{ calls: number }>(`/__sandbox/token-calls/${encodeURIComponent(ticket)}`)).calls;

beforeAll(async () => {
  ticket = await pushTicket();
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
    const forged = await worker(
      `/wechat/callback/wxanything?timestamp=${timestamp}&nonce=n1&msg_signature=${'0'.repeat(40)}&echostr=${encodeURIComponent(echostr)}`,
    );
    expect(forged.status).toBe(401);
    // Plain mode: the echostr itself comes back when the signature holds.
    const plain = await worker(
      `/wechat/callback/wxanything?timestamp=${timestamp}&nonce=n1&signature=${await box.signatureOf(timestamp, 'n1')}&echostr=plain-echo`,
    );
    expect(await plain.text()).toBe('plain-echo');
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

  it('answers the keyword of an activity whose times were stored out of range (around the API), never 500', async () => {
    const s = await setupActivity();
    await env.DB.prepare('UPDATE activity SET start_time = ?, end_time = ? WHERE id = ?').bind(8640000000001000, 8640000000002000, s.activity.id).run();
    await createServices(env).counters(s.activity.id).reload();
    const res = await fanPush(s.account, { type: 'text', openId: uid('o'), content: s.keyword });
    expect(res.status).toBe(200);
    expect(res.reply).toBe('活动未开始，活动时间：2100-01-01 00:00 至 2100-01-01 00:00，敬请期待。');
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

    const stale = await sealPush(
      KEYS,
      account.ghId,
      fanMessage({ ghId: account.ghId, openId: 'o1', createTime: 1, type: 'text', content: 'old' }),
      Date.now() - 3600_000,
    );
    expect((await worker(`/wechat/callback/${account.appid}?${stale.query}`, { method: 'POST', body: stale.body })).status).toBe(401);

    const tampered = good.body.replace(/<Encrypt><!\[CDATA\[(.)/, (_m, c) => `<Encrypt><![CDATA[${c === 'A' ? 'B' : 'A'}`);
    expect((await worker(`/wechat/callback/${account.appid}?${good.query}`, { method: 'POST', body: tampered })).status).toBe(401);

    const noSig = good.query.replace(/&?msg_signature=[0-9a-f]+/, '');
    expect((await worker(`/wechat/callback/${account.appid}?${noSig}`, { method: 'POST', body: good.body })).status).toBe(401);
    expect(await dedupCount()).toBe(before);
  });

  it('refuses plain-mode bodies on both push URLs, though the URL signature is genuine', async () => {
    const op = await register();
    const account = await authorizeAccount(op);
    const before = await dedupCount();
    // Every genuine push URL carries signature = sha1(token, timestamp, nonce), which does not
    // cover the body: whoever saw one URL could post any plaintext with its query for 300 s.
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = await box.signatureOf(timestamp, 'n1');
    const seen = `timestamp=${timestamp}&nonce=n1&signature=${signature}`;
    const keyword = fanMessage({ ghId: account.ghId, openId: uid('o'), createTime: Number(timestamp), type: 'text', content: 'hello' });
    for (const query of [seen, `${seen}&encrypt_type=raw`]) {
      const res = await worker(`/wechat/callback/${account.appid}?${query}`, { method: 'POST', body: keyword });
      expect(res.status).toBe(401);
    }
    const revoke = componentMessage(KEYS.componentAppid, 'unauthorized', { AuthorizerAppid: account.appid });
    expect((await worker(`/wechat/component?${seen}`, { method: 'POST', body: revoke })).status).toBe(401);
    expect(await dedupCount()).toBe(before);
    const { items } = await (await api(op, '/accounts')).json<{ items: { appid: string; authorized: boolean }[] }>();
    expect(items.find((a) => a.appid === account.appid)?.authorized).toBe(true);
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

  it('reads an oversized chunked push to its end, never cancelling it (wrangler dev died of the cancel)', async () => {
    let sent = 0;
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent === 10) return c.close();
        sent += 1;
        c.enqueue(new Uint8Array(16 * 1024).fill(65));
      },
      cancel() {
        cancelled = true;
      },
    });
    const res = await worker('/wechat/component', { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect({ cancelled, sent }).toEqual({ cancelled: false, sent: 10 });
  });
});
