import type { Db } from '../db/client';
import type { WeChatXml } from '../wechat/xml';
import type { WeChatService } from '../platform/wechat-service';
import { enqueueMessages } from '../messaging/outbox';
import { openServiceWindow } from '../messaging/service-window';
import { handleTaskEvent, handleTaskText } from './events';

/** Everything a handler of one verified, deduplicated push needs. */
export interface PushContext {
  env: Env;
  db: Db;
  wechat: WeChatService;
  /** The authorizer appid from the callback URL. */
  appid: string;
  msg: WeChatXml;
  dedupKey: string;
  now: number;
  waitUntil(p: Promise<unknown>): void;
}

/** A passive text reply, or null for `success`. */
export type PushReply = string | null;

const RELEASE_TEXT = 'TESTCOMPONENT_MSG_TYPE_TEXT';
const RELEASE_QUERY_AUTH = 'QUERY_AUTH_CODE:';

/**
 * 全网发布 check: WeChat's robot expects a passive echo for one text, and for the other an
 * empty reply now and, later, a customer-service text sent with the token from api_query_auth.
 */
function releaseTest(ctx: PushContext): PushReply | undefined {
  const content = ctx.msg.Content ?? '';
  if (content === RELEASE_TEXT) return `${RELEASE_TEXT}_callback`;
  if (!content.startsWith(RELEASE_QUERY_AUTH)) return undefined;
  const code = content.slice(RELEASE_QUERY_AUTH.length);
  ctx.waitUntil(
    (async () => {
      const auth = await ctx.wechat.queryAuth(code);
      await enqueueMessages(ctx.env, [
        { key: `release:${code}`, appid: auth.authorizer_appid, message: { touser: ctx.msg.FromUserName, msgtype: 'text', text: { content: `${code}_from_api` } } },
      ]);
    })().catch((e) => console.error('release test query_auth failed', e)),
  );
  return null;
}

/** Routes one push to its handler; pushes nobody handles are answered `success`. */
export async function dispatchPush(ctx: PushContext): Promise<PushReply> {
  const type = ctx.msg.MsgType;
  // Any message from a fan (not an event) opens WeChat's customer-service window to them.
  if (type !== 'event' && ctx.msg.FromUserName) {
    const sentAt = Math.min(Number(ctx.msg.CreateTime) * 1000 || ctx.now, ctx.now);
    await openServiceWindow(ctx.db, ctx.appid, ctx.msg.FromUserName, sentAt);
  }
  if (type === 'text') {
    const release = releaseTest(ctx);
    if (release !== undefined) return release;
    return handleTaskText(ctx);
  }
  if (type === 'event') return handleTaskEvent(ctx);
  return null;
}
