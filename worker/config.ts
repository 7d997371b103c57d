import { HOME_SHARD, shardDatabase } from './db/shards';
import { AppError } from './errors';
import type { ComponentConfig } from './wechat/component';
import { WXBizMsgCrypt } from './wechat/crypto';

/** Settings read once from the environment, with the crypto helper built from them. */
export interface AppConfig {
  component: ComponentConfig;
  crypto: WXBizMsgCrypt;
  publicBaseUrl: string;
  adminOrigin: string;
  sessionSecret: string;
  /** Shared with the admin's server: only beside it is the admin's word on a browser's address believed. */
  adminApiSecret: string;
  /** `npm run bench` only: the verify-only reference route it compares pushes against. */
  benchRoutes: boolean;
  /** The shard new operators are placed on (`NEW_OPERATOR_SHARD`, home by default): see README → Scaling. */
  newOperatorShard: string;
}

const cache = new WeakMap<object, AppConfig>();

const trimSlash = (s: string) => s.replace(/\/+$/, '');

/** Validates the environment at the boundary; a misconfigured deployment fails loudly, once. */
export function loadConfig(env: Env): AppConfig {
  const hit = cache.get(env);
  if (hit) return hit;
  const missing = (
    [
      'WECHAT_COMPONENT_APPID',
      'WECHAT_COMPONENT_SECRET',
      'WECHAT_COMPONENT_TOKEN',
      'WECHAT_COMPONENT_AES_KEY',
      'SESSION_SECRET',
      'ADMIN_API_SECRET',
      'PUBLIC_BASE_URL',
    ] as const
  ).filter((k) => !env[k]);
  if (missing.length) {
    console.error(`configuration missing: ${missing.join(', ')}`);
    throw new AppError('unavailable', '服务配置不完整，请联系管理员');
  }
  for (const k of ['SESSION_SECRET', 'ADMIN_API_SECRET'] as const) {
    if (env[k].length < 32) throw new AppError('unavailable', `${k} 至少 32 个字符`);
  }
  const newOperatorShard = env.NEW_OPERATOR_SHARD || HOME_SHARD;
  try {
    shardDatabase(env, newOperatorShard);
  } catch {
    console.error(`NEW_OPERATOR_SHARD names no D1 binding: ${newOperatorShard}`);
    throw new AppError('unavailable', '服务配置不完整，请联系管理员');
  }
  const config: AppConfig = {
    component: {
      appid: env.WECHAT_COMPONENT_APPID,
      secret: env.WECHAT_COMPONENT_SECRET,
      bases: {
        api: trimSlash(env.WECHAT_API_BASE || 'https://api.weixin.qq.com'),
        open: trimSlash(env.WECHAT_OPEN_BASE || 'https://open.weixin.qq.com'),
        mp: trimSlash(env.WECHAT_MP_BASE || 'https://mp.weixin.qq.com'),
      },
    },
    crypto: new WXBizMsgCrypt({
      token: env.WECHAT_COMPONENT_TOKEN,
      encodingAesKey: env.WECHAT_COMPONENT_AES_KEY,
      appid: env.WECHAT_COMPONENT_APPID,
    }),
    publicBaseUrl: trimSlash(env.PUBLIC_BASE_URL),
    adminOrigin: trimSlash(env.ADMIN_ORIGIN || env.PUBLIC_BASE_URL),
    sessionSecret: env.SESSION_SECRET,
    adminApiSecret: env.ADMIN_API_SECRET,
    benchRoutes: env.BENCH_ROUTES === '1',
    newOperatorShard,
  };
  cache.set(env, config);
  return config;
}
