import type { ActivityCounter } from './activity-counter';

/** The Durable Object that counts one activity's assists, by activity id. */
export type Counters = (activityId: number) => DurableObjectStub<ActivityCounter>;

/** Counters in the ACTIVITY namespace: one object per activity, named by its id. */
export function countersIn(ns: DurableObjectNamespace<ActivityCounter>): Counters {
  return (activityId) => ns.get(ns.idFromName(`activity:${activityId}`));
}
