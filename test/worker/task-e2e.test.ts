import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { fanPush, pushTicket, sandbox, sentTo, uid, waitFor, worker } from './helpers';
import { decodePosterQr, join, openLink, posterOf, rowOf, setupActivity } from './task-helpers';

beforeAll(async () => {
  await pushTicket();
});

describe('任务宝 end to end', () => {
  it('keyword → rules + link → poster in R2 whose QR WeChat issued → 3 assists, 3 tiers → one unfollows', async () => {
    const s = await setupActivity();
    const owner = uid('oA');

    // The fan sends the keyword and gets the rule text and the poster link.
    const link = await join(s, owner);
    const [rule, news] = await sentTo(s.account.appid, owner);
    expect(rule.body.text.content).toBe('邀请 3 位好友扫码关注即可领奖');
    expect(news.body.news.articles[0].title).toBe('点击链接生成我的专属海报');
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

    // Opening the link again reuses the stored poster.
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
    expect(texts[0]).toContain('恭喜你完成一阶任务（1 人助力），获得奖品【优惠券】');
    expect(texts[0]).toContain('已有 1 人助力，再邀请 1 人可得【保温杯】');
    expect(texts[1]).toContain('恭喜你完成二阶任务（2 人助力），获得奖品【保温杯】');
    expect(texts[2]).toContain('恭喜你完成三阶任务（3 人助力），获得奖品【蓝牙耳机】');
    expect(texts[2]).toContain('你已完成全部任务');
    expect(await rowOf(s.activity.id, owner)).toMatchObject({ number: 3, task_progress: 3 });

    // One helper unfollows: the count drops, the prizes reached stay.
    const helper = (await env.DB.prepare('SELECT open_id FROM take_part_in WHERE activity_id = ? AND part_in = 1 ORDER BY id LIMIT 1')
      .bind(s.activity.id)
      .first<{ open_id: string }>())!;
    await fanPush(s.account, { type: 'unsubscribe', openId: helper.open_id });
    expect(await rowOf(s.activity.id, owner)).toMatchObject({ number: 2, task_progress: 3 });
    expect(await rowOf(s.activity.id, helper.open_id)).toMatchObject({ looking: 1, assist_counted: 0 });
    // The owner has used the 5 messages their last keyword allows: the sixth is logged as not
    // sent, and WeChat is not asked (it would answer 45047).
    const log = await waitFor(
      () => env.DB.prepare("SELECT * FROM message_log WHERE open_id = ? AND summary LIKE '有好友取消关注%' AND status != 'sending'").bind(owner).first<any>(),
      'the deduction notice in the message log',
    );
    expect(log).toMatchObject({ status: 'skipped', errcode: null, attempts: 1 });
    expect(log.errmsg).toContain('45047');
    expect((await sentTo(s.account.appid, owner)).filter((m) => m.body.text?.content.startsWith('有好友取消关注'))).toEqual([]);
  });
});
