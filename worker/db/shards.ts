import { meterD1 } from '../lib/meter';

/**
 * The home database's binding. It holds what is the platform's rather than an operator's —
 * operators' logins and sessions, the verify ticket, authorization requests — and the directory
 * of shards; and it is a shard like any other, the one every operator was on before there were more.
 */
export const HOME_SHARD = 'DB';

/** Shards are D1 bindings named DB (home) or DB_SHARD_<name> in wrangler.toml. */
const SHARD_BINDING = /^DB(?:_SHARD_[A-Z0-9_]+)?$/;

/**
 * The D1 binding of a shard; throws for a name that is not one of this deployment's shards. Under
 * `npm run bench` its traffic is counted (lib/meter.ts).
 */
export function shardDatabase(env: Env, shard: string): D1Database {
  const d1 = SHARD_BINDING.test(shard) ? (env as unknown as Record<string, D1Database | undefined>)[shard] : undefined;
  if (!d1 || typeof d1.prepare !== 'function') throw new Error(`no D1 shard is bound as ${shard}`);
  return env.BENCH_ROUTES === '1' ? meterD1(d1) : d1;
}

/** Every shard this deployment binds, home first (e.g. for the hourly clean-up of each). */
export function allShards(env: Env): string[] {
  const others = Object.keys(env).filter((k) => k !== HOME_SHARD && SHARD_BINDING.test(k));
  return [HOME_SHARD, ...others.sort()];
}
