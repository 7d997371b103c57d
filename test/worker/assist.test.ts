import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createServices } from '../../worker/services';
import { api, deliver, fanPush, pushTicket, register, sandbox, sealFanPush, uid, waitFor } from './helpers';
import { join, openLink, posterOf, rowOf, type Setup, setupActivity } from './task-helpers';

beforeAll(async () => {
  await pushTicket();
});

/** An owner who joined and opened their poster: returns their scene. */
async function owner(s: Setup, openId = uid('oA')): Promise<{ openId: string; scene: string; rowId: number }> {
  await posterOf(await openLink(await join(s, openId), openId));
  const row = await rowOf(s.activity.id, openId);
  return { openId, scene: `1_${row.id}`, rowId: row.id };
}

/** D1 and the activity's Durable Object tell the same story. */
async function expectConsistent(activityId: number) {
  const snap = await createServices(env).counters(activityId).snapshot();
  expect(snap.pendingOutbox).toBe(0);
  const rows = await env.DB.prepare(
    'SELECT id, open_id, number, task_progress, assist_counted, origin_open_id, part_in FROM take_part_in WHERE activity_id = ?',
  )
    .bind(activityId)
    .all<any>();
  for (const p of snap.participants) {
    expect(rows.results.find((r) => r.id === p.row_id)).toMatchObject({ number: p.number, task_progress: p.task_progress });
  }
  for (const h of snap.helpers) {
    const row = rows.results.find((r) => r.open_id === h.open_id);
    expect(row).toMatchObject({ assist_counted: h.counted });
  }
  const counted = rows.results.filter((r) => r.assist_counted === 1).length;
  const sum = rows.results.reduce((n, r) => n + r.number, 0);
  expect(sum).toBe(counted);
}

/** The owner's notes the queue consumer has settled (a row being sent has no summary yet). */
const notifications = (openId: string) =>
  env.DB.prepare("SELECT summary FROM message_log WHERE open_id = ? AND idempotency_key LIKE '%:notify' AND status <> 'sending'")
    .bind(openId)
    .all<{ summary: string }>()
    .then((r) => r.results);

describe('exactly once', () => {
  it('the same subscribe delivered 3 times, sequentially and concurrently, counts once', async () => {
    const s = await setupActivity();
    const a = await owner(s);
    for (const concurrent of [false, true]) {
      const helper = uid('oH');
      await sandbox('/__sandbox/fans', { appid: s.account.appid, openid: helper, following: true, interaction: 'event' });
      const sealed = await sealFanPush(s.account, { type: 'subscribe', openId: helper, scene: a.scene });
      const replies = concurrent
        ? await Promise.all([deliver(s.account, sealed), deliver(s.account, sealed), deliver(s.account, sealed)])
        : [await deliver(s.account, sealed), await deliver(s.account, sealed), await deliver(s.account, sealed)];
      // The DO answers every delivery with the outcome it recorded for the first.
      expect(replies.map((r) => r.reply)).toEqual(Array(3).fill(replies[0].reply));
      expect(replies[0].reply).toContain('助力成功');
      expect(replies.every((r) => r.status === 200)).toBe(true);
    }
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 2 });
    await waitFor(async () => (await notifications(a.openId)).length === 2, 'two notifications');
    await expectConsistent(s.activity.id);
  });

  it('200 different helpers scanning one poster at once give number = 200 and one notice per tier', async () => {
    const s = await setupActivity({
      awards: [
        { level: 1, number: 10, good: '小奖' },
        { level: 2, number: 100, good: '中奖' },
        { level: 3, number: 200, good: '大奖' },
      ],
    });
    const a = await owner(s);
    const helpers = Array.from({ length: 200 }, (_, i) => uid(`oC${i}_`));
    const results = await Promise.all(helpers.map((h) => fanPush(s.account, { type: 'subscribe', openId: h, scene: a.scene })));
    expect(results.every((r) => r.status === 200 && r.reply?.includes('助力成功'))).toBe(true);
    // Answers that found an outbox round running did not wait for it: D1 follows within rounds.
    await waitFor(async () => (await createServices(env).counters(s.activity.id).snapshot()).pendingOutbox === 0, 'the outbox applied');
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 200, task_progress: 3 });
    const notes = await waitFor(
      async () => {
        const n = await notifications(a.openId);
        return n.length === 200 ? n : null;
      },
      '200 notifications logged',
      30_000,
    );
    for (const level of ['一', '二', '三']) expect(notes.filter((n) => n.summary.includes(`恭喜你达成第${level}档`))).toHaveLength(1);
    const helperRows = await env.DB.prepare(
      'SELECT count(*) AS n, min(level) AS lo, max(level) AS hi FROM take_part_in WHERE activity_id = ? AND part_in = 1 AND assist_counted = 1',
    )
      .bind(s.activity.id)
      .first<any>();
    expect(helperRows).toEqual({ n: 200, lo: 2, hi: 2 });
    await expectConsistent(s.activity.id);
  });

  it('a Durable Object restarted between events loses nothing and doubles nothing', async () => {
    const s = await setupActivity();
    const a = await owner(s);
    const first = await sealFanPush(s.account, { type: 'subscribe', openId: uid('oR'), scene: a.scene });
    await sandbox('/__sandbox/fans', { appid: s.account.appid, openid: 'x', following: true });
    expect((await deliver(s.account, first)).reply).toContain('助力成功');
    await evictDurableObject(createServices(env).counters(s.activity.id));
    // The same push again (a WeChat retry after the restart) and a new one.
    expect((await deliver(s.account, first)).reply).toContain('助力成功');
    await fanPush(s.account, { type: 'subscribe', openId: uid('oR'), scene: a.scene });
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 2, task_progress: 2 });
    await expectConsistent(s.activity.id);
  });

  it('a D1 failure while applying an assist is retried from the outbox: no lost or double count', async () => {
    const s = await setupActivity();
    const a = await owner(s);
    const stub = createServices(env).counters(s.activity.id);
    // Lock take_part_in writes for a moment: the outbox flush fails and the alarm retries it.
    await env.DB.prepare(
      `CREATE TRIGGER block_tpi BEFORE UPDATE ON take_part_in WHEN NEW.number > 0 BEGIN SELECT RAISE(ABORT, 'injected D1 failure'); END`,
    ).run();
    const reply = await fanPush(s.account, { type: 'subscribe', openId: uid('oF'), scene: a.scene });
    expect(reply.reply).toContain('助力成功');
    expect((await stub.snapshot()).pendingOutbox).toBeGreaterThan(0);
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 0 });
    await env.DB.prepare('DROP TRIGGER block_tpi').run();
    await waitFor(async () => (await rowOf(s.activity.id, a.openId)).number === 1, 'the outbox retry');
    await fanPush(s.account, { type: 'subscribe', openId: uid('oF'), scene: a.scene });
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 2 });
    await expectConsistent(s.activity.id);
  });
  it('an unfollow that overtakes its assist on the way to D1 still deducts, and D1 ends "not following"', async () => {
    const s = await setupActivity();
    const a = await owner(s);
    const stub = createServices(env).counters(s.activity.id);
    // D1 refuses new take_part_in rows for a while, so the assist's rounds (helper row and all) wait.
    await env.DB.prepare(`CREATE TRIGGER block_tpi_insert BEFORE INSERT ON take_part_in BEGIN SELECT RAISE(ABORT, 'injected D1 failure'); END`).run();
    const helper = uid('oL');
    expect((await fanPush(s.account, { type: 'subscribe', openId: helper, scene: a.scene })).reply).toContain('助力成功');
    await fanPush(s.account, { type: 'unsubscribe', openId: helper });
    expect((await stub.snapshot()).participants.find((p) => p.row_id === a.rowId)).toMatchObject({ number: 0 });
    expect(await env.DB.prepare('SELECT count(*) AS n FROM take_part_in WHERE activity_id = ? AND open_id = ?').bind(s.activity.id, helper).first('n')).toBe(0);
    expect((await stub.snapshot()).pendingOutbox).toBeGreaterThan(0);
    await env.DB.prepare('DROP TRIGGER block_tpi_insert').run();
    await waitFor(async () => (await stub.snapshot()).pendingOutbox === 0, 'the outbox retry');
    expect(await rowOf(s.activity.id, helper)).toMatchObject({ assist_counted: 0, looking: 1, origin_open_id: a.openId });
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 0 });
    await expectConsistent(s.activity.id);
  });
});

describe('dedup key pruning', () => {
  it('a departure that reaches D1 after the fan followed again leaves them following', async () => {
    const s = await setupActivity();
    const a = await owner(s);
    const stub = createServices(env).counters(s.activity.id);
    const helper = uid('oR');
    expect((await fanPush(s.account, { type: 'subscribe', openId: helper, scene: a.scene })).reply).toContain('助力成功');
    await waitFor(async () => (await stub.snapshot()).pendingOutbox === 0, 'the helper row');
    // Only the DO's writes set assist_counted: its record of the departure waits, the worker's own write does not.
    await env.DB.prepare(
      `CREATE TRIGGER block_left BEFORE UPDATE OF assist_counted ON take_part_in BEGIN SELECT RAISE(ABORT, 'injected D1 failure'); END`,
    ).run();
    await fanPush(s.account, { type: 'unsubscribe', openId: helper });
    expect(await rowOf(s.activity.id, helper)).toMatchObject({ looking: 1 });
    await fanPush(s.account, { type: 'subscribe', openId: helper });
    expect(await rowOf(s.activity.id, helper)).toMatchObject({ looking: 0 });
    expect((await stub.snapshot()).pendingOutbox).toBeGreaterThan(0);
    await env.DB.prepare('DROP TRIGGER block_left').run();
    await waitFor(async () => (await stub.snapshot()).pendingOutbox === 0, 'the outbox retry');
    expect(await rowOf(s.activity.id, helper)).toMatchObject({ looking: 0, assist_counted: 0, unsubscribe_time: expect.any(Number) });
    await expectConsistent(s.activity.id);
  });
  it('an alarm is kept pending while decided pushes are remembered, and prunes those older than a day', async () => {
    const s = await setupActivity();
    const a = await owner(s);
    await fanPush(s.account, { type: 'subscribe', openId: uid('oP'), scene: a.scene });
    const stub = createServices(env).counters(s.activity.id);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).not.toBeNull();
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec('UPDATE processed SET at = ?', Date.now() - 25 * 3600_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ n: number }>('SELECT count(*) AS n FROM processed').one().n)).toBe(0);
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 1 });
  });
});

describe('assist rules', () => {
  it('SCAN by an existing follower never counts and gets a friendly reply; scanning your own poster too', async () => {
    const s = await setupActivity();
    const a = await owner(s);
    expect((await fanPush(s.account, { type: 'SCAN', openId: uid('oS'), scene: a.scene })).reply).toBe('你已关注，本活动仅限新关注用户助力。');
    expect((await fanPush(s.account, { type: 'SCAN', openId: a.openId, scene: a.scene })).reply).toContain('你自己的海报');
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 0 });
  });

  it('拉新保护 on: B scans A, unfollows, scans C → still A’s; someone seen before never counts', async () => {
    const s = await setupActivity({ protect_switch: 1, unsubscribe_deduct: false });
    const a = await owner(s);
    const c = await owner(s);
    const b = uid('oB');
    expect((await fanPush(s.account, { type: 'subscribe', openId: b, scene: a.scene })).reply).toContain('助力成功');
    await fanPush(s.account, { type: 'unsubscribe', openId: b });
    expect((await fanPush(s.account, { type: 'subscribe', openId: b, scene: c.scene })).reply).toContain('仅限新关注用户');
    // B follows again (through C's poster), whenever the DO's record of the departure reaches D1.
    await waitFor(async () => (await createServices(env).counters(s.activity.id).snapshot()).pendingOutbox === 0, 'outbox applied');
    expect(await rowOf(s.activity.id, b)).toMatchObject({ origin_open_id: a.openId, origin: 0, level: 2, looking: 0 });
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 1 });
    expect(await rowOf(s.activity.id, c.openId)).toMatchObject({ number: 0 });
    // C's owner joined by keyword, so is known to the account: scanning A's poster later does not count.
    expect((await fanPush(s.account, { type: 'subscribe', openId: c.openId, scene: a.scene })).reply).toContain('仅限新关注用户');
    await expectConsistent(s.activity.id);
  });

  it('拉新保护 off: a returning follower may assist once per activity', async () => {
    const s = await setupActivity({ protect_switch: 2 });
    const a = await owner(s);
    const c = await owner(s);
    const b = uid('oB');
    await sandbox('/__sandbox/fans', { appid: s.account.appid, openid: b, following: true });
    expect((await fanPush(s.account, { type: 'subscribe', openId: c.openId, scene: a.scene })).reply).toContain('助力成功');
    expect((await fanPush(s.account, { type: 'subscribe', openId: b, scene: a.scene })).reply).toContain('助力成功');
    await fanPush(s.account, { type: 'unsubscribe', openId: b });
    expect((await fanPush(s.account, { type: 'subscribe', openId: b, scene: c.scene })).reply).toContain('已经为好友助力过');
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 1 });
    await expectConsistent(s.activity.id);
  });

  it('blacklisted helpers and owners are refused; the keyword is refused too', async () => {
    const s = await setupActivity();
    const a = await owner(s);
    const b = uid('oB');
    await fanPush(s.account, { type: 'subscribe', openId: b, scene: a.scene });
    const rowA = await rowOf(s.activity.id, a.openId);
    const res = await api(s.op, '/fans/blacklist', { method: 'POST', json: { ids: [rowA.id], black: true } });
    expect(await res.json()).toEqual({ updated: 1 });
    expect((await fanPush(s.account, { type: 'subscribe', openId: uid('oX'), scene: a.scene })).reply).toBe('这张海报暂时不能助力了，感谢你的关注。');
    expect((await fanPush(s.account, { type: 'text', openId: a.openId, content: s.keyword })).reply).toBe('抱歉，你暂时无法参与本活动。');
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 1, black: 1 });
    await api(s.op, '/fans/blacklist', { method: 'POST', json: { ids: [rowA.id], black: false } });
    expect((await fanPush(s.account, { type: 'subscribe', openId: uid('oY'), scene: a.scene })).reply).toContain('助力成功');
    await expectConsistent(s.activity.id);
  });

  it('outside the window: the keyword says when, scans do not count, unfollows do not deduct', async () => {
    const now = Date.now();
    const future = await setupActivity({ start_time: new Date(now + 86_400_000).toISOString(), end_time: new Date(now + 2 * 86_400_000).toISOString() });
    expect((await fanPush(future.account, { type: 'text', openId: uid('o'), content: future.keyword })).reply).toMatch(
      /^活动未开始，活动时间：\d{4}-\d{2}-\d{2} \d{2}:\d{2} 至/,
    );
    const s = await setupActivity();
    const a = await owner(s);
    await fanPush(s.account, { type: 'subscribe', openId: uid('oB'), scene: a.scene });
    await api(s.op, `/activities/${s.activity.id}`, { method: 'PATCH', json: { end_time: new Date(Date.now() + 1500).toISOString() } });
    await new Promise((r) => setTimeout(r, 1600));
    expect((await fanPush(s.account, { type: 'subscribe', openId: uid('oL'), scene: a.scene })).reply).toBe('该活动已结束，感谢关注。');
    expect((await fanPush(s.account, { type: 'text', openId: uid('o'), content: s.keyword })).reply).toMatch(/^活动已结束/);
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 1 });
  });

  it('promo codes: a follower through 2_{id} keeps the attribution when joining an activity later', async () => {
    const s = await setupActivity();
    const created = await api(s.op, '/promos', { method: 'POST', json: { name: '官网渠道', account: s.account.appid } });
    expect(created.status).toBe(201);
    const promo = await created.json<any>();
    expect(promo).toMatchObject({ name: '官网渠道', scene: `2_${promo.id}`, followers: 0 });
    const qr = await sandbox(
      `/__sandbox/qrcode-by-url?url=${encodeURIComponent((await env.DB.prepare('SELECT qr_url FROM promo WHERE id = ?').bind(promo.id).first<any>()).qr_url)}`,
    );
    expect(qr).toMatchObject({ scene: `2_${promo.id}`, expiresAt: null });
    const fan = uid('oP');
    await fanPush(s.account, { type: 'subscribe', openId: fan, scene: promo.scene });
    await join(s, fan);
    expect(await rowOf(s.activity.id, fan)).toMatchObject({ origin: 1, origin_open_id: String(promo.id) });
    await fanPush(s.account, { type: 'unsubscribe', openId: fan });
    const detail = await (await api(s.op, `/promos/${promo.id}`)).json<any>();
    expect(detail).toMatchObject({ followers: 1, following: 0, unfollowed: 1 });
    expect(detail.days).toHaveLength(1);
    const fans = await (await api(s.op, `/fans?promo=${promo.id}`)).json<any>();
    expect(fans.items[0]).toMatchObject({ open_id: fan, origin_label: '推广码：官网渠道', following: false });
    // Deleted channels stay valid in WeChat; later follows are still recorded.
    expect((await api(s.op, `/promos/${promo.id}`, { method: 'DELETE' })).status).toBe(204);
    await fanPush(s.account, { type: 'subscribe', openId: uid('oP'), scene: promo.scene });
    expect((await env.DB.prepare('SELECT count(*) AS n FROM promo_follow WHERE promo_id = ?').bind(promo.id).first<any>()).n).toBe(2);
    expect((await api(s.op, `/promos/${promo.id}`)).status).toBe(404);
  });

  it('promo fans: listed before they join any activity, once, and by their activity row after', async () => {
    const s = await setupActivity();
    const promo = await (await api(s.op, '/promos', { method: 'POST', json: { name: '门店渠道', account: s.account.appid } })).json<any>();
    const fan = uid('oQ');
    await sandbox('/__sandbox/fans', { appid: s.account.appid, openid: fan, following: true, interaction: 'event' });
    const sealed = await sealFanPush(s.account, { type: 'subscribe', openId: fan, scene: promo.scene });
    // WeChat's retries, concurrent: still one row.
    const replies = await Promise.all([deliver(s.account, sealed), deliver(s.account, sealed), deliver(s.account, sealed)]);
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
    const rowsOf = async () => (await env.DB.prepare('SELECT id, activity_id FROM take_part_in WHERE open_id = ?').bind(fan).all<any>()).results;
    expect(await rowsOf()).toEqual([{ id: expect.any(Number), activity_id: null }]);

    const listed = async (query: string) => (await (await api(s.op, `/fans?${query}`)).json<any>()).items.filter((f: any) => f.open_id === fan);
    const [promoFan] = await listed(`promo=${promo.id}`);
    expect(promoFan).toMatchObject({
      activity: null,
      origin: 1,
      origin_label: '推广码：门店渠道',
      part_in: 1,
      following: true,
      number: 0,
      account: { appid: s.account.appid },
    });
    expect(await listed('')).toHaveLength(1);
    expect(await listed(`activity=${s.activity.id}`)).toHaveLength(0);
    // Another operator sees nothing of them.
    const other = await register();
    expect((await (await api(other, `/fans?promo=${promo.id}`)).json<any>()).items).toEqual([]);

    // The blacklist bars fans from activities; a promo fan has none: a clear 409, nothing written.
    const refused = await api(s.op, '/fans/blacklist', { method: 'POST', json: { ids: [promoFan.id], black: true } });
    expect(refused.status).toBe(409);
    expect((await refused.json<any>()).error.message).toContain('推广码');
    expect((await listed(`promo=${promo.id}`))[0]).toMatchObject({ black: false });

    const csv = await (await api(s.op, `/fans/export?promo=${promo.id}`)).text();
    expect(csv).toContain(`"${fan}"`);
    expect(csv).toContain('"推广码：门店渠道"');

    // Unfollowing shows; following again (a plain follow this time) shows too.
    await fanPush(s.account, { type: 'unsubscribe', openId: fan });
    expect((await listed(`promo=${promo.id}`))[0]).toMatchObject({ following: false });
    await fanPush(s.account, { type: 'subscribe', openId: fan });
    expect((await listed(`promo=${promo.id}`))[0]).toMatchObject({ following: true });

    // A forged poster scene naming the promo fan's row is nobody's poster.
    const forged = await fanPush(s.account, { type: 'subscribe', openId: uid('oF'), scene: `1_${promoFan.id}` });
    expect(forged).toMatchObject({ status: 200, reply: null });

    // Joining an activity: the activity row carries the attribution and the promo fan's row goes.
    await join(s, fan);
    expect(await rowsOf()).toEqual([{ id: expect.any(Number), activity_id: s.activity.id }]);
    const [joined] = await listed(`promo=${promo.id}`);
    expect(joined).toMatchObject({ activity: { id: s.activity.id, name: s.activity.name }, origin: 1, part_in: 0 });
    expect(await listed('')).toHaveLength(1);
  });
});
