import { type Counters, countersIn } from './campaign/counter/stub';
import { type AppConfig, loadConfig } from './config';
import { createDb, type Db } from './db/client';
import { HOME_SHARD, shardDatabase } from './db/shards';
import { meterQueue } from './lib/meter';
import { type Outbox, queueOutbox } from './messaging/outbox';
import { Directory } from './platform/directory';
import { platformTokens } from './platform/tokens';
import { WeChatService } from './platform/wechat-service';

/**
 * Everything routes, the push handlers, the queue consumer and the cron work with, built from the
 * bindings in one place. Domain functions take the parts they need as arguments (structurally), so
 * tests pass their own; nothing below this reads `env`.
 *
 * The choice of database is made here. `db` is one shard: the home database until the request's
 * tenant is known, then the tenant's (`forShard`): an operator's from their session
 * (requireOperator), an account's from the appid of its push or link (`forAccount`). `home` always
 * holds operators, sessions, platform state and the directory of shards.
 */
export interface Services {
  config: AppConfig;
  /** The shard `db` is: a D1 binding name (see db/shards.ts). */
  shard: string;
  db: Db;
  /** The home database: logins, sessions, the verify ticket, authorization requests, the directory. */
  home: Db;
  /** Which shard holds each operator's and account's data. */
  directory: Directory;
  /** WeChat's APIs with tokens from PlatformTokens. */
  readonly wechat: WeChatService;
  /** Each activity's ActivityCounter (on this shard). */
  counters: Counters;
  /** Customer-service messages waiting for the queue consumer. */
  outbox: Outbox;
  /** Rendered posters and promo QR codes (public). */
  posters: R2Bucket;
  /** Operators' poster backgrounds (private). */
  uploads: R2Bucket;
  /** The same services over another shard. */
  forShard(shard: string): Services;
  /** The same services over the shard of an account's pushes. */
  forAccount(appid: string): Promise<Services>;
}

/** Builds the services of one request (or queue batch, or cron run); the WeChat client only when used. */
export function createServices(env: Env, shard = HOME_SHARD): Services {
  const config = loadConfig(env);
  const home = createDb(shardDatabase(env, HOME_SHARD));
  const directory = new Directory(home);
  let wechat: WeChatService | undefined;
  const services: Services = {
    config,
    shard,
    db: shard === HOME_SHARD ? home : createDb(shardDatabase(env, shard)),
    home,
    directory,
    get wechat() {
      wechat ??= new WeChatService(config.component, platformTokens(env.TOKENS));
      return wechat;
    },
    counters: countersIn(env.ACTIVITY, shard),
    outbox: queueOutbox(config.benchRoutes ? meterQueue(env.OUTBOX) : env.OUTBOX),
    posters: env.POSTERS,
    uploads: env.UPLOADS,
    forShard: (other) => (other === shard ? services : createServices(env, other)),
    forAccount: async (appid) => services.forShard(await directory.accountShard(appid)),
  };
  return services;
}
