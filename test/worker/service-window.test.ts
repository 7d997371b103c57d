import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { deliverBatch, deliverMessages } from '../../worker/messaging/delivery';
import type { MessageBundle, Outbound, PlainText } from '../../worker/messaging/outbox';
import { createServices } from '../../worker/services';
import { deliver, fanPush, pushTicket, sandbox, sealFanPush, sentTo, uid, waitFor } from './helpers';
import { join, noticeFor, openLink, posterOf, rowOf, type Setup, setupActivity } from './task-helpers';

beforeAll(async () => {
  await pushTicket();
});

/** The owner's notices (one per assist) as the message log has them, oldest first, once none is in flight. */
const notesOf = (openId: string, n: number) =>
  waitFor(async () => {
    const rows = (
      await env.DB.prepare(
        "SELECT scene, channel, summary, status, errcode, errmsg FROM message_log WHERE open_id = ? AND idempotency_key LIKE '%:notify' ORDER BY id",
      )
        .bind(openId)
        .all<any>()
    ).results;
    return rows.length === n && rows.every((r) => r.status !== 'sending') ? rows : null;
  }, `${n} settled notices to ${openId}`);

/** A new follower scans the owner's poster; resolves once the owner's notice is settled in the log. */
async function assist(s: Setup, owner: string, scene: string, logged: number) {
  const res = await fanPush(s.account, { type: 'subscribe', openId: uid('oH'), scene });
  expect(res.reply).toContain('助力成功');
  return (await notesOf(owner, logged)).at(-1);
}

/** What reached the fan through customer service: texts, and "[图片]" for the poster. */
const received = async (s: Setup, openId: string) =>
  (await sentTo(s.account.appid, openId)).map((m) => (m.msgtype === 'text' ? m.body.text.content : `[${m.msgtype}]`));

/** A plain text to queue (outside any activity). */
const plain = (appid: string, openId: string, text: string): PlainText => ({ kind: 'text', key: uid('t'), appid, openId, text });

describe("WeChat's customer-service window", () => {
  it('joining costs no send; progress notes leave room for every prize ahead; the announcements get through; a new message reopens it', async () => {
    const s = await setupActivity({
      awards: [
        { level: 1, number: 3, good: '优惠券' },
        { level: 2, number: 5, good: '保温杯' },
      ],
    });
    const owner = uid('oA');
    // The keyword's answer is the reply itself: the window's 5 sends are all left. Opening the
    // poster sends it into the chat (4 left: more than the 2 prizes ahead need).
    await posterOf(await openLink(await join(s, owner), owner));
    await waitFor(async () => (await sentTo(s.account.appid, owner)).length === 1, 'the poster image');
    const scene = `1_${(await rowOf(s.activity.id, owner)).id}`;

    expect(await assist(s, owner, scene, 1)).toMatchObject({
      scene: 'progress',
      channel: 'custom',
      status: 'sent',
      summary: expect.stringContaining('已有 1 位好友助力'),
    });
    expect(await assist(s, owner, scene, 2)).toMatchObject({ scene: 'progress', status: 'sent' });
    expect(await assist(s, owner, scene, 3)).toMatchObject({ scene: 'tier_reached', status: 'sent', summary: expect.stringContaining('恭喜你达成第一档') });
    // 1 send left, 1 prize ahead: the plain note gives way.
    expect(await assist(s, owner, scene, 4)).toMatchObject({
      scene: 'progress',
      channel: 'none',
      status: 'skipped',
      errcode: null,
      errmsg: expect.stringContaining('留给尚未达成的奖品'),
    });
    expect(await assist(s, owner, scene, 5)).toMatchObject({ scene: 'tier_reached', status: 'sent', summary: expect.stringContaining('恭喜你达成第二档') });
    // The window is used up: WeChat is not asked (it would answer 45047).
    expect(await assist(s, owner, scene, 6)).toMatchObject({ status: 'skipped', errmsg: expect.stringContaining('45047') });
    expect(await received(s, owner)).toEqual([
      '[image]',
      expect.stringContaining('已有 1 位好友助力'),
      expect.stringContaining('已有 2 位好友助力'),
      expect.stringContaining('恭喜你达成第一档'),
      expect.stringContaining('恭喜你达成第二档'),
    ]);

    // The owner writes again: a new window, and with no prize ahead every note may use it.
    await join(s, owner);
    expect(await assist(s, owner, scene, 7)).toMatchObject({ status: 'sent', summary: expect.stringContaining('已有 7 位好友助力，你已完成全部任务') });
    expect(await rowOf(s.activity.id, owner)).toMatchObject({ number: 7, task_progress: 2 });
  });

  it('a fan WeChat refused is not asked again until they write', async () => {
    const s = await setupActivity();
    const owner = uid('oW');
    // The keyword reaches the worker, but WeChat's own window for the fan is closed.
    await sandbox('/__sandbox/fans', { appid: s.account.appid, openid: owner, following: true });
    const answer = await deliver(s.account, await sealFanPush(s.account, { type: 'text', openId: owner, content: s.keyword }));
    expect(answer.news?.title).toBe('点击链接生成我的专属海报');
    const scene = `1_${(await rowOf(s.activity.id, owner)).id}`;
    expect(await assist(s, owner, scene, 1)).toMatchObject({ status: 'failed', errcode: 45015 });
    // The next announcement is not sent into a window WeChat said is closed (and no template is bound).
    expect(await assist(s, owner, scene, 2)).toMatchObject({ scene: 'tier_reached', channel: 'none', status: 'skipped', errcode: null });
    expect(await sentTo(s.account.appid, owner)).toEqual([]);

    // Once the fan writes, the worker sends again.
    await join(s, owner);
    expect(await assist(s, owner, scene, 3)).toMatchObject({ status: 'sent', summary: expect.stringContaining('恭喜你达成第三档') });
  });

  it('two deliveries racing for the last send of a window: one sends, the other is retried and then finds it spent', async () => {
    const s = await setupActivity();
    const { appid } = s.account;
    const fan = uid('oR');
    await sandbox('/__sandbox/fans', { appid, openid: fan, following: true, interaction: 'message' });
    await env.DB.prepare('INSERT INTO service_window (appid, open_id, opened_at, sent) VALUES (?, ?, ?, 4)').bind(appid, fan, Date.now()).run();
    const services = createServices(env);
    const [a, b] = [plain(appid, fan, 'a'), plain(appid, fan, 'b')];
    const outcomes = (await Promise.all([deliverMessages(services, [a]), deliverMessages(services, [b])])).flat();
    expect(outcomes.sort()).toEqual(['done', 'retry']);
    expect(await received(s, fan)).toHaveLength(1);
    const retried = outcomes.indexOf('retry') === 0 ? a : b;
    expect(await deliverMessages(services, [retried])).toEqual(['done']);
    const log = await env.DB.prepare('SELECT status, attempts FROM message_log WHERE idempotency_key = ?').bind(retried.key).first();
    expect(log).toEqual({ status: 'skipped', attempts: 2 });
    expect(await received(s, fan)).toHaveLength(1);
  });
});

describe('a send that fails on the way', () => {
  /** Three prize announcements to a fan whose window has exactly three sends left. */
  async function fullWindow() {
    const s = await setupActivity();
    const { appid } = s.account;
    const fan = uid('oL');
    // The fan wrote (5 sends within 48 h) and 2 are used.
    await sandbox('/__sandbox/fans', { appid, openid: fan, following: true, interaction: 'message', staffSends: 2 });
    await env.DB.prepare('INSERT INTO service_window (appid, open_id, opened_at, sent) VALUES (?, ?, ?, 2)')
      .bind(appid, fan, Date.now() - 1000)
      .run();
    const prizes = ['第一档', '第二档', '第三档'].map((tier) => plain(appid, fan, `恭喜你达成${tier}`));
    return { appid, fan, prizes };
  }

  /** The queue delivers `bundle` (its `attempts`-th delivery); resolves with whether it asked for a retry. */
  async function queueDelivers(bundle: Outbound[], attempts: number) {
    let retried = false;
    const message = { id: uid('q'), timestamp: new Date(), body: bundle, attempts, retry: () => (retried = true), ack: () => {} };
    await deliverBatch(createServices(env), {
      queue: 'task-treasure-messages',
      messages: [message],
      retryAll: () => {},
      ackAll: () => {},
    } as unknown as MessageBatch<MessageBundle>);
    return retried;
  }

  const logOfKeys = async (keys: string[]) =>
    (
      await env.DB.prepare(
        `SELECT idempotency_key, status, errcode, errmsg, attempts FROM message_log WHERE idempotency_key IN (${keys.map(() => '?').join(',')})`,
      )
        .bind(...keys)
        .all<any>()
    ).results;

  it('one WeChat delivered but answered too late, one lost on the way: the retries keep their slots, every prize arrives once, and the log says so', async () => {
    const { appid, fan, prizes } = await fullWindow();
    // The first send WeChat delivers but answers after the worker stopped waiting; the next never reaches WeChat.
    await sandbox('/__sandbox/faults', { api: 'message/custom/send', appid, lateMs: 8_000, times: 1 });
    await sandbox('/__sandbox/faults', { api: 'message/custom/send', appid, drop: true, times: 1 });
    expect(await queueDelivers(prizes, 1)).toBe(true);
    expect(await queueDelivers(prizes, 2)).toBe(false);
    const got = (await sentTo(appid, fan)).map((m) => m.body.text.content);
    expect(got.sort()).toEqual(prizes.map((p) => p.text).sort());
    const log = await logOfKeys(prizes.map((p) => p.key));
    expect(log.map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);
    // The late one: its retry met the full window, which only its first attempt could have filled.
    expect(
      log
        .filter((r) => r.attempts === 2)
        .map((r) => r.errcode)
        .sort(),
    ).toEqual([0, 45047]);
    expect(log.find((r) => r.errcode === 45047)!.errmsg).toContain('上一次已经送达');
    // Nothing is left in the window, as WeChat says.
    expect(await env.DB.prepare('SELECT sent FROM service_window WHERE appid = ? AND open_id = ?').bind(appid, fan).first('sent')).toBe(5);
  });
});

describe('two windows, apart as WeChat keeps them', () => {
  const fanState = (appid: string, openid: string) => sandbox('/__sandbox/fans', { appid, openid });
  const text = (touser: string, content: string) => ({ touser, msgtype: 'text' as const, text: { content } });

  it('WeChat allows 3 sends within a minute of a follow and 5 within 48 h of a message, separately: 45047 over them, 45015 outside', async () => {
    const s = await setupActivity();
    const { appid } = s.account;
    const fan = uid('oW');
    const { wechat } = createServices(env);
    const answer = (content: string) =>
      wechat.sendCustomMessage(appid, text(fan, content)).then(
        () => 0,
        (e) => e.errcode,
      );
    await sandbox('/__sandbox/fans', { appid, openid: fan, following: true });
    expect(await answer('never acted')).toBe(45015);
    await sandbox('/__sandbox/fans', { appid, openid: fan, interaction: 'event' });
    await sandbox('/__sandbox/fans', { appid, openid: fan, interaction: 'message' });
    const answers: number[] = [];
    for (let i = 0; i < 3; i++) answers.push(await answer(`minute ${i}`));
    // The minute's window, which closes first, is spent first; the message's is untouched.
    expect(await fanState(appid, fan)).toMatchObject({ event: { left: 0 }, message: { left: 5 } });
    for (let i = 0; i < 6; i++) answers.push(await answer(`message ${i}`));
    expect(answers).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 45047]);
    await sandbox('/__sandbox/fans', { appid, openid: fan, age: 61_000 });
    await sandbox('/__sandbox/fans', { appid, openid: fan, interaction: 'event' });
    expect(await answer('a new minute')).toBe(0);
    await sandbox('/__sandbox/fans', { appid, openid: fan, age: 48 * 3600_000 });
    expect(await answer('two days later')).toBe(45015);
  });

  it('the worker keeps both: it spends the window closing first and never calls WeChat for a send that must fail', async () => {
    const s = await setupActivity();
    const { appid } = s.account;
    const fan = uid('oF');
    const services = createServices(env);
    const calls = async () => (await sandbox<Record<string, number>>('/__sandbox/calls'))[`message/custom/send@${appid}`] ?? 0;
    const notes = (n: number, reserve = 0) =>
      Array.from({ length: n }, (_, i) =>
        noticeFor(s, fan, { scene: 'progress', vars: { number: i + 1, next_step: '再邀请 1 人可得第一档【优惠券】' }, reserve }),
      );
    const deliver = async (batch: Outbound[]) => {
      await deliverMessages(services, batch);
      const keys = batch.map((m) => m.key);
      return (
        await env.DB.prepare(`SELECT status FROM message_log WHERE idempotency_key IN (${keys.map(() => '?').join(',')}) ORDER BY id`)
          .bind(...keys)
          .all<any>()
      ).results.map((r) => r.status);
    };
    const windows = () => env.DB.prepare('SELECT sent, event_sent FROM service_window WHERE appid = ? AND open_id = ?').bind(appid, fan).first();

    // A plain follow: 3 sends for a minute. The fourth is not tried.
    await fanPush(s.account, { type: 'subscribe', openId: fan });
    expect(await deliver(notes(4))).toEqual(['sent', 'sent', 'sent', 'skipped']);
    expect(await calls()).toBe(3);
    expect(await windows()).toEqual({ sent: 0, event_sent: 3 });

    // The fan writes and scans: a new minute (spent first) and 48 h.
    await fanPush(s.account, { type: 'text', openId: fan, content: '你好' });
    await fanPush(s.account, { type: 'SCAN', openId: fan, scene: '2_0' });
    expect(await deliver(notes(4))).toEqual(['sent', 'sent', 'sent', 'sent']);
    expect(await windows()).toEqual({ sent: 1, event_sent: 3 });
    expect(await fanState(appid, fan)).toMatchObject({ event: { left: 0 }, message: { left: 4 } });

    // A minute later only the message's window is open: plain notes keep its last sends for 3 prizes ahead.
    await env.DB.prepare('UPDATE service_window SET event_opened_at = event_opened_at - 61000 WHERE appid = ? AND open_id = ?').bind(appid, fan).run();
    await sandbox('/__sandbox/fans', { appid, openid: fan, age: 61_000 });
    expect(await deliver(notes(2, 3))).toEqual(['sent', 'skipped']);
    // What must arrive takes the sends a plain note leaves.
    expect(await deliver([noticeFor(s, fan, { scene: 'tier_reached', vars: { tier: '第一档', good: '优惠券' }, reserve: 3 })])).toEqual(['sent']);
    expect(await calls()).toBe(9);
    expect(await windows()).toEqual({ sent: 3, event_sent: 3 });
  });
});
