import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { deliverMessages } from '../../worker/messaging/delivery';
import type { OutboundMessage } from '../../worker/messaging/outbox';
import { createServices } from '../../worker/services';
import { deliver, fanPush, pushTicket, sandbox, sealFanPush, sentTo, uid, waitFor } from './helpers';
import { join, rowOf, type Setup, setupActivity } from './task-helpers';

beforeAll(async () => {
  await pushTicket();
});

/** The owner's customer-service messages as the message log has them, oldest first, once none is in flight. */
const logOf = (openId: string, n: number) =>
  waitFor(async () => {
    const rows = (await env.DB.prepare('SELECT summary, status, errcode, errmsg FROM message_log WHERE open_id = ? ORDER BY id').bind(openId).all<any>())
      .results;
    return rows.length === n && rows.every((r) => r.status !== 'sending') ? rows : null;
  }, `${n} settled messages to ${openId}`);

/** A new follower scans the owner's poster; resolves once the owner's note is settled in the log. */
async function assist(s: Setup, owner: string, scene: string, logged: number) {
  const res = await fanPush(s.account, { type: 'subscribe', openId: uid('oH'), scene });
  expect(res.reply).toContain('助力成功');
  return (await logOf(owner, logged)).at(-1);
}

const texts = async (s: Setup, openId: string) =>
  (await sentTo(s.account.appid, openId)).map((m) => (m.msgtype === 'text' ? m.body.text.content : m.body.news.articles[0].title));

describe("WeChat's customer-service window", () => {
  it('progress notes leave room for every prize ahead; the announcements get through; a new message reopens it', async () => {
    const s = await setupActivity({
      awards: [
        { level: 1, number: 3, good: '优惠券' },
        { level: 2, number: 5, good: '保温杯' },
      ],
    });
    const owner = uid('oA');
    // The keyword opens a window of 5 sends; the rule and the link use 2.
    await join(s, owner);
    const scene = `1_${(await rowOf(s.activity.id, owner)).id}`;

    // 3 left, 2 prizes ahead: the first note fits, the second would leave too few.
    expect(await assist(s, owner, scene, 3)).toMatchObject({ status: 'sent' });
    expect(await assist(s, owner, scene, 4)).toMatchObject({ status: 'skipped', errcode: null, errmsg: expect.stringContaining('kept for the prizes') });
    expect(await assist(s, owner, scene, 5)).toMatchObject({ status: 'sent', summary: expect.stringContaining('恭喜你完成一阶任务') });
    expect(await assist(s, owner, scene, 6)).toMatchObject({ status: 'skipped', errmsg: expect.stringContaining('kept for the prizes') });
    expect(await assist(s, owner, scene, 7)).toMatchObject({ status: 'sent', summary: expect.stringContaining('恭喜你完成二阶任务') });
    // The window is used up: WeChat is not asked (it would answer 45047).
    expect(await assist(s, owner, scene, 8)).toMatchObject({ status: 'skipped', errmsg: expect.stringContaining('45047') });
    expect(await texts(s, owner)).toEqual([
      '邀请 3 位好友扫码关注即可领奖',
      '点击链接生成我的专属海报',
      expect.stringContaining('已有 1 人助力'),
      expect.stringContaining('恭喜你完成一阶任务'),
      expect.stringContaining('恭喜你完成二阶任务'),
    ]);

    // The owner writes again: a new window, and with no prize ahead every note may use it.
    await join(s, owner);
    expect(await assist(s, owner, scene, 11)).toMatchObject({ status: 'sent', summary: expect.stringContaining('已有 7 人助力') });
    expect(await rowOf(s.activity.id, owner)).toMatchObject({ number: 7, task_progress: 2 });
  });

  it('a fan WeChat refused is not asked again until they write', async () => {
    const s = await setupActivity();
    const owner = uid('oW');
    // The keyword reaches the worker, but WeChat's own window for the fan is closed: both replies get 45015.
    await sandbox('/__sandbox/fans', { appid: s.account.appid, openid: owner, following: true });
    await deliver(s.account, await sealFanPush(s.account, { type: 'text', openId: owner, content: s.keyword }));
    expect((await logOf(owner, 2)).map((r) => [r.status, r.errcode])).toEqual([
      ['failed', 45015],
      ['failed', 45015],
    ]);
    const scene = `1_${(await rowOf(s.activity.id, owner)).id}`;
    // The prize announcement is not sent into a window WeChat said is closed.
    expect(await assist(s, owner, scene, 3)).toMatchObject({ status: 'skipped', errcode: null, summary: expect.stringContaining('恭喜你完成一阶任务') });
    expect(await sentTo(s.account.appid, owner)).toEqual([]);

    // Once the fan writes, the worker sends again.
    await join(s, owner);
    expect(await assist(s, owner, scene, 6)).toMatchObject({ status: 'sent', summary: expect.stringContaining('恭喜你完成二阶任务') });
  });

  it('two deliveries racing for the last send of a window: one sends, the other is retried and then finds it spent', async () => {
    const s = await setupActivity();
    const { appid } = s.account;
    const fan = uid('oR');
    await sandbox('/__sandbox/fans', { appid, openid: fan, following: true, interaction: 'message' });
    await env.DB.prepare('INSERT INTO service_window (appid, open_id, opened_at, sent) VALUES (?, ?, ?, 4)').bind(appid, fan, Date.now()).run();
    const note = (content: string): OutboundMessage => ({ key: uid('race'), appid, message: { touser: fan, msgtype: 'text', text: { content } } });
    const services = createServices(env);
    const [a, b] = [note('a'), note('b')];
    const outcomes = (await Promise.all([deliverMessages(services, [a]), deliverMessages(services, [b])])).flat();
    expect(outcomes.sort()).toEqual(['done', 'retry']);
    expect(await texts(s, fan)).toHaveLength(1);
    const retried = outcomes.indexOf('retry') === 0 ? a : b;
    expect(await deliverMessages(services, [retried])).toEqual(['done']);
    const log = await env.DB.prepare('SELECT status, attempts FROM message_log WHERE idempotency_key = ?').bind(retried.key).first();
    expect(log).toEqual({ status: 'skipped', attempts: 2 });
    expect(await texts(s, fan)).toHaveLength(1);
  });
});
