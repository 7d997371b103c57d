import type { WeChatXml } from '../wechat/xml';
import type { WeChatService } from './wechat-service';

const RELEASE_TEXT = 'TESTCOMPONENT_MSG_TYPE_TEXT';
const RELEASE_QUERY_AUTH = 'QUERY_AUTH_CODE:';

/** What the 全网发布 robot is owed: a passive reply now, and maybe a customer-service text later. */
export interface ReleaseAnswer {
  reply: string | null;
  /** Resolves to the customer-service text to send once api_query_auth has answered (WeChat allows an hour). */
  later?: Promise<{ key: string; appid: string; openId: string; text: string }>;
}

/**
 * 全网发布 check: WeChat's robot expects a passive echo for one text, and for the other an empty
 * reply now and, later, a customer-service text sent with the token from api_query_auth. Any
 * other push is not the robot's (undefined).
 */
export function releaseTest(wechat: WeChatService, msg: WeChatXml): ReleaseAnswer | undefined {
  if (msg.MsgType !== 'text') return undefined;
  const content = msg.Content ?? '';
  if (content === RELEASE_TEXT) return { reply: `${RELEASE_TEXT}_callback` };
  if (!content.startsWith(RELEASE_QUERY_AUTH)) return undefined;
  const code = content.slice(RELEASE_QUERY_AUTH.length);
  const later = wechat.queryAuth(code).then((auth) => ({
    key: `release:${code}`,
    appid: auth.authorizer_appid,
    openId: msg.FromUserName,
    text: `${code}_from_api`,
  }));
  return { reply: null, later };
}
