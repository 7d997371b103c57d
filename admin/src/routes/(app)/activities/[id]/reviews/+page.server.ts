import { fail } from '@sveltejs/kit';
import { api, load as apiLoad, call } from '$lib/server/api';
import { text } from '$lib/server/forms';
import { id, oneOf } from '$lib/server/query';
import type { Actions, PageServerLoad } from './$types';

const STATUSES = ['flagged', 'approved', 'voided'] as const;

function idOf(params: { id: string }) {
  const n = Number(params.id);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

export const load = (async (event) => {
  const activityId = idOf(event.params);
  const status = oneOf(event.url, 'status', STATUSES) ?? 'flagged';
  const before = id(event.url, 'before');
  const client = api(event);
  const [activity, reviews] = await Promise.all([
    apiLoad(event, client.GET('/activities/{id}', { params: { path: { id: activityId } } })),
    apiLoad(event, client.GET('/activities/{id}/reviews', { params: { path: { id: activityId }, query: { status, ...(before ? { before } : {}) } } })),
  ]);
  return { activity, reviews, status };
}) satisfies PageServerLoad;

export const actions = {
  decide: async (event) => {
    const form = await event.request.formData();
    const posterId = Number(text(form, 'poster'));
    const action = text(form, 'action') === 'void' ? 'void' : 'approve';
    const blacklist = { owner: form.get('blacklist_owner') === 'on', helpers: form.get('blacklist_helpers') === 'on' };
    const r = await call(
      event,
      api(event).POST('/activities/{id}/reviews/{posterId}', { params: { path: { id: idOf(event.params), posterId } }, body: { action, blacklist } }),
    );
    if (!r.ok) return fail(r.status, { poster: posterId, message: r.message });
    const d = r.data;
    if (!d.changed) return { poster: posterId, done: '这张海报已经处理过了，没有重复生效。' };
    if (d.status === 'approved') {
      return {
        poster: posterId,
        done: `已通过：${d.counted} 次助力已按顺序计入${d.waiting ? `，${d.waiting} 次等待关注时长` : ''}${d.dropped ? `，${d.dropped} 次因好友已取关不计` : ''}，已通知海报主人。`,
      };
    }
    return { poster: posterId, done: `已作废 ${d.dropped} 次暂停的助力${d.blacklisted ? `，拉黑 ${d.blacklisted} 人` : ''}，已通知海报主人。` };
  },
} satisfies Actions;
