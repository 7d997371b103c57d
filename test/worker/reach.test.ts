import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { deliverMessages } from '../../worker/messaging/delivery';
import { createServices } from '../../worker/services';
import { sealPush, templateReceipt } from '../sandbox/pushes';
import { api, authorizeAccount, deliver, fanPush, KEYS, pushTicket, register, sandbox, sentTo, uid, waitFor, worker } from './helpers';
import { activityBody, join, noticeFor, openLink, posterOf, rowOf, type Setup, setupActivity } from './task-helpers';

beforeAll(async () => {
  await pushTicket();
});

/** Adds a template from WeChat's library to the activity's account and binds it to a scene. */
async function bindTemplate(s: Setup, scene: string, data: Record<string, string>, url?: 'progress' | 'claim', shortId = '43216') {
  const added = await api(s.op, `/accounts/${s.account.appid}/templates`, { method: 'POST', json: { template_id_short: shortId } });
  expect(added.status).toBe(201);
  const { template_id } = await added.json<{ template_id: string }>();
  const res = await api(s.op, `/activities/${s.activity.id}`, {
    method: 'PATCH',
    json: { notices: { [scene]: { template: { template_id, data, ...(url ? { url } : {}) } } } },
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return template_id;
}

/** A fan's rows in the message log, oldest first, once none is in flight (`n`: how many to wait for). */
const logOf = (openId: string, n: number) =>
  waitFor(async () => {
    const rows = (
      await env.DB.prepare('SELECT scene, channel, msg_type, summary, status, errcode, errmsg, msgid FROM message_log WHERE open_id = ? ORDER BY id')
        .bind(openId)
        .all<any>()
    ).results;
    return rows.length >= n && rows.every((r) => !['sending', 'retrying'].includes(r.status)) ? rows : null;
  }, `${n} settled messages to ${openId}`);

const calls = async (api: string, appid: string) => (await sandbox<Record<string, number>>('/__sandbox/calls'))[`${api}@${appid}`] ?? 0;

/** WeChat pushes the receipts (TEMPLATESENDJOBFINISH) of the template messages a fan was sent. */
async function pushReceipts(s: Setup, openId: string) {
  const jobs = await sandbox<{ msgid: string; status: string }[]>(`/__sandbox/template-jobs?appid=${s.account.appid}&touser=${openId}`);
  for (const job of jobs) {
    const sealed = await sealPush(KEYS, s.account.ghId, templateReceipt({ ghId: s.account.ghId, openId, ...job }));
    expect((await deliver(s.account, sealed)).body).toBe('success');
  }
  return jobs;
}

/** An owner who joined and opened their poster (WeChat names them `nickname`). */
async function owner(s: Setup, nickname = '小明') {
  const openId = uid('oA');
  await sandbox('/__sandbox/fans', { appid: s.account.appid, openid: openId, nickname });
  await posterOf(await openLink(await join(s, openId), openId));
  const row = await rowOf(s.activity.id, openId);
  return { openId, rowId: row.id as number, scene: `1_${row.id}` };
}

describe('passive replies: what answers the fan’s own push costs no send', () => {
  it('the keyword’s news card and the helper’s thanks (naming the inviter and the keyword) are recorded as passive', async () => {
    const s = await setupActivity();
    const a = await owner(s, '小明');
    const helper = uid('oH');
    const thanks = await fanPush(s.account, { type: 'subscribe', openId: helper, scene: a.scene });
    expect(thanks.reply).toBe(`你已为【小明】助力成功！回复“${s.keyword}”也能生成你的专属海报，赢取【优惠券】。`);
    const [joinRow] = await logOf(a.openId, 1);
    expect(joinRow).toMatchObject({
      scene: 'join_rules',
      channel: 'passive',
      msg_type: 'news',
      status: 'sent',
      summary: expect.stringContaining('邀请 3 位好友扫码关注即可领奖'),
    });
    expect(await logOf(helper, 1)).toEqual([expect.objectContaining({ scene: 'helper_thanks', channel: 'passive', summary: thanks.reply })]);
    expect(await sentTo(s.account.appid, helper)).toEqual([]);
  });

  it('a friend scanning a blacklisted fan’s poster is told it cannot help, not left without an answer', async () => {
    const s = await setupActivity();
    const a = await owner(s);
    await api(s.op, '/fans/blacklist', { method: 'POST', json: { ids: [a.rowId], black: true } });
    expect((await fanPush(s.account, { type: 'subscribe', openId: uid('oX'), scene: a.scene })).reply).toBe('这张海报暂时不能助力了，感谢你的关注。');
  });
});

describe('the progress keyword', () => {
  it('answers a fan in one activity with a news card: count, rank, what is next, and the link to their page', async () => {
    const s = await setupActivity();
    const a = await owner(s);
    await fanPush(s.account, { type: 'subscribe', openId: uid('oH'), scene: a.scene });
    const answer = await fanPush(s.account, { type: 'text', openId: a.openId, content: '进度' });
    expect(answer.news).toMatchObject({
      title: '【拉新有礼】我的助力进度',
      description: '已有 1 位好友为你助力，排名第 1，再邀请 1 人可得第二档【保温杯】。查看进度和排行榜',
      url: expect.stringMatching(/^https:\/\/mtb\.example\.test\/h5\/progress\?t=/),
    });
    // The link opens the fan's page (after WeChat confirms who holds the phone).
    const page = await worker(answer.news!.url.replace('https://mtb.example.test', ''));
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toContain('/connect/oauth2/authorize');
    const recorded = await waitFor(
      () => env.DB.prepare("SELECT * FROM message_log WHERE open_id = ? AND scene = 'progress'").bind(a.openId).first<any>(),
      'the answer recorded',
    );
    expect(recorded).toMatchObject({ channel: 'passive', msg_type: 'news', status: 'sent', summary: expect.stringContaining('排名第 1') });
  });

  it('covers each overlapping activity the fan is in, and tells a fan in none how to join', async () => {
    const s = await setupActivity();
    const second = await api(s.op, '/activities', {
      method: 'POST',
      json: activityBody([s.account.appid], s.activity.poster.background_img, {
        name: '第二个活动',
        poster: { ...s.activity.poster, key_word: uid('k').slice(0, 10) },
      }),
    });
    expect(second.status).toBe(201);
    const other = await second.json<any>();
    const fan = uid('oF');
    expect((await fanPush(s.account, { type: 'text', openId: fan, content: '进度' })).reply).toBe(
      `你还没有参加活动。回复“${s.keyword}”参加【拉新有礼】；回复“${other.poster.key_word}”参加【第二个活动】。`,
    );
    await join(s, fan);
    await join({ ...s, activity: other, keyword: other.poster.key_word }, fan);
    const answer = await fanPush(s.account, { type: 'text', openId: fan, content: '进度' });
    expect(answer.news).toBeNull();
    const parts = answer.reply!.split('\n\n');
    expect(parts).toHaveLength(2);
    expect(parts.map((p) => p.slice(0, p.indexOf('】') + 1)).sort()).toEqual(['【拉新有礼】', '【第二个活动】']);
    for (const p of parts)
      expect(p).toMatch(
        /已有 0 位好友为你助力，排名第 \d+，再邀请 1 人可得第一档【优惠券】。<a href="https:\/\/mtb\.example\.test\/h5\/progress\?t=[^"]+">查看进度和排行榜<\/a>$/,
      );
  });
});

describe('channels: customer service while a window has room, else the template the operator bound, else none with why', () => {
  it('prizes go by template when WeChat refuses customer service (the staff used the fan’s sends); receipts say delivered or blocked', async () => {
    const s = await setupActivity();
    await bindTemplate(s, 'tier_reached', { thing1: '{activity}', number2: '{number}', thing3: '{tier}：{good}' }, 'claim');
    const a = await owner(s);
    const { appid } = s.account;
    await waitFor(async () => (await sentTo(appid, a.openId)).length === 1, 'the poster image');
    // The account's staff answer the fan from the official platform: the 4 sends left are gone, and the worker cannot know.
    await sandbox('/__sandbox/fans', { appid, openid: a.openId, staffSends: 4 });
    await fanPush(s.account, { type: 'subscribe', openId: uid('oH'), scene: a.scene });
    const first = (await logOf(a.openId, 3)).at(-1);
    expect(first).toMatchObject({
      scene: 'tier_reached',
      channel: 'template',
      msg_type: 'template',
      status: 'sent',
      errcode: 0,
      summary: '拉新有礼 / 1 / 第一档：优惠券',
    });
    expect(first.errmsg).toContain('45047');
    const [sent] = (await sentTo(appid, a.openId)).filter((m) => m.msgtype === 'template');
    expect(sent.body).toMatchObject({
      data: { thing1: { value: '拉新有礼' }, number2: { value: '1' }, thing3: { value: '第一档：优惠券' } },
      url: expect.stringContaining('/h5/claim?t='),
    });

    // The next prize: the worker knows the window is spent and does not try customer service.
    const customCalls = await calls('message/custom/send', appid);
    await sandbox('/__sandbox/fans', { appid, openid: a.openId, blocksTemplates: true });
    await fanPush(s.account, { type: 'subscribe', openId: uid('oH'), scene: a.scene });
    expect((await logOf(a.openId, 4)).at(-1)).toMatchObject({ scene: 'tier_reached', channel: 'template', status: 'sent' });
    expect(await calls('message/custom/send', appid)).toBe(customCalls);

    const jobs = await pushReceipts(s, a.openId);
    expect(jobs.map((j) => j.status)).toEqual(['success', 'failed:user block']);
    const log = await logOf(a.openId, 4);
    expect(log.slice(2).map((r) => [r.msgid, r.status])).toEqual([
      [jobs[0].msgid, 'delivered'],
      [jobs[1].msgid, 'blocked'],
    ]);
    expect(log[3].errmsg).toContain('拒收');
  });

  it('plain notes give way: none with why, unless the operator bound a template to progress', async () => {
    const s = await setupActivity({
      awards: [
        { level: 1, number: 6, good: '超值优惠券大礼包组合装' },
        { level: 2, number: 7, good: '保温杯' },
      ],
    });
    const a = await owner(s);
    // The poster image and two notes leave 2 sends, which the 2 prizes ahead keep.
    for (const n of [1, 2]) {
      await fanPush(s.account, { type: 'subscribe', openId: uid('oH'), scene: a.scene });
      expect((await logOf(a.openId, 2 + n)).at(-1)).toMatchObject({ scene: 'progress', channel: 'custom', status: 'sent' });
    }
    await fanPush(s.account, { type: 'subscribe', openId: uid('oH'), scene: a.scene });
    expect((await logOf(a.openId, 5)).at(-1)).toMatchObject({
      scene: 'progress',
      channel: 'none',
      status: 'skipped',
      errmsg: expect.stringContaining('留给尚未达成的奖品'),
    });

    await bindTemplate(s, 'progress', { thing1: '{activity}', number2: '{number}', thing3: '{next_step}' }, 'progress');
    await fanPush(s.account, { type: 'subscribe', openId: uid('oH'), scene: a.scene });
    expect((await logOf(a.openId, 6)).at(-1)).toMatchObject({
      scene: 'progress',
      channel: 'template',
      status: 'sent',
      errmsg: expect.stringContaining('留给尚未达成的奖品'),
    });
    const [sent] = (await sentTo(s.account.appid, a.openId)).filter((m) => m.msgtype === 'template');
    // A `thing` field shows at most 20 characters: a longer value is cut, not refused (47003).
    expect(sent.body.data.thing3.value).toBe('再邀请 2 人可得第一档【超值优惠券大…');
    expect(sent.body.url).toContain('/h5/progress?t=');
  });

  it('template refusals are final and named: an unknown template (40037), a fan who left (43004), the day’s quota (45009), a wrong field (47003)', async () => {
    const s = await setupActivity();
    const { appid } = s.account;
    const services = createServices(env);
    const template = await bindTemplate(s, 'tier_reached', { thing1: '{good}' });
    const notice = (openId: string) => noticeFor(s, openId, { scene: 'tier_reached', vars: { number: 1, level: 1, tier: '第一档', good: '优惠券' } });
    /** A following fan the worker knows has no window open: the template is the only way. */
    const closedFan = async (following = true) => {
      const fan = uid('oC');
      await sandbox('/__sandbox/fans', { appid, openid: fan, following });
      await env.DB.prepare('INSERT INTO service_window (appid, open_id, opened_at, sent) VALUES (?, ?, 0, 0)').bind(appid, fan).run();
      return fan;
    };
    const outcome = async (fan: string) => {
      await deliverMessages(services, [notice(fan)]);
      return (await logOf(fan, 1))[0];
    };
    expect(await outcome(await closedFan())).toMatchObject({ channel: 'template', status: 'sent' });
    expect(await outcome(await closedFan(false))).toMatchObject({
      channel: 'template',
      status: 'failed',
      errcode: 43004,
      errmsg: expect.stringContaining('取消关注'),
    });
    await sandbox('/__sandbox/template-quota', { appid, left: 0 });
    expect(await outcome(await closedFan())).toMatchObject({ status: 'failed', errcode: 45009, errmsg: expect.stringContaining('上限') });
    await sandbox('/__sandbox/template-quota', { appid, left: 100 });
    await api(s.op, `/activities/${s.activity.id}`, {
      method: 'PATCH',
      json: { notices: { tier_reached: { template: { template_id: template, data: { keyword9: '{good}' } } } } },
    });
    expect(await outcome(await closedFan())).toMatchObject({ status: 'failed', errcode: 47003, errmsg: expect.stringContaining('模板字段') });
    await api(s.op, `/activities/${s.activity.id}`, {
      method: 'PATCH',
      json: { notices: { tier_reached: { template: { template_id: 'tpl_not_this_accounts', data: { thing1: '{good}' } } } } },
    });
    expect(await outcome(await closedFan())).toMatchObject({ status: 'failed', errcode: 40037, errmsg: expect.stringContaining('模板 ID 无效') });
    // Final: the queue does not try them again.
    expect(await deliverMessages(services, [notice(await closedFan())])).toEqual(['done']);
  });

  it('a receipt that overtakes the record of its send is applied when the send is recorded; a receipt naming nothing changes nothing', async () => {
    const s = await setupActivity();
    const { appid } = s.account;
    await bindTemplate(s, 'tier_reached', { thing1: '{good}' });
    const fan = uid('oE');
    await sandbox('/__sandbox/fans', { appid, openid: fan, following: true });
    await env.DB.prepare('INSERT INTO service_window (appid, open_id, opened_at, sent) VALUES (?, ?, 0, 0)').bind(appid, fan).run();
    // WeChat takes the send at once but answers it late; its receipt comes first.
    await sandbox('/__sandbox/faults', { api: 'message/template/send', appid, lateMs: 1500 });
    const n = noticeFor(s, fan, { scene: 'tier_reached', vars: { good: '优惠券' } });
    const sending = deliverMessages(createServices(env), [n]);
    await waitFor(async () => (await sandbox<unknown[]>(`/__sandbox/template-jobs?appid=${appid}&touser=${fan}`)).length === 1, 'WeChat took the send');
    await pushReceipts(s, fan);
    await sending;
    expect((await logOf(fan, 1))[0]).toMatchObject({ channel: 'template', status: 'delivered' });

    const forged = await sealPush(KEYS, s.account.ghId, templateReceipt({ ghId: s.account.ghId, openId: fan, msgid: 'not-a-number', status: 'success' }));
    expect((await deliver(s.account, forged)).body).toBe('success');
    const unknown = await sealPush(KEYS, s.account.ghId, templateReceipt({ ghId: s.account.ghId, openId: fan, msgid: '123', status: 'failed: system failed' }));
    expect((await deliver(s.account, unknown)).body).toBe('success');
    expect(await logOf(fan, 1)).toHaveLength(1);
  });
});

describe('the operator’s wording', () => {
  it('fills a custom text’s variables per fan: nickname, rank and a link to their page', async () => {
    const s = await setupActivity({
      notices: { tier_reached: { text: '{nickname}，你达成了{tier}，排名第 {rank}。进度：{progress_url}' }, ended: { text: '活动结束啦\r\n{result}' } },
    });
    // A form posts line breaks as CRLF; they are kept as LF.
    expect(s.activity.notices.ended.text).toBe('活动结束啦\n{result}');
    const a = await owner(s, '小明');
    await fanPush(s.account, { type: 'subscribe', openId: uid('oH'), scene: a.scene });
    const note = (await logOf(a.openId, 3)).at(-1);
    expect(note.summary).toMatch(/^小明，你达成了第一档，排名第 1。进度：https:\/\/mtb\.example\.test\/h5\/progress\?t=\S+$/);
  });
});

describe('templates in the admin API', () => {
  it('lists an account’s templates from WeChat, adds from the library by short id, deletes; refuses what WeChat refuses, clearly', async () => {
    const s = await setupActivity();
    const path = `/accounts/${s.account.appid}/templates`;
    expect(await (await api(s.op, path)).json()).toEqual({ items: [] });
    const added = await (await api(s.op, path, { method: 'POST', json: { template_id_short: '47325' } })).json<any>();
    expect(added.template_id).toMatch(/^tpl_/);
    const { items } = await (await api(s.op, path)).json<any>();
    expect(items).toEqual([
      {
        template_id: added.template_id,
        title: '活动即将结束提醒',
        industry: 'IT科技 / 互联网|电子商务',
        content: expect.stringContaining('{{thing1.DATA}}'),
        example: expect.any(String),
        fields: [
          { key: 'thing1', label: '活动名称' },
          { key: 'time2', label: '结束时间' },
          { key: 'thing3', label: '温馨提示' },
        ],
      },
    ]);
    const bogus = await api(s.op, path, { method: 'POST', json: { template_id_short: 'NOPE' } });
    expect(bogus.status).toBe(422);
    expect((await bogus.json<any>()).error.fields.template_id_short).toContain('模板库中没有');
    expect((await api(s.op, `${path}/${added.template_id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await api(s.op, `${path}/${added.template_id}`, { method: 'DELETE' })).status).toBe(404);

    // Another operator's account is not found; no session is 401; an unverified account cannot use templates.
    const other = await register();
    expect((await api(other, path)).status).toBe(404);
    expect((await api(null, path)).status).toBe(401);
    const plain = await authorizeAccount(other, { nickName: '订阅号', serviceType: 0, verifyType: -1 });
    const refused = await api(other, `/accounts/${plain.appid}/templates`);
    expect(refused.status).toBe(409);
    expect((await refused.json<any>()).error.message).toContain('认证服务号');
  });
});

describe('the operator sees reach', () => {
  it('an activity’s messages and a fan’s: what each fan was sent, how, and why not; filtered and paged by cursor', async () => {
    const s = await setupActivity();
    const a = await owner(s, '小明');
    const helper = uid('oH');
    await fanPush(s.account, { type: 'subscribe', openId: helper, scene: a.scene });
    // The owner's poster image, the prize, the join answer, and the helper's thanks.
    await logOf(a.openId, 3);
    await logOf(helper, 1);
    const list = async (query = '') => {
      const res = await api(s.op, `/activities/${s.activity.id}/messages${query}`);
      expect(res.status, await res.clone().text()).toBe(200);
      return res.json<any>();
    };
    const all = await list();
    expect(all.items).toHaveLength(4);
    expect(all.next_cursor).toBeNull();
    const prize = all.items.find((m: any) => m.scene === 'tier_reached');
    expect(prize).toMatchObject({
      open_id: a.openId,
      nick_name: '小明',
      activity: { id: s.activity.id, name: '拉新有礼' },
      scene_label: '达成奖励档位',
      channel: 'custom',
      channel_label: '客服消息',
      status: 'sent',
      status_label: '已发送',
      summary: expect.stringContaining('恭喜你达成第一档'),
      detail: null,
      attempts: 1,
    });
    expect(all.items.map((m: any) => m.channel).sort()).toEqual(['custom', 'custom', 'passive', 'passive']);
    expect((await list('?channel=passive')).items.map((m: any) => m.scene).sort()).toEqual(['helper_thanks', 'join_rules']);
    expect((await list(`?open_id=${helper}`)).items).toEqual([expect.objectContaining({ scene: 'helper_thanks', nick_name: null })]);
    const first = await list('?page_size=3');
    expect(first.items).toHaveLength(3);
    const rest = await list(`?page_size=3&cursor=${first.next_cursor}`);
    expect([...first.items, ...rest.items].map((m: any) => m.id)).toEqual(all.items.map((m: any) => m.id));
    expect(rest.next_cursor).toBeNull();
    expect((await api(s.op, `/activities/${s.activity.id}/messages?cursor=x1`)).status).toBe(422);

    const fan = await (await api(s.op, `/fans/${a.rowId}/messages`)).json<any>();
    expect(fan).toMatchObject({ open_id: a.openId, appid: s.account.appid, next_cursor: null });
    expect(fan.items.map((m: any) => m.scene).sort()).toEqual(['join_rules', 'poster', 'tier_reached']);

    const other = await register();
    expect((await api(other, `/activities/${s.activity.id}/messages`)).status).toBe(404);
    expect((await api(other, `/fans/${a.rowId}/messages`)).status).toBe(404);
    expect((await api(null, `/activities/${s.activity.id}/messages`)).status).toBe(401);
  });
});
