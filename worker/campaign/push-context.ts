import type { Db } from '../db/client';
import type { Outbox } from '../messaging/outbox';
import type { Account } from '../platform/accounts';
import type { WeChatService } from '../platform/wechat-service';
import type { WeChatXml } from '../wechat/xml';
import type { Counters } from './counter/stub';

/** What the campaign's push handlers work with (the worker's services provide it). */
export interface PushDeps {
  db: Db;
  wechat: WeChatService;
  counters: Counters;
  outbox: Outbox;
  config: { publicBaseUrl: string; sessionSecret: string };
}

/** One verified, deduplicated push from a fan of an authorized account. */
export interface PushContext {
  deps: PushDeps;
  account: Account;
  /** The fan (FromUserName). */
  openId: string;
  msg: WeChatXml;
  dedupKey: string;
  now: number;
  /** The push's CreateTime (ms, never after `now`): WeChat's customer-service windows start there. */
  pushedAt: number;
}

/** A passive text reply, or null for `success`. */
export type PushReply = string | null;
