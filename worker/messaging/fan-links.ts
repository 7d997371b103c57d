import { signRowToken } from '../lib/signed-token';

/** The fans' own pages, each reached by a link signed for one fan in one activity. */
export type FanPage = 'progress' | 'claim';

/** Links in notices outlive the campaign: a winner may claim weeks after the end. */
export const FAN_LINK_TTL_MS = 180 * 24 * 3600_000;

/** A fan's page link: `/h5/progress?t=…` or `/h5/claim?t=…`, signed for their take_part_in row. */
export async function fanLink(config: { sessionSecret: string; publicBaseUrl: string }, page: FanPage, rowId: number, now: number): Promise<string> {
  return `${config.publicBaseUrl}/h5/${page}?t=${await signRowToken(config.sessionSecret, page, rowId, now + FAN_LINK_TTL_MS)}`;
}
