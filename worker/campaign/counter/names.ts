import { HOME_SHARD } from '../../db/shards';

/**
 * The name of an activity's ActivityCounter: its id and, on a shard other than home, the shard
 * (activity ids are per database): `activity:7`, `DB_SHARD_2/activity:7`.
 */
export function counterName(shard: string, activityId: number): string {
  return `${shard === HOME_SHARD ? '' : `${shard}/`}activity:${activityId}`;
}

/** The shard a counter counts for, from its name; null without one. */
export function counterShard(name: string | undefined): string | null {
  if (!name) return null;
  const slash = name.indexOf('/');
  return slash < 0 ? HOME_SHARD : name.slice(0, slash);
}
