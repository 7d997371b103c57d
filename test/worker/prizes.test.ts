import { evictDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { fanLink } from '../../worker/campaign/fan-access';
import { eraseExpiredContacts } from '../../worker/campaign/winners';
import { createServices } from '../../worker/services';
import { api, deliver, fanPush, pushTicket, register, sandbox, sealFanPush, sentTo, uid, waitFor, worker } from './helpers';
import { local, rowOf, type Setup, setupActivity, throughOAuth } from './task-helpers';

beforeAll(async () => {
  await pushTicket();
});

const counter = (activityId: number) => createServices(env).counters(activityId);

/** Fans who joined by keyword (their poster rows exist), each message with its own MsgId (WeChat's are unique; the helpers' are random within a second). */
async function owners(s: Setup, n: number): Promise<{ openId: string; rowId: number }[]> {
  const ids = Array.from({ length: n }, (_, i) => uid(`oW${i}_`));
  for (let i = 0; i < ids.length; i += 10) {
    await Promise.all(ids.slice(i, i + 10).map((openId) => fanPush(s.account, { type: 'text', openId, content: s.keyword, msgId: uid('m') })));
  }
  return Promise.all(ids.map(async (openId) => ({ openId, rowId: (await rowOf(s.activity.id, openId)).id })));
}

/** A new follower scans the owner's poster. */
const assist = (s: Setup, rowId: number) => fanPush(s.account, { type: 'subscribe', openId: uid('oH'), scene: `1_${rowId}` });

const winnersInD1 = (activityId: number) =>
  env.DB.prepare('SELECT * FROM winner WHERE activity_id = ? ORDER BY part_in_id, level')
    .bind(activityId)
    .all<any>()
    .then((r) => r.results);

/** The counter's prizes and D1's winner rows tell the same story, and the outbox is empty. */
async function expectPrizesAgree(activityId: number) {
  const snap = await counter(activityId).snapshot();
  expect(snap.pendingOutbox).toBe(0);
  const rows = await winnersInD1(activityId);
  expect(rows.map((r) => [r.part_in_id, r.level, r.code])).toEqual(snap.prizes.map((p) => [p.owner_row_id, p.level, p.code]));
}

const importCodes = (s: Setup, level: number, codes: string[]) =>
  api(s.op, `/activities/${s.activity.id}/awards/${level}/codes`, { method: 'POST', json: { codes } });

/** The fan opens their claim page in WeChat: returns the page's path and the fan's session cookie. */
async function claimSession(s: Setup, openId: string): Promise<{ path: string; cookie: string }> {
  const path = local(await fanLink(createServices(env), 'claim', (await rowOf(s.activity.id, openId)).id, Date.now()));
  const confirmed = await throughOAuth(await worker(path), openId);
  expect(confirmed.status).toBe(303);
  return { path, cookie: confirmed.headers.get('set-cookie')!.split(';')[0] };
}

const formToken = (html: string) => /name="token" value="([^"]+)"/.exec(html)![1];

function postAddress(path: string, cookie: string, fields: Record<string, string>) {
  return worker(path, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
}

describe('codes and winning', () => {
  it('50 winners racing for 10 codes: 10 distinct codes, 40 told the prize is gone', async () => {
    const s = await setupActivity({ awards: [{ level: 1, number: 1, good: '十元券', kind: 'code' }] });
    const codes = Array.from({ length: 10 }, (_, i) => `CODE-${i}-${uid()}`);
    expect(await (await importCodes(s, 1, [...codes, codes[0]])).json()).toEqual({ added: 10, duplicates: 1, available: 10 });
    // Importing again changes nothing: every code is a duplicate now.
    expect(await (await importCodes(s, 1, codes.slice(0, 3))).json()).toEqual({ added: 0, duplicates: 3, available: 10 });
    const fans = await owners(s, 50);
    const replies = await Promise.all(fans.map((f) => assist(s, f.rowId)));
    expect(replies.every((r) => r.reply?.includes('助力成功'))).toBe(true);
    await waitFor(async () => (await counter(s.activity.id).snapshot()).pendingOutbox === 0, 'the outbox applied');

    const won = await winnersInD1(s.activity.id);
    expect(won).toHaveLength(10);
    expect(new Set(won.map((w) => w.code))).toEqual(new Set(codes));
    expect(won.every((w) => w.status === 'won' && w.kind === 'code' && w.good === '十元券')).toBe(true);
    const notes = await waitFor(async () => {
      const r = await env.DB.prepare(
        "SELECT open_id, summary FROM message_log WHERE idempotency_key LIKE '%:notify' AND status != 'sending' AND open_id IN (SELECT value FROM json_each(?))",
      )
        .bind(JSON.stringify(fans.map((f) => f.openId)))
        .all<{ open_id: string; summary: string }>();
      return r.results.length === 50 ? r.results : null;
    }, '50 notes');
    expect(notes.filter((n) => n.summary.includes('获得【十元券】'))).toHaveLength(10);
    expect(notes.filter((n) => n.summary.includes('【十元券】已经发完'))).toHaveLength(40);
    expect(new Set(won.map((w) => w.open_id))).toEqual(new Set(notes.filter((n) => n.summary.includes('获得【')).map((n) => n.open_id)));

    const activity = await (await api(s.op, `/activities/${s.activity.id}`)).json<any>();
    expect(activity.awards[0]).toMatchObject({ kind: 'code', won: 10, left: 0 });
    expect((await (await importCodes(s, 1, ['LATE-1'])).json<any>()).available).toBe(1);
    await expectPrizesAgree(s.activity.id);
  });

  it('WeChat’s retries and a counter restart never double a prize or a code', async () => {
    const s = await setupActivity({
      awards: [
        { level: 1, number: 1, good: '兑换券', kind: 'code' },
        { level: 2, number: 2, good: '门票', kind: 'onsite', stock: 5 },
      ],
    });
    await importCodes(s, 1, ['ONLY-ONE', 'SECOND']);
    const [a] = await owners(s, 1);
    const sealed = await sealFanPush(s.account, { type: 'subscribe', openId: uid('oR'), scene: `1_${a.rowId}` });
    await sandbox('/__sandbox/fans', { appid: s.account.appid, openid: 'x', following: true });
    await Promise.all([deliver(s.account, sealed), deliver(s.account, sealed), deliver(s.account, sealed)]);
    await evictDurableObject(counter(s.activity.id));
    await deliver(s.account, sealed);
    await assist(s, a.rowId);
    const second = await sealFanPush(s.account, { type: 'subscribe', openId: uid('oR'), scene: `1_${a.rowId}` });
    await deliver(s.account, second);
    await evictDurableObject(counter(s.activity.id));
    await deliver(s.account, second);
    await waitFor(async () => (await counter(s.activity.id).snapshot()).pendingOutbox === 0, 'the outbox applied');
    const won = await winnersInD1(s.activity.id);
    expect(won.map((w) => [w.level, w.kind, w.status])).toEqual([
      [1, 'code', 'won'],
      [2, 'onsite', 'won'],
    ]);
    expect(won[0].code).toBe('ONLY-ONE');
    expect(won[1].code).toMatch(new RegExp(`^${s.activity.id}-[A-Z2-9]{6}$`));
    expect(await rowOf(s.activity.id, a.openId)).toMatchObject({ number: 3, task_progress: 2 });
    const activity = await (await api(s.op, `/activities/${s.activity.id}`)).json<any>();
    expect(activity.awards.map((w: any) => [w.won, w.left])).toEqual([
      [1, 1],
      [1, 4],
    ]);
    await expectPrizesAgree(s.activity.id);
  });

  it('an activity set to end when its prizes are gone ends with the last one', async () => {
    const s = await setupActivity({ end_when_gone: true, awards: [{ level: 1, number: 1, good: '限量杯', kind: 'shipping', stock: 1 }] });
    const [a, b] = await owners(s, 2);
    await assist(s, a.rowId);
    expect((await assist(s, b.rowId)).reply).toBe('该活动已结束，感谢关注。');
    await waitFor(async () => (await (await api(s.op, `/activities/${s.activity.id}`)).json<any>()).status === 'ended', 'the activity ended');
    const refused = await api(s.op, '/activities', {
      method: 'POST',
      json: {
        ...s.activity,
        publics: [s.account.appid],
        poster: { ...s.activity.poster, key_word: uid('k').slice(0, 10) },
        claim_deadline: null,
        awards: [{ level: 1, number: 1, good: '杯', stock: null }],
        end_when_gone: true,
      },
    });
    expect((await refused.json<any>()).error.fields.end_when_gone).toContain('不限库存');
  });

  it('imports: bad lines named, a tier that is not a code tier refused, another operator’s tier 404', async () => {
    const s = await setupActivity({
      awards: [
        { level: 1, number: 1, good: '券', kind: 'code' },
        { level: 2, number: 2, good: '杯', kind: 'shipping' },
      ],
    });
    const bad = await importCodes(s, 1, ['GOOD-1', 'has space', '', 'x'.repeat(65), 'a,b']);
    expect(bad.status).toBe(422);
    expect(Object.keys((await bad.json<any>()).error.fields).sort()).toEqual(['codes.1', 'codes.2', 'codes.3', 'codes.4']);
    expect((await importCodes(s, 2, ['A'])).status).toBe(409);
    expect((await importCodes(s, 3, ['A'])).status).toBe(404);
    const other = await register();
    expect((await api(other, `/activities/${s.activity.id}/awards/1/codes`, { method: 'POST', json: { codes: ['STOLEN'] } })).status).toBe(404);
    expect((await counter(s.activity.id).snapshot()).pendingOutbox).toBe(0);
    expect(await env.DB.prepare('SELECT count(*) AS n FROM prize_code WHERE activity_id = ?').bind(s.activity.id).first('n')).toBe(0);
  });
});

describe('claiming', () => {
  it('the claim keyword lists the fan’s prizes with the claim link, activity by activity', async () => {
    const s = await setupActivity({
      awards: [
        { level: 1, number: 1, good: '帆布袋', kind: 'shipping' },
        { level: 2, number: 5, good: '耳机', kind: 'shipping' },
      ],
    });
    const [a, b] = await owners(s, 2);
    await assist(s, a.rowId);
    await waitFor(async () => (await winnersInD1(s.activity.id)).length === 1, 'the prize record');
    const reply = (await fanPush(s.account, { type: 'text', openId: a.openId, content: '领奖' })).reply!;
    expect(reply).toContain('你的奖品【帆布袋】待领取，请点击：https://mtb.example.test/h5/claim?t=');
    expect((await fanPush(s.account, { type: 'text', openId: b.openId, content: '领奖' })).reply).toContain('还没有获得奖品');
    expect((await fanPush(s.account, { type: 'text', openId: uid('oX'), content: '领奖' })).reply).toContain('你还没有参加活动');
    // The link in the reply is the fan's own claim page.
    const link = local(/https:\/\/\S+/.exec(reply)![0]);
    expect((await throughOAuth(await worker(link), a.openId)).status).toBe(303);
  });

  it('shipping: the address form validates, saves until shipped; the operator ships and the fan is told', async () => {
    const s = await setupActivity({ awards: [{ level: 1, number: 1, good: '保温杯', kind: 'shipping' }] });
    const [a] = await owners(s, 1);
    await assist(s, a.rowId);
    await waitFor(async () => (await winnersInD1(s.activity.id)).length === 1, 'the prize record');
    const { path, cookie } = await claimSession(s, a.openId);
    const page = await worker(path, { headers: { cookie } });
    const html = await page.text();
    expect(html).toContain('第 1 档 · 保温杯');
    expect(html).toContain('待填写收货地址');
    const token = formToken(html);
    const [winner] = await winnersInD1(s.activity.id);
    const good = { token, winner: String(winner.id), name: '=1+1', phone: '13800138000', region: '浙江省 杭州市 西湖区', address: '文三路 100 号' };

    const invalid = await postAddress(path, cookie, { ...good, phone: '12345', address: '' });
    expect(invalid.status).toBe(422);
    const invalidHtml = await invalid.text();
    expect(invalidHtml).toContain('请填写 11 位中国大陆手机号');
    expect(invalidHtml).toContain('请填写详细地址');
    expect((await postAddress(path, cookie, { ...good, token: 'forged.token.x' })).status).toBe(403);
    expect((await postAddress(path, '', good)).status).toBe(403);
    expect((await winnersInD1(s.activity.id))[0]).toMatchObject({ status: 'won', contact_name: null });

    const saved = await postAddress(path, cookie, good);
    expect(saved.status).toBe(303);
    expect(await worker(saved.headers.get('location')!, { headers: { cookie } }).then((r) => r.text())).toContain('收货地址已保存');
    expect((await postAddress(path, cookie, { ...good, address: '文三路 200 号' })).status).toBe(303);
    expect((await winnersInD1(s.activity.id))[0]).toMatchObject({ status: 'claimed', contact_phone: '13800138000', contact_address: '文三路 200 号' });

    const list = await (await api(s.op, `/activities/${s.activity.id}/winners?status=claimed`)).json<any>();
    expect(list.items).toEqual([
      expect.objectContaining({
        id: winner.id,
        status: 'claimed',
        kind: 'shipping',
        contact: { name: '=1+1', phone: '13800138000', region: '浙江省 杭州市 西湖区', address: '文三路 200 号' },
      }),
    ]);
    expect((await (await api(s.op, `/activities/${s.activity.id}/winners?q=13800`)).json<any>()).items).toHaveLength(1);
    const csv = await (await api(s.op, `/activities/${s.activity.id}/winners/export`)).text();
    expect(csv).toContain(`"'=1+1"`);

    const ship = (json: unknown) => api(s.op, `/winners/${winner.id}/ship`, { method: 'POST', json });
    expect((await ship({ company: '顺丰', tracking_no: 'no spaces allowed' })).status).toBe(422);
    expect((await ship({ company: '顺丰', tracking_no: 'SF1234567890' })).status).toBe(204);
    expect((await ship({ company: '顺丰', tracking_no: 'SF1234567890' })).status).toBe(409);
    const told = await waitFor(
      async () => (await sentTo(s.account.appid, a.openId)).find((m) => m.body.text?.content.includes('已发货')),
      'the shipping notice',
    );
    expect(told.body.text.content).toContain('你的奖品【保温杯】已发货：顺丰 SF1234567890');
    expect((await postAddress(path, cookie, good)).status).toBe(422);
    expect(await (await worker(path, { headers: { cookie } })).text()).toContain('SF1234567890');
    expect(
      (await register().then((o) => api(o, `/winners/${winner.id}/ship`, { method: 'POST', json: { company: '顺丰', tracking_no: 'SF0001' } }))).status,
    ).toBe(404);
  });

  it('bulk shipping by CSV ships the good lines and names the bad ones', async () => {
    const s = await setupActivity({ awards: [{ level: 1, number: 1, good: '杯', kind: 'shipping' }] });
    const fans = await owners(s, 3);
    for (const f of fans) await assist(s, f.rowId);
    await waitFor(async () => (await winnersInD1(s.activity.id)).length === 3, 'three prizes');
    const [w1, w2, w3] = await winnersInD1(s.activity.id);
    for (const [i, w] of [w1, w2].entries()) {
      await env.DB.prepare("UPDATE winner SET status = 'claimed', claimed_at = 1, contact_name = ? WHERE id = ?").bind(`收件人${i}`, w.id).run();
    }
    const csv = `中奖ID,快递公司,快递单号\r\n${w1.id},顺丰,SF0001\r\n${w2.id},中通,"ZT 2"\r\nabc,顺丰,SF3\r\n${w3.id},圆通,YT0003\r\n999999999,韵达,YD0004\r\n`;
    const res = await api(s.op, `/activities/${s.activity.id}/winners/ship`, { method: 'POST', json: { csv } });
    expect(await res.json()).toEqual({
      shipped: 1,
      errors: [
        { line: 3, message: '快递单号为 4–40 位字母、数字或横线' },
        { line: 4, message: '中奖ID「abc」不是数字' },
        { line: 5, message: '粉丝还没有填写收货地址' },
        { line: 6, message: '中奖记录 999999999 不属于这个活动' },
      ],
    });
    expect((await winnersInD1(s.activity.id)).map((w) => w.status)).toEqual(['fulfilled', 'claimed', 'won']);
    expect((await api(s.op, `/activities/${s.activity.id}/winners/ship`, { method: 'POST', json: { csv: '中奖ID,快递公司,快递单号\n' } })).status).toBe(422);
  });

  it('onsite: the claim page shows the claim code and its QR; a code redeems once, also when two staff try at once', async () => {
    const s = await setupActivity({ awards: [{ level: 1, number: 1, good: '咖啡', kind: 'onsite' }] });
    const [a, b] = await owners(s, 2);
    await assist(s, a.rowId);
    await assist(s, b.rowId);
    await waitFor(async () => (await winnersInD1(s.activity.id)).length === 2, 'two prizes');
    const all = await winnersInD1(s.activity.id);
    const [wa, wb] = [a, b].map((f) => all.find((w) => w.part_in_id === f.rowId));
    const { path, cookie } = await claimSession(s, a.openId);
    const html = await (await worker(path, { headers: { cookie } })).text();
    expect(html).toContain(`<p class="code">${wa.code}</p>`);
    expect(html).toContain('<svg');
    expect((await winnersInD1(s.activity.id)).find((w) => w.id === wa.id)).toMatchObject({ status: 'claimed' });

    const redeem = (op = s.op, code = wa.code) => api(op, '/redeem', { method: 'POST', json: { code } });
    const first = await redeem(s.op, wa.code.toLowerCase());
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ id: wa.id, status: 'fulfilled', code: wa.code });
    const again = await redeem();
    expect(again.status).toBe(409);
    expect((await again.json<any>()).error.message).toContain('核销过');
    const racing = await Promise.all([redeem(s.op, wb.code), redeem(s.op, wb.code)]);
    expect(racing.map((r) => r.status).sort()).toEqual([200, 409]);
    expect((await redeem(await register(), wa.code)).status).toBe(404);
    expect((await redeem(s.op, `${s.activity.id}-ZZZZZZ`)).status).toBe(404);
    expect(await (await worker(path, { headers: { cookie } })).text()).toContain('核销。');

    const stats = await (await api(s.op, `/activities/${s.activity.id}/stats`)).json<any>();
    expect(stats.tiers[0]).toMatchObject({ completions: 2, won: 2, claimed: 0, fulfilled: 2 });
  });

  it('a code tier’s claim page shows the code to copy; tampered links and strangers see nothing', async () => {
    const s = await setupActivity({ awards: [{ level: 1, number: 1, good: '会员月卡', kind: 'code' }] });
    await importCodes(s, 1, ['VIP-7788']);
    const [a] = await owners(s, 1);
    await assist(s, a.rowId);
    await waitFor(async () => (await winnersInD1(s.activity.id)).length === 1, 'the prize');
    const { path, cookie } = await claimSession(s, a.openId);
    expect((await worker(path.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')))).status).toBe(400);
    const stranger = await throughOAuth(await worker(path), uid('oS'));
    expect(stranger.status).toBe(403);
    expect(await stranger.text()).not.toContain('VIP-7788');
    const page = await worker(path, { headers: { cookie } });
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    expect(html).toContain('<p class="code" id="code-');
    expect(html).toContain('VIP-7788');
    expect(html).toContain('复制兑换码');
    // Its one script (the copy button) is the only one the page's policy lets run.
    const policy = page.headers.get('content-security-policy')!;
    const script = new TextEncoder().encode(/<script>([\s\S]*?)<\/script>/.exec(html)![1]);
    const digest = btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest('SHA-256', script))));
    expect(policy).toContain(`script-src 'sha256-${digest}'`);
    expect(policy).not.toContain('unsafe');
    expect(html.match(/<script/g)).toHaveLength(1);
    expect((await winnersInD1(s.activity.id))[0]).toMatchObject({ status: 'fulfilled', claimed_at: expect.any(Number) });
  });

  it('a claim deadline closes the page, the address form and redeeming', async () => {
    const s = await setupActivity({
      awards: [
        { level: 1, number: 1, good: '杯', kind: 'shipping' },
        { level: 2, number: 2, good: '票', kind: 'onsite' },
      ],
    });
    const [a] = await owners(s, 1);
    await assist(s, a.rowId);
    await assist(s, a.rowId);
    await waitFor(async () => (await winnersInD1(s.activity.id)).length === 2, 'two prizes');
    const { path, cookie } = await claimSession(s, a.openId);
    const token = formToken(await (await worker(path, { headers: { cookie } })).text());
    await env.DB.prepare('UPDATE activity SET claim_deadline = ? WHERE id = ?')
      .bind(Date.now() - 1000, s.activity.id)
      .run();
    const html = await (await worker(path, { headers: { cookie } })).text();
    expect(html).toContain('领奖已于');
    expect(html).not.toContain('<form');
    const [shipping, onsite] = await winnersInD1(s.activity.id);
    const post = await postAddress(path, cookie, {
      token,
      winner: String(shipping.id),
      name: '王五',
      phone: '13900139000',
      region: '上海市 浦东新区',
      address: '世纪大道 1 号',
    });
    expect(post.status).toBe(422);
    const redeemed = await api(s.op, '/redeem', { method: 'POST', json: { code: onsite.code } });
    expect(redeemed.status).toBe(409);
    expect((await redeemed.json<any>()).error.message).toContain('领奖截止');
  });
});

describe('contact details', () => {
  it('are erased on request, and by the hourly cron long after the activity ended', async () => {
    const s = await setupActivity({ awards: [{ level: 1, number: 1, good: '杯', kind: 'shipping' }] });
    const [a] = await owners(s, 1);
    await assist(s, a.rowId);
    await waitFor(async () => (await winnersInD1(s.activity.id)).length === 1, 'the prize');
    const fill = () =>
      env.DB.prepare("UPDATE winner SET status = 'claimed', contact_name = '张三', contact_phone = '13700137000' WHERE activity_id = ?")
        .bind(s.activity.id)
        .run();
    await fill();
    expect((await api(await register(), `/activities/${s.activity.id}/winners/erase-contacts`, { method: 'POST' })).status).toBe(404);
    expect(await (await api(s.op, `/activities/${s.activity.id}/winners/erase-contacts`, { method: 'POST' })).json()).toEqual({ erased: 1 });
    const [erased] = (await (await api(s.op, `/activities/${s.activity.id}/winners`)).json<any>()).items;
    expect(erased.contact).toBeUndefined();
    expect(erased.contact_erased).toBe(true);

    await fill();
    const db = createServices(env).db;
    expect(await eraseExpiredContacts(db, Date.now())).toBe(0);
    await env.DB.prepare('UPDATE activity SET end_time = ? WHERE id = ?')
      .bind(Date.now() - 91 * 86_400_000, s.activity.id)
      .run();
    expect(await eraseExpiredContacts(db, Date.now())).toBeGreaterThanOrEqual(1);
    expect((await winnersInD1(s.activity.id))[0]).toMatchObject({ contact_name: null, contact_phone: null });
  });

  it('belong to the owning operator only: another operator’s lists, exports and ids are 404', async () => {
    const s = await setupActivity({ awards: [{ level: 1, number: 1, good: '杯', kind: 'shipping' }] });
    const other = await register();
    for (const path of [`/activities/${s.activity.id}/winners`, `/activities/${s.activity.id}/winners/export`])
      expect((await api(other, path)).status).toBe(404);
    expect((await api(other, `/activities/${s.activity.id}/winners/ship`, { method: 'POST', json: { csv: '1,顺丰,SF0001' } })).status).toBe(404);
  });
});
