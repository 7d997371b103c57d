import type { ActivityCounter } from './activity-counter';

/** The Durable Object that counts one activity's assists. */
export function activityCounter(env: Env, activityId: number): DurableObjectStub<ActivityCounter> {
  return env.ACTIVITY.get(env.ACTIVITY.idFromName(`activity:${activityId}`));
}
