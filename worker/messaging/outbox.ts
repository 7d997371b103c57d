import type { CustomMessage } from '../wechat/authorizer';

/** A customer-service message waiting to be sent; `key` makes redeliveries harmless. */
export interface OutboundMessage {
  key: string;
  appid: string;
  message: CustomMessage;
  /** Sends the fan's window must keep after this one (see service-window.ts); absent: 0. */
  reserve?: number;
}

/**
 * One queue message carries a bundle of customer-service messages (a keyword's replies, or every
 * note of an activity's outbox round): the queue's cost is per queue message, and a busy activity
 * produces hundreds of notes a second.
 */
export type MessageBundle = OutboundMessage[];

/** Most notes one bundle carries (an outbox round has at most 100; a queue message ≤ 128 KB). */
export const MAX_BUNDLE = 100;

/** Where messages wait to be sent, after WeChat's push has been answered. */
export interface Outbox {
  /** Queues messages as one bundle (at most MAX_BUNDLE). */
  send(messages: OutboundMessage[]): Promise<void>;
}

/** The outbox on the message queue. */
export function queueOutbox(queue: Queue): Outbox {
  return {
    async send(messages) {
      if (messages.length > MAX_BUNDLE) throw new Error(`a bundle holds at most ${MAX_BUNDLE} messages`);
      if (messages.length) await queue.send(messages satisfies MessageBundle, { contentType: 'json' });
    },
  };
}
