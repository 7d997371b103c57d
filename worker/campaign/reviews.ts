import type { Db } from '../db/client';
import { unwrap } from '../rpc-result';
import { ownedActivity } from './activities';
import { type Actor, audit } from './audit';
import type { ReviewInput, ReviewOutcome } from './counter/activity-counter';
import type { Counters } from './counter/stub';

/**
 * An operator approves or voids a poster the burst rule flagged. The activity's counter decides,
 * exactly once (a retry changes nothing and is not logged again); the audit log records it.
 */
export async function decideReview(
  { db, counters }: { db: Db; counters: Counters },
  actor: Actor,
  activityId: number,
  posterId: number,
  decision: Pick<ReviewInput, 'action' | 'blacklist'>,
  now: number,
): Promise<ReviewOutcome> {
  await ownedActivity(db, actor.id, activityId);
  const outcome = unwrap(await counters(activityId).decideReview({ activityId, ownerRowId: posterId, ...decision, by: actor.username, at: now }));
  if (outcome.changed) {
    const { counted, waiting, dropped, blacklisted } = outcome;
    const action = decision.action === 'approve' ? 'review.approve' : 'review.void';
    await audit(
      db,
      actor,
      { action, activityId, target: `海报 #${posterId}`, detail: { counted, waiting, dropped, blacklisted, blacklist: decision.blacklist } },
      now,
    );
  }
  return outcome;
}
