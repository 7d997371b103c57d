import type { Db, schema } from '../db/client';
import type { Outbound, Outbox } from '../messaging/outbox';
import type { Account } from '../platform/accounts';
import type { WeChatService } from '../platform/wechat-service';
import type { PassiveReply, WeChatXml } from '../wechat/xml';
import type { Counters } from './counter/stub';

/** What the campaign's push handlers work with (the worker's services provide it). */
export interface PushDeps {
  db: Db;
  wechat: WeChatService;
  counters: Counters;
  outbox: Outbox;
  /** The shard `db` is (fans' links name it). */
  shard: string;
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

/** The passive reply to a push (a text or one news card), or null for `success`. */
export type PushReply = PassiveReply | null;

/** A push's answer: the passive reply, and what the message queue records (the reply, as channel `passive`) or sends. */
export interface PushAnswer {
  reply: PushReply;
  items: Outbound[];
}

export const textReply = (content: string): PassiveReply => ({ type: 'text', content });

/** An activity that uses the fan's text as a keyword. */
export interface KeywordActivity {
  activity: typeof schema.activity.$inferSelect;
  poster: typeof schema.posterSetting.$inferSelect;
}

/**
 * Answers a keyword for the activities that use it in one role (campaign/keywords.ts). A join
 * keyword names one activity; the progress and claim keywords may be shared by overlapping
 * activities, and their answers cover each activity the fan is in.
 */
export type KeywordAnswer = (ctx: PushContext, activities: KeywordActivity[]) => Promise<PushAnswer>;
