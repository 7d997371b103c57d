import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { fanLink } from '../../worker/campaign/fan-access';
import { texts } from '../../worker/campaign/texts';
import { createServices } from '../../worker/services';
import { api, fanPush, pushTicket, register, uid, waitFor, worker } from './helpers';
import { join, local, rowOf, type Setup, setupActivity, throughOAuth } from './task-helpers';

beforeAll(async () => {
  await pushTicket();
});

const HOUR = 3600_000;
const counter = (activityId: number) => createServices(env).counters(activityId);

/** A fan who joined by keyword: their poster's row. */
async function poster(s: Setup): Promise<{ openId: string; rowId: number }> {
  const openId = uid('oP');
  await join(s, openId);
  return { openId, rowId: (await rowOf(s.activity.id, openId)).id };
}

/** A new follower scans the poster; returns the helper and WeChat's passive reply. */
async function assist(s: Setup, rowId: number, openId = uid('oH')) {
  const res = await fanPush(s.account, { type: 'subscribe', openId, scene: `1_${rowId}` });
  return { openId, reply: res.reply };
}

const settled = (activityId: number) => waitFor(async () => (await counter(activityId).snapshot()).pendingOutbox === 0, 'the outbox applied');
const review = (s: Setup, posterId: number, body: unknown) => api(s.op, `/activities/${s.activity.id}/reviews/${posterId}`, { method: 'POST', json: body });
const reviews = async (s: Setup, status = 'flagged') => (await (await api(s.op, `/activities/${s.activity.id}/reviews?status=${status}`)).json<any>()).items;
const winners = (activityId: number) =>
  env.DB.prepare('SELECT part_in_id, level, status, code FROM winner WHERE activity_id = ? ORDER BY part_in_id, level')
    .bind(activityId)
    .all<any>()
    .then((r) => r.results);
const notes = (openId: string) =>
  env.DB.prepare('SELECT summary FROM message_log WHERE open_id = ? ORDER BY id')
    .bind(openId)
    .all<{ summary: string }>()
    .then((r) => r.results.map((x) => x.summary));

/** D1 and the activity's counter tell the same story: counts, which assists count, prizes and their status. */
async function expectAgree(activityId: number) {
  await settled(activityId);
  const snap = await counter(activityId).snapshot();
  const rows = (
    await env.DB.prepare('SELECT id, open_id, number, task_progress, assist_counted FROM take_part_in WHERE activity_id = ?').bind(activityId).all<any>()
  ).results;
  for (const p of snap.participants) expect(rows.find((r) => r.id === p.row_id)).toMatchObject({ number: p.number, task_progress: p.task_progress });
  // A helper's row is written when their assist counts: none while it is held or waiting.
  for (const h of snap.helpers) expect(rows.find((r) => r.open_id === h.open_id)?.assist_counted ?? 0).toBe(h.counted);
  expect(rows.reduce((n, r) => n + r.number, 0)).toBe(rows.filter((r) => r.assist_counted === 1).length);
  const d1 = await winners(activityId);
  expect(d1.map((w) => [w.part_in_id, w.level, w.code])).toEqual(snap.prizes.map((p) => [p.owner_row_id, p.level, p.code]));
  // The counter knows won / held / void; D1 adds what fans and staff did since (claimed, fulfilled).
  for (const [i, p] of snap.prizes.entries()) expect(p.status === 'won' ? ['won', 'claimed', 'fulfilled'] : [p.status]).toContain(d1[i].status);
}

describe('burst rule', () => {
  it('exactly N assists within M seconds count; the N+1th is held and the poster flagged, its prizes held', async () => {
    const s = await setupActivity({
      risk: { burst_count: 3, burst_seconds: 600 },
      awards: [
        { level: 1, number: 2, good: '咖啡', kind: 'onsite' },
        { level: 2, number: 5, good: '杯子', kind: 'onsite' },
      ],
    });
    const a = await poster(s);
    for (let i = 0; i < 3; i++) expect((await assist(s, a.rowId)).reply).toContain('助力成功');
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 3, task_progress: 1 });
    expect(await reviews(s)).toEqual([]);
    expect((await winners(s.activity.id)).map((w) => w.status)).toEqual(['won']);

    // The helper is thanked like any other; the assist is recorded, not counted.
    const fourth = await assist(s, a.rowId);
    expect(fourth.reply).toContain('助力成功');
    const fifth = await assist(s, a.rowId);
    await settled(s.activity.id);
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 3 });
    expect(await rowOf(s.activity.id, fourth.openId)).toBeNull();
    const hold = await env.DB.prepare('SELECT owner_row_id, reason, outcome FROM assist_hold WHERE open_id = ?').bind(fourth.openId).first();
    expect(hold).toEqual({ owner_row_id: a.rowId, reason: 'burst', outcome: null });
    const [flagged] = await reviews(s);
    expect(flagged).toMatchObject({ poster_id: a.rowId, status: 'flagged', number: 3, evidence: { helpers: 5, held: 2, left: 0 } });
    expect(flagged.evidence.timeline.reduce((n: number, p: any) => n + p.counted + p.held, 0)).toBe(5);
    expect((await winners(s.activity.id)).map((w) => w.status)).toEqual(['held']);
    const [prize] = await winners(s.activity.id);
    const redeem = await api(s.op, '/redeem', { method: 'POST', json: { code: prize.code } });
    expect(redeem.status).toBe(409);
    expect((await redeem.json<any>()).error.message).toContain('审核');
    await waitFor(async () => (await notes(a.openId)).some((n) => n.includes('正在进行活动核验')), 'the owner told of the check');
    await expectAgree(s.activity.id);
    expect(fifth.reply).toContain('助力成功');
  });

  it('approval counts the held assists in order, releases prizes and tells the owner: once, under retries and a restart', async () => {
    const s = await setupActivity({
      risk: { burst_count: 2, burst_seconds: 600 },
      awards: [
        { level: 1, number: 1, good: '贴纸', kind: 'onsite' },
        { level: 2, number: 4, good: '帆布袋', kind: 'onsite' },
      ],
    });
    const a = await poster(s);
    for (let i = 0; i < 5; i++) await assist(s, a.rowId);
    await settled(s.activity.id);
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 2, task_progress: 1 });

    const body = { action: 'approve' };
    const [first, second] = await Promise.all([review(s, a.rowId, body), review(s, a.rowId, body)]);
    const answers = [await first.json<any>(), await second.json<any>()];
    expect(answers.filter((x) => x.changed)).toEqual([{ status: 'approved', changed: true, counted: 3, waiting: 0, dropped: 0, blacklisted: 0 }]);
    await evictDurableObject(counter(s.activity.id));
    expect(await (await review(s, a.rowId, body)).json()).toMatchObject({ status: 'approved', changed: false });
    expect((await review(s, a.rowId, { action: 'void' })).status).toBe(409);

    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 5, task_progress: 2 });
    expect((await winners(s.activity.id)).map((w) => [w.level, w.status])).toEqual([
      [1, 'won'],
      [2, 'won'],
    ]);
    expect(await reviews(s)).toEqual([]);
    expect(await reviews(s, 'approved')).toEqual([expect.objectContaining({ poster_id: a.rowId, decided_by: s.op.username })]);
    const told = await waitFor(async () => (await notes(a.openId)).find((n) => n.includes('通过活动核验')), 'the approval notice');
    expect(told).toContain('3 位好友的助力已计入，当前 5 位好友助力');
    // An approved poster is trusted: a new burst counts.
    for (let i = 0; i < 3; i++) await assist(s, a.rowId);
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 8 });
    const logged = (await (await api(s.op, `/audit?activity=${s.activity.id}&action=review.approve`)).json<any>()).items;
    expect(logged).toHaveLength(1);
    await expectAgree(s.activity.id);
  });

  it('void drops the held assists and voids the held prizes, blacklists on request, says so neutrally: once', async () => {
    const s = await setupActivity({ risk: { burst_count: 1, burst_seconds: 600 }, awards: [{ level: 1, number: 1, good: '贴纸', kind: 'onsite' }] });
    const a = await poster(s);
    const helpers = [await assist(s, a.rowId), await assist(s, a.rowId), await assist(s, a.rowId)];
    await settled(s.activity.id);
    expect((await winners(s.activity.id)).map((w) => w.status)).toEqual(['held']);
    await evictDurableObject(counter(s.activity.id));
    const body = { action: 'void', blacklist: { owner: true, helpers: true } };
    expect(await (await review(s, a.rowId, body)).json()).toEqual({ status: 'voided', changed: true, counted: 0, waiting: 0, dropped: 2, blacklisted: 4 });
    expect(await (await review(s, a.rowId, body)).json()).toMatchObject({ changed: false });
    expect((await review(s, a.rowId, { action: 'approve' })).status).toBe(409);
    await settled(s.activity.id);
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 1, black: 1 });
    // The counted helper's row is flagged; the held ones never got a row (the counter bars them all).
    expect(await rowOf(s.activity.id, helpers[0].openId)).toMatchObject({ black: 1 });
    expect(await rowOf(s.activity.id, helpers[1].openId)).toBeNull();
    expect((await winners(s.activity.id)).map((w) => w.status)).toEqual(['void']);
    const told = await waitFor(async () => (await notes(a.openId)).find((n) => n.includes('未通过活动核验')), 'the neutral notice');
    expect(told).not.toMatch(/作弊|刷/);
    // Blacklisted: the owner's poster takes no assists.
    expect((await assist(s, a.rowId)).reply).toBe(texts.posterUnavailable);
    expect((await (await api(s.op, `/audit?activity=${s.activity.id}&action=review.void`)).json<any>()).items).toHaveLength(1);
    expect((await api(await register(), `/activities/${s.activity.id}/reviews/${a.rowId}`, { method: 'POST', json: body })).status).toBe(404);
    expect((await api(s.op, `/activities/${s.activity.id}/reviews/${a.rowId + 99999}`, { method: 'POST', json: body })).status).toBe(404);
    await expectAgree(s.activity.id);
  });
});

describe('stay period', () => {
  it('an assist counts once the helper stayed H hours (the counter’s own alarm, once, also after a restart); leaving earlier never counts', async () => {
    const s = await setupActivity({ risk: { stay_hours: 24 }, awards: [{ level: 1, number: 1, good: '贴纸', kind: 'onsite' }] });
    const a = await poster(s);
    const stub = counter(s.activity.id);
    const t0 = Date.now();
    const stays = await assist(s, a.rowId);
    expect(stays.reply).toMatch(/助力成功！.*（保持关注满 24 小时后助力生效）$/);
    const leaves = await assist(s, a.rowId);
    await settled(s.activity.id);
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 0 });
    expect(await rowOf(s.activity.id, stays.openId)).toBeNull();
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).not.toBeNull();
    await waitFor(async () => (await notes(a.openId)).some((n) => n.includes('当前 2 人待确认')), 'the owner’s note');

    // The owner's progress page says how many wait.
    const path = local(await fanLink(createServices(env), 'progress', a.rowId, Date.now()));
    const cookie = (await throughOAuth(await worker(path), a.openId)).headers.get('set-cookie')!.split(';')[0];
    expect(await (await worker(path, { headers: { cookie } })).text()).toContain('另有 2 人待确认');

    // The activity's figures count assists that counted: none yet.
    const figures = async () => (await (await api(s.op, `/activities/${s.activity.id}`)).json<any>()).figures;
    expect(await figures()).toMatchObject({ helpers: 0, assists_gross: 0, assists_net: 0 });
    await fanPush(s.account, { type: 'unsubscribe', openId: leaves.openId });
    expect(await runInDurableObject(stub, (i) => i.endStays(t0 + 24 * HOUR - 60_000))).toBe(0);
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 0 });

    await evictDurableObject(stub);
    const later = Date.now() + 24 * HOUR + 1000;
    expect(await runInDurableObject(stub, (i) => i.endStays(later))).toBe(1);
    expect(await runInDurableObject(stub, (i) => i.endStays(later))).toBe(0);
    await settled(s.activity.id);
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 1, task_progress: 1 });
    expect(await rowOf(s.activity.id, stays.openId)).toMatchObject({ assist_counted: 1, origin_open_id: a.openId, subscribe_time: expect.any(Number) });
    expect(await rowOf(s.activity.id, leaves.openId)).toBeNull();
    expect(await figures()).toMatchObject({ helpers: 1, assists_gross: 1, assists_net: 1 });
    const holds = await env.DB.prepare('SELECT open_id, outcome FROM assist_hold WHERE activity_id = ? ORDER BY at').bind(s.activity.id).all<any>();
    expect(holds.results).toEqual([
      { open_id: stays.openId, outcome: 'counted' },
      { open_id: leaves.openId, outcome: 'left' },
    ]);
    expect((await winners(s.activity.id)).map((w) => w.status)).toEqual(['won']);
    await waitFor(async () => (await notes(a.openId)).some((n) => n.includes('获得【贴纸】')), 'the tier notice');

    // After the period, 取关扣助力 applies as to any assist.
    await fanPush(s.account, { type: 'unsubscribe', openId: stays.openId });
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 0, task_progress: 1 });
    await expectAgree(s.activity.id);
  });

  it('the alarm itself counts an assist whose period has ended', async () => {
    const s = await setupActivity({ risk: { stay_hours: 1 } });
    const a = await poster(s);
    const stub = counter(s.activity.id);
    await assist(s, a.rowId);
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec('UPDATE pending SET due_at = ?', Date.now() - 1000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await settled(s.activity.id);
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 1 });
    await expectAgree(s.activity.id);
  });
});

describe('audit log', () => {
  it('records each operator action — who, when, what, which activity — and shows another operator none', async () => {
    const s = await setupActivity({
      awards: [
        { level: 1, number: 1, good: '券', kind: 'code' },
        { level: 2, number: 2, good: '咖啡', kind: 'onsite' },
        { level: 3, number: 3, good: '杯', kind: 'shipping' },
      ],
    });
    await api(s.op, `/activities/${s.activity.id}/awards/1/codes`, { method: 'POST', json: { codes: ['A-1', 'A-2'] } });
    const a = await poster(s);
    for (let i = 0; i < 3; i++) await assist(s, a.rowId);
    await settled(s.activity.id);
    const all = await winners(s.activity.id);
    await api(s.op, '/redeem', { method: 'POST', json: { code: all[1].code } });
    await env.DB.prepare("UPDATE winner SET status = 'claimed', claimed_at = 1, contact_name = '张三' WHERE activity_id = ? AND level = 3")
      .bind(s.activity.id)
      .run();
    const shippingId = (await env.DB.prepare('SELECT id FROM winner WHERE activity_id = ? AND level = 3').bind(s.activity.id).first<number>('id'))!;
    await api(s.op, `/winners/${shippingId}/ship`, { method: 'POST', json: { company: '顺丰', tracking_no: 'SF0001' } });
    await api(s.op, '/fans/blacklist', { method: 'POST', json: { ids: [a.rowId], black: true } });
    await api(s.op, '/fans/blacklist', { method: 'POST', json: { ids: [a.rowId], black: false } });
    await (await api(s.op, `/fans/export?activity=${s.activity.id}`)).text();
    await (await api(s.op, `/activities/${s.activity.id}/winners/export`)).text();
    await api(s.op, `/activities/${s.activity.id}/winners/ship`, { method: 'POST', json: { csv: `${shippingId},顺丰,SF0002` } });
    await api(s.op, `/activities/${s.activity.id}/winners/erase-contacts`, { method: 'POST' });
    const template = { template_id: 'tpl_prize', data: { thing1: '{good}' } };
    await api(s.op, `/activities/${s.activity.id}`, { method: 'PATCH', json: { notices: { tier_reached: { template } }, risk: { stay_hours: 6 } } });

    const log = (await (await api(s.op, `/audit?activity=${s.activity.id}`)).json<any>()).items;
    expect(log.map((e: any) => e.action).sort()).toEqual(
      [
        'activity.edit',
        'codes.import',
        'fans.blacklist',
        'fans.export',
        'fans.unblacklist',
        'prize.redeem',
        'prize.ship',
        'prize.ship_csv',
        'winners.erase_contacts',
        'winners.export',
      ].sort(),
    );
    expect(log.every((e: any) => e.actor === s.op.username && e.activity?.id === s.activity.id && /^\d{4}-\d{2}-\d{2}T/.test(e.at))).toBe(true);
    expect(log.find((e: any) => e.action === 'activity.edit').detail.fields).toEqual([
      'notices.tier_reached.template.data.thing1',
      'notices.tier_reached.template.template_id',
      'risk.stay_hours',
    ]);
    expect(log.find((e: any) => e.action === 'prize.redeem')).toMatchObject({ action_label: '核销', target: `核销码 ${all[1].code}` });
    expect((await (await api(s.op, '/audit?action=codes.import')).json<any>()).items).toHaveLength(1);
    const other = await register();
    expect((await (await api(other, '/audit')).json<any>()).items).toEqual([]);
    expect((await (await api(other, `/audit?activity=${s.activity.id}`)).json<any>()).items).toEqual([]);
  });
});
