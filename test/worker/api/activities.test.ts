/** `/api/activities[/{id}]`: the activity form's validation, the edit rules after the start, the list. */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, authorizeAccount, fanPush, pushTicket, register, uid } from '../helpers';
import { activityBody, setupActivity, uploadBackground } from '../task-helpers';

beforeAll(async () => {
  await pushTicket();
});

describe('happy', () => {
  it('lists with filters, search and pagination, and deletes', async () => {
    const s = await setupActivity({ name: '春季50%活动' });
    const bg = await uploadBackground(s.op);
    const future = activityBody([s.account.appid], bg, {
      name: '未来活动',
      start_time: new Date(Date.now() + 86_400_000).toISOString(),
      end_time: new Date(Date.now() + 2 * 86_400_000).toISOString(),
    });
    const created = await (await api(s.op, '/activities', { method: 'POST', json: future })).json<any>();
    expect(created.status).toBe('pending');
    const list = async (q: string) => await (await api(s.op, `/activities${q}`)).json<any>();
    expect((await list('')).total).toBe(2);
    expect((await list('?status=running')).items.map((a: any) => a.name)).toEqual(['春季50%活动']);
    expect((await list('?status=pending')).items.map((a: any) => a.id)).toEqual([created.id]);
    expect((await list('?q=50%25')).total).toBe(1);
    expect((await list('?q=%25%25')).total).toBe(0);
    expect((await list(`?account=${s.account.appid}&page=2&page_size=1`)).items).toHaveLength(1);
    expect((await api(s.op, `/activities/${created.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await api(s.op, `/activities/${created.id}`)).status).toBe(404);
    expect((await list('')).total).toBe(1);
  });

  it('keeps a deleted activity selectable: listed on request, its statistics and fans readable, its keyword answered as ended', async () => {
    const s = await setupActivity();
    const id = s.activity.id;
    const fan = uid('oF');
    await fanPush(s.account, { type: 'text', openId: fan, content: s.keyword });
    expect((await api(s.op, `/activities/${id}`, { method: 'DELETE' })).status).toBe(204);

    expect((await (await api(s.op, '/activities')).json<any>()).items).toEqual([]);
    const listed = (await (await api(s.op, '/activities?include_deleted=true')).json<any>()).items;
    expect(listed.map((a: any) => [a.id, a.deleted, a.figures.participants])).toEqual([[id, true, 1]]);
    const stats = await api(s.op, `/activities/${id}/stats`);
    expect(stats.status).toBe(200);
    expect((await stats.json<any>()).totals.participants).toBe(1);
    const fans = (await (await api(s.op, `/fans?activity=${id}`)).json<any>()).items;
    expect(fans.map((f: any) => [f.open_id, f.activity.deleted])).toEqual([[fan, true]]);
    // Still gone where it could be changed.
    expect((await api(s.op, `/activities/${id}`, { method: 'PATCH', json: { name: '改名' } })).status).toBe(404);

    // Its fans are told it has ended, as for an activity past its end.
    const reply = (await fanPush(s.account, { type: 'text', openId: uid('oN'), content: s.keyword })).reply;
    expect(reply).toMatch(/^活动已结束（活动时间：\d{4}-\d{2}-\d{2} \d{2}:\d{2} 至 \d{4}-\d{2}-\d{2} \d{2}:\d{2}）/);
  });

  it('after the start only name, end time, rule, prizes and stock change', async () => {
    const s = await setupActivity();
    const id = s.activity.id;
    const ok = await api(s.op, `/activities/${id}`, {
      method: 'PATCH',
      json: { name: '新名字', poster: { rule: '新规则' }, awards: s.activity.awards.map((a: any) => ({ ...a, good: `${a.good}+`, stock: 9 })) },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ name: '新名字', poster: { rule: '新规则' }, awards: [{ good: '优惠券+', stock: 9 }, {}, {}] });
    const locked = await api(s.op, `/activities/${id}`, {
      method: 'PATCH',
      json: { protect_switch: 2, poster: { key_word: 'other' }, awards: [{ level: 1, number: 9, good: 'x' }] },
    });
    expect(locked.status).toBe(422);
    expect(Object.keys((await locked.json<any>()).error.fields)).toEqual(expect.arrayContaining(['protect_switch', 'poster.key_word', 'awards']));
    // Resubmitting the whole unchanged form is fine.
    const { id: _id, status, accounts, figures, deleted, created_at, warnings, ...same } = await (await api(s.op, `/activities/${id}`)).json<any>();
    const resubmit = await api(s.op, `/activities/${id}`, { method: 'PATCH', json: same });
    expect(resubmit.status, await resubmit.clone().text()).toBe(200);
  });
});

describe('error', () => {
  it('validates each part and reports every field at once, changing nothing', async () => {
    const op = await register();
    const account = await authorizeAccount(op);
    const bg = await uploadBackground(op);
    const now = Date.now();
    const res = await api(op, '/activities', {
      method: 'POST',
      json: activityBody([account.appid, 'wxnotmine0000000000'], bg, {
        name: '这是一个超过十六个字的活动名称啊啊啊',
        start_time: new Date(now + 86_400_000).toISOString(),
        end_time: new Date(now).toISOString(),
        awards: [
          { level: 1, number: 5, good: '券' },
          { level: 2, number: 5, good: '杯' },
        ],
        poster: { background_img: 'bg/999/forged.png', key_word: '关键词长度超过了十个字符', rule: '' },
      }),
    });
    expect(res.status).toBe(422);
    const body = await res.json<any>();
    expect(Object.keys(body.error.fields)).toEqual(expect.arrayContaining(['name', 'poster.key_word', 'poster.rule']));
    // Once the shapes are right, the cross-part rules speak.
    const res2 = await api(op, '/activities', {
      method: 'POST',
      json: activityBody([account.appid, 'wxnotmine0000000000'], 'bg/999/forged.png', {
        start_time: new Date(now + 86_400_000).toISOString(),
        end_time: new Date(now).toISOString(),
        awards: [
          { level: 1, number: 5, good: '券' },
          { level: 2, number: 5, good: '杯' },
        ],
      }),
    });
    expect(res2.status).toBe(422);
    expect((await res2.json<any>()).error.fields).toMatchObject({
      end_time: '结束时间必须晚于开始时间',
      'awards.1.number': '高一阶的助力人数必须更多',
      publics: expect.stringContaining('wxnotmine0000000000'),
      'poster.background_img': '请先上传海报背景图',
    });
    expect((await (await api(op, '/activities')).json<any>()).total).toBe(0);
  });

  it('refuses a keyword used by an overlapping activity on the same account', async () => {
    const s = await setupActivity();
    const bg = await uploadBackground(s.op);
    const clash = await api(s.op, '/activities', {
      method: 'POST',
      json: activityBody([s.account.appid], bg, { poster: { background_img: bg, key_word: s.keyword, rule: 'r' } }),
    });
    expect(clash.status).toBe(422);
    expect((await clash.json<any>()).error.fields['poster.key_word']).toContain('拉新有礼');
    const later = activityBody([s.account.appid], bg, {
      start_time: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      end_time: new Date(Date.now() + 40 * 86_400_000).toISOString(),
      poster: { background_img: bg, key_word: s.keyword, rule: 'r' },
    });
    expect((await api(s.op, '/activities', { method: 'POST', json: later })).status).toBe(201);
  });

  it('rejects wrong types, oversize strings and unknown enum values with 422', async () => {
    const op = await register();
    expect((await api(op, '/activities', { method: 'POST', json: { name: 42, publics: 'x', awards: {}, poster: [] } })).status).toBe(422);
    expect((await api(op, '/activities', { method: 'POST', json: { name: 'x'.repeat(100_000) } })).status).toBe(422);
    expect((await api(op, '/activities?status=bogus')).status).toBe(422);
    expect((await api(op, '/activities/abc')).status).toBe(422);
  });
});

describe('security', () => {
  it('keeps times within 2000–2100, and a time stored out of range around the API still lists', async () => {
    const s = await setupActivity();
    const bg = s.activity.poster.background_img;
    for (const [field, value] of [
      ['start_time', 8640000000001000],
      ['start_time', '1999-12-31 23:59'],
      ['end_time', '2100-01-01T00:00:01+08:00'],
      ['end_time', 1e300],
    ] as const) {
      const res = await api(s.op, '/activities', { method: 'POST', json: activityBody([s.account.appid], bg, { [field]: value }) });
      expect(res.status, `${field} ${value}`).toBe(422);
      expect((await res.json<any>()).error.fields[field]).toBe('时间须在 2000 年至 2100 年之间');
    }
    const edit = await api(s.op, `/activities/${s.activity.id}`, { method: 'PATCH', json: { end_time: 8640000000001000 } });
    expect(edit.status).toBe(422);

    await env.DB.prepare('UPDATE activity SET end_time = ? WHERE id = ?').bind(8640000000001000, s.activity.id).run();
    const list = await api(s.op, '/activities');
    expect(list.status).toBe(200);
    expect((await list.json<any>()).items[0]).toMatchObject({ id: s.activity.id, end_time: '2100-01-01T00:00:00+08:00' });
    expect((await api(s.op, `/activities/${s.activity.id}`)).status).toBe(200);
  });

  it("another operator's ids are 404 everywhere and nothing changes", async () => {
    const s = await setupActivity();
    const intruder = await register();
    const rowId = (await (await api(s.op, '/activities')).json<any>()).items[0].id;
    for (const [method, path] of [
      ['GET', `/activities/${rowId}`],
      ['PATCH', `/activities/${rowId}`],
      ['DELETE', `/activities/${rowId}`],
      ['GET', `/activities/${rowId}/stats`],
    ] as const) {
      const res = await api(intruder, path, { method, ...(method === 'PATCH' ? { json: { name: 'x' } } : {}) });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect((await api(intruder, '/fans/blacklist', { method: 'POST', json: { ids: [1], black: true } })).status).toBe(404);
    expect((await api(intruder, `/uploads/${s.activity.poster.background_img}`)).status).toBe(404);
    expect((await (await api(intruder, `/fans?activity=${rowId}`)).json<any>()).total).toBe(0);
    expect((await api(intruder, '/activities', { method: 'POST', json: activityBody([s.account.appid], s.activity.poster.background_img) })).status).toBe(422);
    expect((await (await api(s.op, `/activities/${rowId}`)).json<any>()).name).toBe('拉新有礼');
  });
});
