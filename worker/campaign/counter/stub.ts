import type { ActivityCounter } from './activity-counter';
import { counterName } from './names';

/** The Durable Object that counts one activity's assists, by activity id. */
export type Counters = (activityId: number) => DurableObjectStub<ActivityCounter>;

/** Counters in the ACTIVITY namespace for one shard: one object per activity (see names.ts). */
export function countersIn(ns: DurableObjectNamespace<ActivityCounter>, shard: string): Counters {
  return (activityId) => ns.get(ns.idFromName(counterName(shard, activityId)));
}
