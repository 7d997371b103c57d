import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_NOTICE_TEXTS, NOTICE_SCENES } from '../../../worker/messaging/notices';
import { api, pushTicket } from '../helpers';
import { activityBody, setupActivity } from '../task-helpers';

beforeAll(async () => {
  await pushTicket();
});

const future = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

describe('activity settings for reach, prizes and fair play', () => {
  it('fills what a create leaves out: onsite prizes, 进度 / 领奖, default notices, no 防刷 rules', async () => {
    const s = await setupActivity();
    expect(s.activity.keywords).toEqual({ progress: '进度', claim: '领奖' });
    expect(s.activity.awards.map((a: any) => a.kind)).toEqual(['onsite', 'onsite', 'onsite']);
    expect(Object.keys(s.activity.notices).sort()).toEqual([...NOTICE_SCENES].sort());
    expect(s.activity.notices.progress).toEqual({ text: DEFAULT_NOTICE_TEXTS.progress, template: null });
    expect(s.activity.risk).toEqual({ burst_count: null, burst_seconds: null, stay_hours: null });
  });

  it('keeps kinds, keywords, notice texts and templates, and rules as given', async () => {
    const template = { template_id: 'tpl_prize', data: { thing1: '{good}', number2: '{number}' }, url: 'claim' };
    const s = await setupActivity({
      awards: [
        { level: 1, number: 1, good: '兑换券', kind: 'code', stock: 10 },
        { level: 2, number: 2, good: '保温杯', kind: 'shipping' },
      ],
      keywords: { progress: '查进度', claim: '拿奖' },
      notices: { tier_reached: { text: '恭喜 {nickname} 获得【{good}】', template }, progress: { text: DEFAULT_NOTICE_TEXTS.progress } },
      risk: { burst_count: 20, burst_seconds: 60, stay_hours: 24 },
    });
    expect(s.activity.awards.map((a: any) => a.kind)).toEqual(['code', 'shipping']);
    expect(s.activity.keywords).toEqual({ progress: '查进度', claim: '拿奖' });
    expect(s.activity.notices.tier_reached).toEqual({ text: '恭喜 {nickname} 获得【{good}】', template });
    expect(s.activity.risk).toEqual({ burst_count: 20, burst_seconds: 60, stay_hours: 24 });
  });

  it('refuses unknown variables and scenes, clashing keywords and half a burst rule, naming each field', async () => {
    const s = await setupActivity();
    const body = activityBody([s.account.appid], s.activity.poster.background_img, {
      keywords: { progress: s.keyword, claim: '进度' },
      notices: { progress: { text: '已有 {number} 人，{foo} 和 {bar}' }, claim: { template: { template_id: 't', data: { thing1: '{oops}' } } } },
      risk: { burst_count: 5 },
    });
    const res = await api(s.op, '/activities', { method: 'POST', json: body });
    expect(res.status).toBe(422);
    const fields = (await res.json<any>()).error.fields;
    expect(fields['notices.progress.text']).toContain('{foo}、{bar}');
    expect(fields['notices.claim.template.data.thing1']).toContain('{oops}');
    const unknownScene = await api(s.op, '/activities', { method: 'POST', json: { ...body, notices: { greeting: { text: 'hi' } } } });
    expect(JSON.stringify((await unknownScene.json<any>()).error.fields)).toContain('greeting');
    // Shapes right: the cross-field rules speak.
    const res2 = await api(s.op, '/activities', {
      method: 'POST',
      json: { ...body, notices: {}, poster: { ...body.poster, key_word: '新活动' }, keywords: { progress: '新活动', claim: '进度' } },
    });
    expect((await res2.json<any>()).error.fields).toMatchObject({
      'keywords.progress': expect.stringContaining('活动关键词相同'),
      // The first activity answers 进度 on the same account at the same time, as its progress keyword.
      'keywords.claim': expect.stringContaining(s.activity.name),
      'risk.burst_seconds': '突增规则需要同时填写次数和秒数',
    });
    // Overlapping activities share the progress and claim keywords; join keywords stay their own.
    const fine = { ...body, notices: {}, risk: {}, keywords: undefined };
    const overlapping = await api(s.op, '/activities', { method: 'POST', json: { ...fine, poster: { ...body.poster, key_word: '同时的' } } });
    expect(overlapping.status, await overlapping.clone().text()).toBe(201);
    const joinClash = await api(s.op, '/activities', { method: 'POST', json: { ...fine, poster: { ...body.poster, key_word: '领奖' } } });
    expect((await joinClash.json<any>()).error.fields['poster.key_word']).toContain('领奖');
    // No overlap in time: anything is free again.
    const later = await api(s.op, '/activities', {
      method: 'POST',
      json: {
        ...fine,
        keywords: { progress: s.keyword, claim: '领奖' },
        start_time: future(30),
        end_time: future(31),
        poster: { ...body.poster, key_word: '后来的' },
      },
    });
    expect(later.status, await later.clone().text()).toBe(201);
    expect((await (await api(s.op, '/activities')).json<any>()).total).toBe(3);
  });

  it('after the start, notices and 防刷 rules change (scene by scene); keywords and prize kinds do not', async () => {
    const s = await setupActivity();
    const url = `/activities/${s.activity.id}`;
    const patch = (json: unknown) => api(s.op, url, { method: 'PATCH', json });
    const first = await patch({ notices: { progress: { text: '还差 {remaining} 人' } }, risk: { stay_hours: 12 } });
    expect(first.status, await first.clone().text()).toBe(200);
    const second = await (await patch({ notices: { claim: { text: '领奖：{claim_url}' } } })).json<any>();
    expect(second.notices.progress.text).toBe('还差 {remaining} 人');
    expect(second.notices.claim.text).toBe('领奖：{claim_url}');
    expect(second.risk).toEqual({ burst_count: null, burst_seconds: null, stay_hours: 12 });
    const reset = await (await patch({ notices: { progress: null } })).json<any>();
    expect(reset.notices.progress.text).toBe(DEFAULT_NOTICE_TEXTS.progress);
    // Tiers sent without their kind keep it (a form that knows nothing of kinds still saves).
    const kindless = await patch({ awards: s.activity.awards.map(({ kind: _, ...a }: any) => ({ ...a, good: `${a.good}!` })) });
    expect((await kindless.json<any>()).awards.map((a: any) => a.kind)).toEqual(['onsite', 'onsite', 'onsite']);
    const locked = await patch({ keywords: { claim: '拿奖' }, awards: s.activity.awards.map((a: any) => ({ ...a, kind: 'code' })) });
    expect(locked.status).toBe(422);
    expect(Object.keys((await locked.json<any>()).error.fields)).toEqual(expect.arrayContaining(['keywords.claim', 'awards.0.kind']));
  });
});
