/** `GET /api/activities/{id}/stats`: the statistics page's figures. */
import { beforeAll, describe, expect, it } from 'vitest';
import { api, fanPush, pushTicket, uid } from '../helpers';
import { join, openLink, posterOf, rowOf, setupActivity } from '../task-helpers';

beforeAll(async () => {
  await pushTicket();
});

describe('happy', () => {
  it('per-day series, tiers, depth and the leaderboard', async () => {
    const s = await setupActivity();
    const fan = uid('oT');
    await posterOf(await openLink(await join(s, fan), fan));
    const row = await rowOf(s.activity.id, fan);
    for (let i = 0; i < 2; i++) await fanPush(s.account, { type: 'subscribe', openId: uid('oH'), scene: `1_${row.id}` });
    const stats = await (await api(s.op, `/activities/${s.activity.id}/stats?from=2026-01-01&to=2026-01-07`)).json<any>();
    expect(stats.days).toHaveLength(7);
    expect(stats.today).toMatchObject({ participants: 1, assists_gross: 2 });
    expect(stats.tiers.map((t: any) => t.completions)).toEqual([1, 1, 0]);
    expect(stats.depth).toEqual([
      { level: 1, fans: 1 },
      { level: 2, fans: 2 },
    ]);
    expect(stats.leaderboard[0]).toMatchObject({ open_id: fan, number: 2 });
  });
});

describe('the default range', () => {
  const DAY = 86_400_000;
  const date = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 10);

  it('does not start before the activity began', async () => {
    const start = Date.now() - 2 * DAY;
    const s = await setupActivity({ start_time: new Date(start).toISOString() });
    const stats = await (await api(s.op, `/activities/${s.activity.id}/stats?days=7`)).json<any>();
    expect(stats.days.map((d: any) => d.date)).toEqual([date(start), date(start + DAY), date(Date.now())]);
  });

  it('ends on the last day of an ended activity', async () => {
    const end = Date.now() - 10 * DAY;
    const s = await setupActivity({ start_time: new Date(end - 20 * DAY).toISOString(), end_time: new Date(end).toISOString() });
    const stats = await (await api(s.op, `/activities/${s.activity.id}/stats`)).json<any>();
    expect(stats.days).toHaveLength(7);
    expect(stats.days.at(-1).date).toBe(date(end));
  });
});

describe('error', () => {
  it('refuses a range that ends before it starts', async () => {
    const s = await setupActivity();
    expect((await api(s.op, `/activities/${s.activity.id}/stats?from=2026-01-10&to=2026-01-01`)).status).toBe(422);
  });

  it('refuses days that do not exist or lie outside 2000–2100', async () => {
    const s = await setupActivity();
    for (const [field, day] of [
      ['from', '9999-99-99'],
      ['from', '2026-02-30'],
      ['from', '1999-12-31'],
      ['to', '2100-01-01'],
      ['to', '0000-01-01'],
    ]) {
      const res = await api(s.op, `/activities/${s.activity.id}/stats?${field}=${day}`);
      expect(res.status, `${field}=${day}`).toBe(422);
      expect((await res.json<any>()).error.fields[field]).toBe('日期无效：须为 2000 年至 2099 年间的日期');
    }
  });
});
