import { HOME_SHARD } from '../db/shards';
import { signToken } from '../lib/signed-token';

/** The fans' own pages, each reached by a link signed for one fan in one activity. */
export type FanPage = 'progress' | 'claim';

/** Links in notices outlive the campaign: a winner may claim weeks after the end. */
export const FAN_LINK_TTL_MS = 180 * 24 * 3600_000;

/**
 * A fan's page link: `/h5/progress?t=…` or `/h5/claim?t=…`, signed for their take_part_in row on
 * its shard (the row id in base 36, then `:` and the shard unless it is the home one).
 */
export async function fanLink(
  { config, shard }: { config: { sessionSecret: string; publicBaseUrl: string }; shard: string },
  page: FanPage,
  rowId: number,
  now: number,
): Promise<string> {
  const row = `${rowId.toString(36)}${shard === HOME_SHARD ? '' : `:${shard}`}`;
  return `${config.publicBaseUrl}/h5/${page}?t=${await signToken(config.sessionSecret, page, row, now + FAN_LINK_TTL_MS)}`;
}

const ROW = /^([0-9a-z]{1,12})(?::(DB_SHARD_[A-Z0-9_]+))?$/;

/** The row and shard a verified link payload names, or null for any other payload. */
export function fanLinkRow(payload: string): { rowId: number; shard: string } | null {
  const m = ROW.exec(payload);
  return m ? { rowId: parseInt(m[1], 36), shard: m[2] ?? HOME_SHARD } : null;
}
