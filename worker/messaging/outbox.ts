import type { NoticeScene, NoticeVars } from './notices';

/** Who a queued item is for, and the key that makes its redeliveries harmless. */
interface Addressed {
  key: string;
  appid: string;
  openId: string;
}

/**
 * What a notice says and how it gives way, as the campaign decides it (campaign/counter/rules.ts
 * calls it a Note): its scene and variables, whether it must arrive, and what it leaves of the window.
 */
export interface NoticeContent {
  scene: NoticeScene;
  /** What the producer knows (counts, tiers); the consumer adds the activity's own (name, links…). */
  vars: NoticeVars;
  /** It may take a window's last sends (messaging/notices.ts MUST_ARRIVE): its `reserve` does not apply. */
  mustArrive: boolean;
  /** For a notice that gives way: the sends the message window must keep after it, for must-arrive notices still ahead. */
  reserve: number;
  /** A tier reached whose prize is gone: told in the built-in words, never by the scene's template. */
  soldOut?: boolean;
  /** The product's own words, already filled (防刷 reviews, the stay period): sent as they are, never by the scene's template. */
  text?: string;
}

/**
 * Something the campaign tells a fan. The queue consumer renders it with the activity's texts
 * and sends it through the cheapest channel that still reaches them (customer service while a
 * window has room, else the scene's template if the operator bound one), or logs why nothing could.
 */
export interface Notice extends Addressed, NoticeContent {
  kind: 'notice';
  activityId: number;
  /** The fan's take_part_in row in the activity: links in the notice name it. */
  rowId: number;
}

/** The fan's poster itself, sent into the chat as an image when a send is to spare. */
export interface PosterImage extends Addressed {
  kind: 'poster';
  activityId: number;
  /** Its key in the POSTERS bucket. */
  poster: string;
  reserve: number;
}

/** A customer-service text outside any campaign (the 全网发布 check). */
export interface PlainText extends Addressed {
  kind: 'text';
  text: string;
}

/** A passive reply already given in the answer to the fan's push: only recorded, as channel `passive`. */
export interface Replied extends Addressed {
  kind: 'replied';
  activityId: number;
  scene: NoticeScene;
  /** What the fan read. */
  summary: string;
  msgType: 'text' | 'news';
}

/** What the message queue carries: anything to tell (or told) one fan. */
export type Outbound = Notice | PosterImage | PlainText | Replied;

/**
 * One queue message carries a bundle (a keyword's answer, or every note of an activity's outbox
 * round): the queue's cost is per queue message, and a busy activity produces hundreds of notes a
 * second.
 */
export type MessageBundle = Outbound[];

/** Most items one bundle carries (an outbox round of 100 decisions gives at most 200; a queue message ≤ 128 KB). */
export const MAX_BUNDLE = 200;

/** Where messages wait to be sent, after WeChat's push has been answered. */
export interface Outbox {
  /** Queues items as one bundle (at most MAX_BUNDLE). */
  send(items: Outbound[]): Promise<void>;
}

/** The outbox on the message queue. */
export function queueOutbox(queue: Queue): Outbox {
  return {
    async send(items) {
      if (items.length > MAX_BUNDLE) throw new Error(`a bundle holds at most ${MAX_BUNDLE} items`);
      if (items.length) await queue.send(items satisfies MessageBundle, { contentType: 'json' });
    },
  };
}
