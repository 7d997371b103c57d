import { fanLink } from './fan-links';
import { type NoticeVars, renderNotice, renderTemplateData, SOLD_OUT_TEXT, sceneText, type TemplateBinding, usesVariable } from './notices';
import type { Notice } from './outbox';
import type { ReachSettings } from './reach-settings';

/** A notice's words before its variables are filled: the scene's text and template, as the activity has them. */
export interface Wording {
  text: string;
  template: TemplateBinding | null;
}

/** Who helped, when WeChat does not tell (it gives nicknames only to fans who open a page). */
const SOMEONE = '一位好友';
/** A poster owner whose nickname is not known yet. */
const FRIEND = '好友';

export function wordingOf(n: Notice, s: ReachSettings): Wording {
  if (n.soldOut) return { text: SOLD_OUT_TEXT, template: null };
  if (n.text !== undefined) return { text: n.text, template: null };
  return { text: sceneText(s.notices, n.scene), template: s.notices[n.scene]?.template ?? null };
}

/** The variables of a wording that cost a query (nickname, rank) or a signature (links) to fill. */
export function needsOf(w: Wording) {
  const texts = [w.text, ...Object.values(w.template?.data ?? {})];
  const uses = (name: Parameters<typeof usesVariable>[1]) => texts.some((t) => usesVariable(t, name));
  return {
    nickname: uses('nickname'),
    rank: uses('rank'),
    progress: uses('progress_url') || w.template?.url === 'progress',
    claim: uses('claim_url') || w.template?.url === 'claim',
  };
}

/** What a notice needs from D1 beyond the activity: the owner's nickname and rank, where the wording uses them. */
export interface Looked {
  nickname?: string | null;
  rank?: number;
}

/** A notice's words filled in: the customer-service text, and the template message if the scene has one. */
export interface Rendered {
  text: string;
  template: { template_id: string; url?: string; data: Record<string, { value: string }> } | null;
}

/** Fills a notice's wording with the producer's variables, the activity's, and what was looked up (links signed only when used). */
export async function renderWording(
  links: { config: { sessionSecret: string; publicBaseUrl: string }; shard: string },
  n: Notice,
  s: ReachSettings,
  w: Wording,
  looked: Looked,
  now: number,
): Promise<Rendered> {
  const needs = needsOf(w);
  const link = (page: 'progress' | 'claim', needed: boolean) => (needed ? fanLink(links, page, n.rowId, now) : undefined);
  const [progress, claim] = await Promise.all([link('progress', needs.progress), link('claim', needs.claim)]);
  const vars: NoticeVars = {
    activity: s.name,
    rule: s.rule,
    keyword: s.keyword,
    end_time: s.endText,
    friend: SOMEONE,
    ...n.vars,
    nickname: looked.nickname || FRIEND,
    rank: looked.rank,
    progress_url: progress,
    claim_url: claim,
  };
  const t = w.template;
  return {
    text: renderNotice(w.text, vars),
    template: t && { template_id: t.template_id, url: t.url && (t.url === 'progress' ? progress : claim), data: renderTemplateData(t, vars) },
  };
}
