import { type Counters, countersIn } from './campaign/counter/stub';
import { type AppConfig, loadConfig } from './config';
import { createDb, type Db } from './db/client';
import { type Outbox, queueOutbox } from './messaging/outbox';
import { platformTokens } from './platform/tokens';
import { WeChatService } from './platform/wechat-service';

/**
 * Everything routes, the push handlers, the queue consumer and the cron work with, built from the
 * bindings in one place. Domain functions take the parts they need as arguments (structurally), so
 * tests pass their own; nothing below this reads `env`.
 */
export interface Services {
  config: AppConfig;
  db: Db;
  /** WeChat's APIs with tokens from PlatformTokens. */
  readonly wechat: WeChatService;
  /** Each activity's ActivityCounter. */
  counters: Counters;
  /** Customer-service messages waiting for the queue consumer. */
  outbox: Outbox;
  /** Rendered posters and promo QR codes (public). */
  posters: R2Bucket;
  /** Operators' poster backgrounds (private). */
  uploads: R2Bucket;
}

/** Builds the services of one request (or queue batch, or cron run); the WeChat client only when used. */
export function createServices(env: Env): Services {
  const config = loadConfig(env);
  let wechat: WeChatService | undefined;
  return {
    config,
    db: createDb(env.DB),
    get wechat() {
      wechat ??= new WeChatService(config.component, platformTokens(env.TOKENS));
      return wechat;
    },
    counters: countersIn(env.ACTIVITY),
    outbox: queueOutbox(env.OUTBOX),
    posters: env.POSTERS,
    uploads: env.UPLOADS,
  };
}
