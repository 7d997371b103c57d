import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { sendReminders } from '../../worker/campaign/reminders';
import { createServices } from '../../worker/services';
import { api, fanPush, pushTicket, sandbox, sentTo, uid, waitFor } from './helpers';
import { join, openLink, posterOf, rowOf, type Setup, setupActivity } from './task-helpers';

beforeAll(async () => {
  await pushTicket();
});

const HOUR = 3600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** A participant who joined and opened their poster. */
async function participant(s: Setup) {
  const openId = uid('oP');
  await posterOf(await openLink(await join(s, openId), openId));
  return { openId, scene: `1_${(await rowOf(s.activity.id, openId)).id}` };
}

/** The reminders of a kind in the message log for an activity, by fan, once none is in flight. */
const reminders = (activityId: number, scene: string, n: number) =>
  waitFor(async () => {
    const rows = (
      await env.DB.prepare('SELECT open_id, channel, status, summary, errmsg FROM message_log WHERE activity_id = ? AND scene = ? ORDER BY id')
        .bind(activityId, scene)
        .all<any>()
    ).results;
    return rows.length === n && rows.every((r) => !['sending', 'retrying'].includes(r.status)) ? rows : null;
  }, `${n} ${scene} reminders`);

describe('reminders', () => {
  it('活动即将结束 once to each participant who has not finished, through a channel that reaches them; 活动已结束 once to all, with their result', async () => {
    const now = Date.now();
    const s = await setupActivity({ start_time: iso(now - 3 * 24 * HOUR), end_time: iso(now + 12 * HOUR) });
    const added = await (await api(s.op, `/accounts/${s.account.appid}/templates`, { method: 'POST', json: { template_id_short: '47325' } })).json<any>();
    await api(s.op, `/activities/${s.activity.id}`, {
      method: 'PATCH',
      json: {
        notices: {
          ending_soon: {
            template: { template_id: added.template_id, data: { thing1: '{activity}', time2: '{end_time}', thing3: '{next_step}' }, url: 'progress' },
          },
        },
      },
    });
    const [a, done, quiet] = [await participant(s), await participant(s), await participant(s)];
    for (const i of [1, 2, 3]) await fanPush(s.account, { type: 'subscribe', openId: uid(`oH${i}`), scene: done.scene });
    // `quiet` last wrote two days ago: no customer-service window is open to them.
    await env.DB.prepare('UPDATE service_window SET opened_at = opened_at - ? WHERE appid = ? AND open_id = ?')
      .bind(49 * HOUR, s.account.appid, quiet.openId)
      .run();
    await sandbox('/__sandbox/fans', { appid: s.account.appid, openid: quiet.openId, age: 49 * HOUR });

    // Two cron runs overlap, a third comes an hour later: each fan still hears once.
    const services = createServices(env);
    await Promise.all([sendReminders(services, now), sendReminders(services, now)]);
    await sendReminders(services, now + HOUR);
    const ending = await reminders(s.activity.id, 'ending_soon', 2);
    expect(Object.fromEntries(ending.map((r) => [r.open_id, [r.channel, r.status]]))).toEqual({
      [a.openId]: ['custom', 'sent'],
      [quiet.openId]: ['template', 'sent'],
    });
    expect(ending.find((r) => r.open_id === a.openId).summary).toMatch(
      /^【拉新有礼】将于 \d{4}-\d{2}-\d{2} \d{2}:\d{2} 结束，你已有 0 位好友助力，再邀请 1 人可得第一档【优惠券】，抓紧哦！查看进度：https:\/\/mtb\.example\.test\/h5\/progress\?t=/,
    );
    const [template] = (await sentTo(s.account.appid, quiet.openId)).filter((m) => m.msgtype === 'template');
    expect(template.body.data.thing3.value).toBe('再邀请 1 人可得第一档【优惠券】');

    // After the end: every participant hears their result, once.
    const after = now + 13 * HOUR;
    await Promise.all([sendReminders(services, after), sendReminders(services, after)]);
    await sendReminders(services, after + HOUR);
    const ended = await reminders(s.activity.id, 'ended', 3);
    const by = Object.fromEntries(ended.map((r) => [r.open_id, r]));
    expect(by[a.openId]).toMatchObject({ channel: 'custom', status: 'sent', summary: '【拉新有礼】已结束，感谢参与！你共获得 0 位好友助力，未达成奖励档位。' });
    expect(by[done.openId]).toMatchObject({
      channel: 'custom',
      status: 'sent',
      summary: '【拉新有礼】已结束，感谢参与！你共获得 3 位好友助力，获得第三档奖品【蓝牙耳机】。',
    });
    // No window and no template bound to 活动已结束: nothing reaches them, and the log says why.
    expect(by[quiet.openId]).toMatchObject({ channel: 'none', status: 'skipped', errmsg: expect.stringContaining('45015') });
    expect(await sendReminders(services, after + 2 * HOUR)).toMatchObject({ ended: 0 });
  });

  it('leaves alone an activity not yet in its last day, a deleted one, and one that ended long ago', async () => {
    const now = Date.now();
    const later = await setupActivity({ end_time: iso(now + 3 * 24 * HOUR) });
    const gone = await setupActivity({ start_time: iso(now - 3 * 24 * HOUR), end_time: iso(now + HOUR) });
    await Promise.all([participant(later), participant(gone)]);
    await api(gone.op, `/activities/${gone.activity.id}`, { method: 'DELETE' });
    const services = createServices(env);
    await sendReminders(services, now);
    // Four days after the later one ended: too late for 活动已结束.
    await sendReminders(services, now + 7 * 24 * HOUR);
    await new Promise((r) => setTimeout(r, 1500));
    for (const id of [later.activity.id, gone.activity.id]) {
      expect(
        await env.DB.prepare("SELECT count(*) AS n FROM message_log WHERE activity_id = ? AND scene IN ('ending_soon', 'ended')").bind(id).first('n'),
      ).toBe(0);
    }
  });
});
