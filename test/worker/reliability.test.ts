import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { openPosterLink } from '../../worker/campaign/poster-flow';
import { deliverBatch } from '../../worker/messaging/delivery';
import type { MessageBundle } from '../../worker/messaging/outbox';
import { createServices } from '../../worker/services';
import { componentMessage, fanMessage, sealPush } from '../sandbox/pushes';
import { box, deliver, fanPush, KEYS, pushTicket, sandbox, sealFanPush, sentTo, uid, waitFor, worker } from './helpers';
import { join, openLink, posterOf, rowOf, setupActivity } from './task-helpers';

const settle = (ms = 1500) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  await pushTicket();
});

describe('WeChat retries: every push type delivered 3× at once is handled once', () => {
  it('text (keyword), subscribe, SCAN, unsubscribe and component events', async () => {
    const s = await setupActivity();
    const owner = uid('oA');
    await sandbox('/__sandbox/fans', { appid: s.account.appid, openid: owner, following: true, interaction: 'message' });
    const thrice = async (sealed: { query: string; body: string }) => Promise.all([1, 2, 3].map(() => deliver(s.account, sealed)));

    // A message is claimed once: one delivery answers with the news card, the others with `success`.
    const joins = await thrice(await sealFanPush(s.account, { type: 'text', openId: owner, content: s.keyword }));
    expect(joins.filter((r) => r.news).length).toBe(1);
    expect(joins.filter((r) => r.body === 'success').length).toBe(2);
    await waitFor(
      async () => (await env.DB.prepare("SELECT count(*) AS n FROM message_log WHERE open_id = ? AND channel = 'passive'").bind(owner).first('n')) === 1,
      'the answer recorded',
    );
    await settle();
    expect(await env.DB.prepare('SELECT count(*) AS n FROM message_log WHERE open_id = ?').bind(owner).first('n')).toBe(1);
    await posterOf(await openLink(joins.find((r) => r.news)!.news!.url, owner));
    const scene = `1_${(await rowOf(s.activity.id, owner)).id}`;

    const helper = uid('oH');
    await sandbox('/__sandbox/fans', { appid: s.account.appid, openid: helper, following: true, interaction: 'event' });
    // Every delivery gets the same answer (WeChat shows the fan one of them); the assist counts once.
    const subs = await thrice(await sealFanPush(s.account, { type: 'subscribe', openId: helper, scene }));
    expect(subs.map((r) => r.reply)).toEqual(Array(3).fill(subs[0].reply));
    expect(subs[0].reply).toContain('助力成功');
    expect(await rowOf(s.activity.id, owner)).toMatchObject({ number: 1 });

    const scans = await thrice(await sealFanPush(s.account, { type: 'SCAN', openId: uid('oS'), scene }));
    expect(scans.map((r) => r.reply)).toEqual(Array(3).fill('你已关注，本活动仅限新关注用户助力。'));

    await sandbox('/__sandbox/fans', { appid: s.account.appid, openid: helper, following: false });
    await thrice(await sealFanPush(s.account, { type: 'unsubscribe', openId: helper }));
    expect(await rowOf(s.activity.id, owner)).toMatchObject({ number: 0, task_progress: 1 });

    const ticket = (await sandbox('/__sandbox/ticket', {})).ticket;
    const sealed = await sealPush(
      KEYS,
      KEYS.componentAppid,
      componentMessage(KEYS.componentAppid, 'component_verify_ticket', { ComponentVerifyTicket: ticket }),
    );
    const answers = await Promise.all(
      [1, 2, 3].map(async () => (await worker(`/wechat/component?${sealed.query}`, { method: 'POST', body: sealed.body })).text()),
    );
    expect(answers).toEqual(['success', 'success', 'success']);
    expect((await env.DB.prepare("SELECT value FROM platform_state WHERE key = 'component_verify_ticket'").first<any>()).value).toBe(ticket);
  });
});

describe('faults from WeChat', () => {
  it('45015 / 45047 are logged once and never retried (no retry storm)', async () => {
    const s = await setupActivity();
    const fan = uid('oW');
    // Following, but WeChat's customer-service window is closed (the worker thinks the keyword opened it): the note is refused with 45015.
    await sandbox('/__sandbox/fans', { appid: s.account.appid, openid: fan, following: true });
    await deliver(s.account, await sealFanPush(s.account, { type: 'text', openId: fan, content: s.keyword }));
    await fanPush(s.account, { type: 'subscribe', openId: uid('oH'), scene: `1_${(await rowOf(s.activity.id, fan)).id}` });
    const logged = await waitFor(async () => {
      const rows = (
        await env.DB.prepare("SELECT errcode, attempts, status FROM message_log WHERE open_id = ? AND channel != 'passive' AND status != 'sending'")
          .bind(fan)
          .all<any>()
      ).results;
      return rows.length === 1 ? rows : null;
    }, 'the failed send logged');
    expect(logged).toEqual([{ errcode: 45015, attempts: 1, status: 'failed' }]);
    // Any retry would have raised `attempts`; the queue's retry delay is 2 s, so wait past it.
    await settle(3000);
    const after = (await env.DB.prepare("SELECT attempts FROM message_log WHERE open_id = ? AND channel != 'passive'").bind(fan).all<any>()).results;
    expect(after.map((r) => r.attempts)).toEqual([1]);
    expect(await sentTo(s.account.appid, fan)).toEqual([]);
  });

  it('a busy WeChat (-1) on send is retried by the queue until it goes through', async () => {
    const s = await setupActivity();
    const fan = uid('oB');
    await sandbox('/__sandbox/faults', { api: 'message/custom/send', appid: s.account.appid, errcode: -1, times: 2 });
    await fanPush(s.account, { type: 'text', openId: fan, content: '你好' });
    await createServices(env).outbox.send(['一', '二'].map((text) => ({ kind: 'text', key: uid('busy'), appid: s.account.appid, openId: fan, text })));
    await waitFor(async () => (await sentTo(s.account.appid, fan)).length === 2, 'both messages delivered', 30_000);
    const log = (await env.DB.prepare('SELECT status, errcode FROM message_log WHERE open_id = ?').bind(fan).all<any>()).results;
    expect(log.every((r) => r.status === 'sent' && r.errcode === 0)).toBe(true);
  });

  it('a bundle with one busy send is retried whole, and what it already sent is not sent again', async () => {
    const [busy, calm] = [await setupActivity(), await setupActivity()];
    const fans = [uid('oP'), uid('oQ')];
    const notes: MessageBundle = [busy, calm].map((s, i) => ({
      kind: 'text',
      key: uid('bundle'),
      appid: s.account.appid,
      openId: fans[i],
      text: `第 ${i + 1} 条`,
    }));
    for (const [i, s] of [busy, calm].entries())
      await sandbox('/__sandbox/fans', { appid: s.account.appid, openid: fans[i], following: true, interaction: 'message' });
    // WeChat stays busy for the first note past the in-call backoff (3 tries); the second goes through.
    await sandbox('/__sandbox/faults', { api: 'message/custom/send', appid: busy.account.appid, errcode: -1, times: 3 });
    const delivery = (attempts: number) => {
      const seen = { retried: false, acked: false };
      const message = { id: uid('q'), timestamp: new Date(), body: notes, attempts, retry: () => (seen.retried = true), ack: () => (seen.acked = true) };
      return {
        seen,
        batch: { queue: 'task-treasure-messages', messages: [message], retryAll: () => {}, ackAll: () => {} } as unknown as MessageBatch<MessageBundle>,
      };
    };
    const first = delivery(1);
    await deliverBatch(createServices(env), first.batch);
    expect(first.seen).toEqual({ retried: true, acked: false });
    expect(await sentTo(calm.account.appid, fans[1])).toHaveLength(1);

    const again = delivery(2);
    await deliverBatch(createServices(env), again.batch);
    expect(again.seen).toEqual({ retried: false, acked: true });
    expect(await sentTo(busy.account.appid, fans[0])).toHaveLength(1);
    expect(await sentTo(calm.account.appid, fans[1])).toHaveLength(1);
    const log = await env.DB.prepare(`SELECT status, attempts FROM message_log WHERE idempotency_key IN (?, ?) ORDER BY id`)
      .bind(notes[0].key, notes[1].key)
      .all();
    expect(log.results).toEqual([
      { status: 'sent', attempts: 2 },
      { status: 'sent', attempts: 1 },
    ]);
  });

  it('a WeChat that does not answer in time gives the fan a retry page, not an error', async () => {
    const s = await setupActivity();
    const fan = uid('oT');
    const link = await join(s, fan);
    await sandbox('/__sandbox/faults', { api: 'sns/userinfo', appid: s.account.appid, errcode: 0, delayMs: 9_000, times: 1 });
    const page = await openLink(link, fan);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('微信暂时繁忙');
    expect(await rowOf(s.activity.id, fan)).toMatchObject({ poster: null, nick_name: null });
  });

  it('an R2 failure while storing the poster leaves a retry page and nothing half-written', async () => {
    const s = await setupActivity();
    const fan = uid('oR');
    const link = new URL((await join(s, fan)).replace(/#wechat_redirect$/, ''));
    const { code } = await sandbox('/__sandbox/oauth-code', { appid: s.account.appid, openid: fan });
    const failing = {
      put: async () => {
        throw new Error('R2 unavailable');
      },
    } as unknown as R2Bucket;
    const services = { ...createServices(env), posters: failing };
    const page = await openPosterLink(
      { ...services, forAccount: async () => services },
      { code, state: link.searchParams.get('state')!, appid: s.account.appid },
      undefined,
      Date.now(),
    );
    expect(page).toMatchObject({ kind: 'message', status: 503, title: '海报生成失败', retryUrl: expect.stringContaining('/connect/oauth2/authorize?') });
    expect(await rowOf(s.activity.id, fan)).toMatchObject({ poster: null, qr_url: null, nick_name: null, avatar: null });
  });
});

/** A small deterministic PRNG so a failing fuzz case can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

describe('fuzz', () => {
  it('random and mutated pushes never produce a 5xx', async () => {
    const rand = prng(20261123);
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    const account = { appid: 'wx5555555555555555', ghId: 'gh_fuzz' };
    const bytes = (n: number) => Array.from({ length: n }, () => String.fromCharCode(32 + Math.floor(rand() * 95))).join('');
    const inners = [
      () =>
        fanMessage({
          ghId: account.ghId,
          openId: bytes(8),
          createTime: Math.floor(Date.now() / 1000),
          type: pick(['text', 'subscribe', 'SCAN', 'unsubscribe'] as const),
          content: bytes(12),
          scene: pick(['1_1', '2_1', '1_x', '9_9', bytes(5), '']),
        }),
      () => `<xml><MsgType>${pick(['event', 'text', 'image', bytes(4)])}</MsgType><Event>${bytes(6)}</Event></xml>`,
      () => `<xml>${bytes(40)}</xml>`,
      () => bytes(60),
      () => `<xml><a><b><c>${'x'.repeat(Math.floor(rand() * 70_000))}</c></b></a></xml>`,
      () => '<!DOCTYPE x [<!ENTITY e "e">]><xml><Content>&e;</Content></xml>',
    ];
    const statuses = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const sealed = await sealPush(KEYS, account.ghId, pick(inners)());
      let { query, body } = sealed;
      const mutation = Math.floor(rand() * 6);
      if (mutation === 1) body = body.slice(0, Math.floor(rand() * body.length));
      if (mutation === 2) {
        const at = Math.floor(rand() * body.length);
        body = body.slice(0, at) + String.fromCharCode(Math.floor(rand() * 128)) + body.slice(at + 1);
      }
      if (mutation === 3) query = query.replace(/timestamp=\d+/, `timestamp=${pick(['', '-1', '99999999999999', 'abc'])}`);
      if (mutation === 4) query = pick(['', 'encrypt_type=aes', query.replace(/msg_signature=[^&]+/, '')]);
      if (mutation === 5) body = `<xml><Encrypt>${await box.encrypt(bytes(30))}</Encrypt></xml>`;
      const path = pick([`/wechat/callback/${account.appid}`, '/wechat/component', `/wechat/callback/${encodeURIComponent(bytes(10))}`]);
      const res = await worker(`${path}?${query}`, { method: 'POST', body });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect(res.status, `case ${i} (mutation ${mutation}) on ${path}`).toBeLessThan(500);
    }
    // The fuzz reached every layer: accepted, unauthorized, malformed.
    expect([...statuses.keys()]).toEqual(expect.arrayContaining([200, 401, 400]));
  });
});
