import { Hono } from 'hono';
import type { AppEnv } from '../app-env';
import { handleFanPush } from '../campaign/push';
import { type PushReply, textReply } from '../campaign/push-context';
import { AppError } from '../errors';
import { traffic } from '../lib/meter';
import { completeAuthorization } from '../platform/accounts';
import { handleComponentEvent } from '../platform/component-events';
import { claimPush, dedupKey, releasePush } from '../platform/dedup';
import { releaseTest } from '../platform/release-test';
import { answerUrlCheck, openPush, type PushQuery, readCappedText, sealReply } from '../wechat/push';
import { buildReply } from '../wechat/xml';
import { messagePage } from './pages';

/** WeChat retries after 5 s; we answer before that and let slow work finish in the background. */
const ANSWER_WITHIN_MS = 4_000;
const APPID = /^[A-Za-z0-9_-]{1,64}$/;

const text = (body: string) => new Response(body, { headers: { 'content-type': 'text/plain; charset=utf-8' } });

export const wechatRoutes = new Hono<AppEnv>()
  /** Authorization-event URL: verify ticket and (un)authorized events. */
  .post('/component', async (c) => {
    const services = c.var.services;
    const msg = await openPush(services.config.crypto, c.req.query() as PushQuery, await readCappedText(c.req.raw));
    const appid = msg.InfoType === 'component_verify_ticket' ? undefined : msg.AuthorizerAppid;
    await handleComponentEvent(appid ? await services.forAccount(appid) : services, msg);
    return text('success');
  })

  /** URL check of the message URL. */
  .get('/callback/:appid', async (c) => text(await answerUrlCheck(c.var.services.config.crypto, c.req.query())))

  /** Message URL of every authorized account (`/wechat/callback/$APPID$`). */
  .post('/callback/:appid', async (c) => {
    const appid = c.req.param('appid');
    if (!APPID.test(appid)) throw new AppError('bad_request', 'invalid appid');
    const msg = await openPush(c.var.services.config.crypto, c.req.query() as PushQuery, await readCappedText(c.req.raw));
    // The account's shard, once the push is known to be WeChat's.
    const services = await c.var.services.forAccount(appid);
    const { config, db } = services;
    const key = dedupKey(appid, msg);
    // Messages (a keyword sends customer-service messages) are claimed once in D1. Events need no
    // claim: their D1 writes are idempotent and assists/deductions are deduplicated by the
    // activity's Durable Object in the same transaction as the count, which keeps the hot path
    // of a campaign (subscribe) free of a D1 write.
    const claimed = msg.MsgType !== 'event';
    if (claimed && !(await claimPush(db, key))) return text('success');

    const release = releaseTest(services.wechat, msg);
    if (release?.later) {
      const sending = release.later.then((m) => services.outbox.send([{ kind: 'text', ...m }]));
      c.executionCtx.waitUntil(sending.catch((e) => console.error('release test query_auth failed', e)));
    }
    const handling = (
      release
        ? Promise.resolve(release.reply === null ? null : textReply(release.reply))
        : handleFanPush(services, { appid, msg, dedupKey: key, now: Date.now() })
    ).catch(async (e) => {
      // Give the key back so WeChat's retry is handled, then fail this delivery.
      if (claimed) await releasePush(db, key);
      throw e;
    });
    const late = Symbol('late');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const reply: PushReply | typeof late = await Promise.race([
      handling,
      new Promise<typeof late>((r) => (timer = setTimeout(() => r(late), ANSWER_WITHIN_MS))),
    ]).finally(() => clearTimeout(timer));
    if (reply === late) {
      c.executionCtx.waitUntil(handling.catch((e) => console.error('late push handling failed', key, e)));
      return text('success');
    }
    if (reply === null) return text('success');
    const xml = buildReply(msg.FromUserName, msg.ToUserName, reply);
    return new Response(await sealReply(config.crypto, xml), {
      headers: { 'content-type': 'application/xml; charset=utf-8' },
    });
  })

  /** Benchmark reference (BENCH_ROUTES=1 only): the same verification and decryption, then `success`. */
  .post('/verify-only/:appid', async (c) => {
    const { config } = c.var.services;
    if (!config.benchRoutes) throw new AppError('not_found', '页面不存在');
    await openPush(config.crypto, c.req.query() as PushQuery, await readCappedText(c.req.raw));
    return text('success');
  })

  /** Benchmark meter (BENCH_ROUTES=1 only): this isolate's D1 and queue traffic so far (lib/meter.ts). */
  .get('/bench-traffic', (c) => {
    if (!c.var.services.config.benchRoutes) throw new AppError('not_found', '页面不存在');
    return c.json(traffic);
  })

  /** Where WeChat sends the operator back after authorizing an account. */
  .get('/authorized', async (c) => {
    const req = c.req.query('req') ?? '';
    const authCode = c.req.query('auth_code') ?? '';
    const services = c.var.services;
    const { config } = services;
    const back = { href: `${config.adminOrigin}/accounts`, label: '返回后台' };
    if (!req || !authCode) return c.html(messagePage('授权未完成', '缺少授权参数，请回到媒体宝后台重新点击“授权公众号”。', back), 400);
    try {
      const account = await completeAuthorization(services, req, authCode);
      return c.redirect(`${config.adminOrigin}/accounts?authorized=${encodeURIComponent(account.authorizerAppid)}`, 303);
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      return c.html(messagePage('授权未完成', e.message, back), e.status);
    }
  });
