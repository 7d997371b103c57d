import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { fanPush, pushTicket, sandbox, sentTo, uid, waitFor, worker } from './helpers';
import { decodePosterQr, join, openLink, posterOf, rowOf, setupActivity } from './task-helpers';

beforeAll(async () => {
  await pushTicket();
});

describe('任务宝 end to end', () => {
  it('keyword → rules + link in the reply → poster in R2 whose QR WeChat issued, and in the chat → 3 assists, 3 tiers → one unfollows', async () => {
    const s = await setupActivity();
    const owner = uid('oA');

    // The fan sends the keyword; the reply itself is a news card with the rule and the poster link (no send used).
    const answer = await fanPush(s.account, { type: 'text', openId: owner, content: s.keyword });
    expect(answer.news).toMatchObject({ title: '点击链接生成我的专属海报', description: expect.stringContaining('邀请 3 位好友扫码关注即可领奖') });
    expect(answer.news!.description).toContain('欢迎参加【拉新有礼】');
    expect(await sentTo(s.account.appid, owner)).toEqual([]);
    const link = answer.news!.url;
    expect(link).toMatch(
      /\/connect\/oauth2\/authorize\?appid=wx[0-9a-f]+&redirect_uri=https%3A%2F%2Fmtb\.example\.test%2Foauth%2Fcallback&response_type=code&scope=snsapi_userinfo&state=[^&]+&component_appid=wx0000000000component#wechat_redirect$/,
    );

    // Opening it renders the poster; the QR on it is the one WeChat issued for scene 1_{row id}.
    await sandbox('/__sandbox/fans', { appid: s.account.appid, openid: owner, nickname: '小明🎉' });
    const page = await openLink(link, owner);
    expect(page.status).toBe(200);
    const src = await posterOf(page);
    const image = await worker(src);
    expect(image.headers.get('content-type')).toBe('image/jpeg');
    expect(image.headers.get('cache-control')).toContain('immutable');
    const bytes = new Uint8Array(await image.arrayBuffer());
    expect(bytes.length).toBeLessThanOrEqual(300 * 1024);
    const qrUrl = await decodePosterQr(bytes);
    const row = await rowOf(s.activity.id, owner);
    expect(row).toMatchObject({ nick_name: '小明🎉', part_in: 0, qr_url: qrUrl });
    const issued = await sandbox(`/__sandbox/qrcode-by-url?url=${encodeURIComponent(qrUrl!)}`);
    expect(issued).toMatchObject({ appid: s.account.appid, scene: `1_${row.id}` });
    expect(await env.POSTERS.head(row.poster)).not.toBeNull();
    // The poster itself goes into the chat (uploaded to WeChat as an image), so the fan can forward it from there.
    const [inChat] = await waitFor(async () => {
      const sent = await sentTo(s.account.appid, owner);
      return sent.length ? sent : null;
    }, 'the poster image');
    expect(inChat).toMatchObject({ msgtype: 'image', body: { image: { media_id: expect.stringMatching(/^media_/) } } });

    // Opening the link again reuses the stored poster, and sends it no second time.
    const again = await posterOf(await openLink(await join(s, owner), owner));
    expect(again).toBe(src);

    // Three new followers scan the poster.
    const scene = `1_${row.id}`;
    for (const i of [1, 2, 3]) {
      const res = await fanPush(s.account, { type: 'subscribe', openId: uid(`oH${i}`), scene });
      expect(res.reply).toContain('助力成功');
    }
    const notes = await waitFor(async () => {
      const all = (await sentTo(s.account.appid, owner)).filter((m) => m.msgtype === 'text' && m.body.text.content.includes('助力'));
      return all.length >= 3 ? all : null;
    }, 'three progress messages');
    const texts = notes.map((m) => m.body.text.content);
    expect(texts[0]).toContain('恭喜你达成第一档，获得【优惠券】！已有 1 位好友为你助力，再邀请 1 人可得第二档【保温杯】。');
    expect(texts[0]).toMatch(/领奖：https:\/\/mtb\.example\.test\/h5\/claim\?t=/);
    expect(texts[1]).toContain('恭喜你达成第二档，获得【保温杯】');
    expect(texts[2]).toContain('恭喜你达成第三档，获得【蓝牙耳机】');
    expect(texts[2]).toContain('你已完成全部任务');
    expect((await sentTo(s.account.appid, owner)).filter((m) => m.msgtype === 'image')).toHaveLength(1);
    expect(await rowOf(s.activity.id, owner)).toMatchObject({ number: 3, task_progress: 3 });

    // One helper unfollows: the count drops, the prizes reached stay.
    const helper = (await env.DB.prepare('SELECT open_id FROM take_part_in WHERE activity_id = ? AND part_in = 1 ORDER BY id LIMIT 1')
      .bind(s.activity.id)
      .first<{ open_id: string }>())!;
    await fanPush(s.account, { type: 'unsubscribe', openId: helper.open_id });
    expect(await rowOf(s.activity.id, owner)).toMatchObject({ number: 2, task_progress: 3 });
    expect(await rowOf(s.activity.id, helper.open_id)).toMatchObject({ looking: 1, assist_counted: 0 });
    // Sending the keyword again opened a new window of 5 sends: the three prizes and the deduction
    // (no prize is ahead, so it keeps nothing back) use 4, the next note the last, and the one
    // after it is not tried.
    const log = await waitFor(
      () => env.DB.prepare("SELECT * FROM message_log WHERE open_id = ? AND scene = 'deducted' AND status != 'sending'").bind(owner).first<any>(),
      'the deduction notice in the message log',
    );
    expect(log).toMatchObject({ status: 'sent', channel: 'custom', summary: '有好友取消关注，助力数减 1，当前 2 位好友助力，你已完成全部任务。' });
    for (const i of [4, 5]) await fanPush(s.account, { type: 'subscribe', openId: uid(`oH${i}`), scene });
    const last = await waitFor(async () => {
      const rows = (
        await env.DB.prepare("SELECT * FROM message_log WHERE open_id = ? AND scene = 'progress' AND status != 'sending' ORDER BY id").bind(owner).all<any>()
      ).results;
      return rows.length === 2 ? rows : null;
    }, 'the last notes in the message log');
    expect(last[0]).toMatchObject({ status: 'sent', summary: '有好友为你助力啦！已有 3 位好友助力，你已完成全部任务。' });
    expect(last[1]).toMatchObject({ status: 'skipped', channel: 'none', errcode: null, attempts: 1 });
    expect(last[1].errmsg).toContain('45047');
  });
});
