/**
 * An activity's figures (campaign/figures.ts) agree wherever they are shown: the activity list,
 * the statistics and the fans list count participants, helpers, gross and net assists alike.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { api, fanPush, pushTicket, uid, waitFor } from '../helpers';
import { join, openLink, posterOf, rowOf, setupActivity } from '../task-helpers';

beforeAll(async () => {
  await pushTicket();
});

describe('happy', () => {
  it('the list, the statistics and the fans list agree after assists and an unfollow', async () => {
    const s = await setupActivity({
      awards: [
        { level: 1, number: 3, good: '优惠券' },
        { level: 2, number: 10, good: '保温杯' },
      ],
    });
    const id = s.activity.id;
    const owner = uid('oO');
    await posterOf(await openLink(await join(s, owner), owner));
    const row = await rowOf(id, owner);
    const helpers = [uid('oH'), uid('oH'), uid('oH'), uid('oH')];
    for (const h of helpers) expect((await fanPush(s.account, { type: 'subscribe', openId: h, scene: `1_${row.id}` })).reply).toContain('助力成功');
    await fanPush(s.account, { type: 'unsubscribe', openId: helpers[0] });
    const expected = { participants: 1, helpers: 4, assists_gross: 4, assists_net: 3 };

    // The list, once the counter's round has reached D1.
    const listed = await waitFor(async () => {
      const { items } = await (await api(s.op, '/activities')).json<any>();
      return items[0].figures.assists_net === 3 ? items[0] : null;
    }, 'the deduction in D1');
    expect(listed.figures).toEqual(expected);
    // The older names, kept for callers that read them, say the same.
    expect({ participants: listed.participants, assists: listed.assists }).toEqual({ participants: 1, assists: 3 });
    expect((await (await api(s.op, `/activities/${id}`)).json<any>()).figures).toEqual(expected);

    const stats = await (await api(s.op, `/activities/${id}/stats`)).json<any>();
    expect(stats.totals).toEqual(expected);
    const sum = (key: string) => stats.days.reduce((n: number, d: any) => n + d[key], 0);
    expect({ participants: sum('participants'), assists_gross: sum('assists_gross') }).toEqual({ participants: 1, assists_gross: 4 });
    expect(stats.today).toMatchObject({ participants: 1, assists_gross: 4, unfollows: 1 });

    const fans = (await (await api(s.op, `/fans?activity=${id}&page_size=100`)).json<any>()).items;
    const participants = fans.filter((f: any) => f.part_in === 0);
    const brought = fans.filter((f: any) => f.origin === 0);
    expect(fans).toHaveLength(5);
    expect({
      participants: participants.length,
      helpers: brought.length,
      assists_gross: brought.length,
      assists_net: participants.reduce((n: number, f: any) => n + f.number, 0),
    }).toEqual(expected);
    expect(brought.filter((f: any) => f.assist_counted)).toHaveLength(3);
    expect(brought.find((f: any) => f.open_id === helpers[0])).toMatchObject({ assist_counted: false, following: false });
  });
});
