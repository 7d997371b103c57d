import { fail } from '@sveltejs/kit';
import { api, load as apiLoad, call } from '$lib/server/api';
import { id, oneOf, pageOf, str } from '$lib/server/query';
import type { Actions, PageServerLoad } from './$types';

const PAGE_SIZE = 20;

/** The filters of PRODUCT §2.7, read from the URL; the same set drives the list and the CSV export. */
function filtersOf(url: URL) {
  const progress = oneOf(url, 'progress', ['0', '1', '2', '3'] as const);
  return {
    activity: id(url, 'activity'),
    account: str(url, 'account'),
    promo: id(url, 'promo'),
    origin: oneOf(url, 'origin', ['poster', 'promo', 'other'] as const),
    following: oneOf(url, 'following', ['true', 'false'] as const),
    black: oneOf(url, 'black', ['true', 'false'] as const),
    progress: progress === undefined ? undefined : Number(progress),
    q: str(url, 'q'),
  };
}

export const load = (async (event) => {
  const filters = filtersOf(event.url);
  // Deep pages come by the API's cursor (each as fast as the first); a page number only jumps near the top.
  const cursor = str(event.url, 'cursor');
  const client = api(event);
  // The filter menus list the operator's activities (deleted ones too: their fans are kept) and
  // promo codes, the 100 newest of each.
  const [fans, accounts, activities, promos] = await Promise.all([
    apiLoad(event, client.GET('/fans', { params: { query: { ...filters, ...(cursor ? { cursor } : { page: pageOf(event.url) }), page_size: PAGE_SIZE } } })),
    apiLoad(event, client.GET('/accounts')),
    apiLoad(event, client.GET('/activities', { params: { query: { page_size: 100, include_deleted: 'true' } } })),
    apiLoad(event, client.GET('/promos', { params: { query: { page_size: 100 } } })),
  ]);
  const exportQuery = new URLSearchParams(Object.entries(filters).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]])));
  return {
    fans,
    filters,
    accounts: accounts.items,
    activities: activities.items.map((a) => ({ id: a.id, name: a.name, deleted: a.deleted })),
    // The chosen activity's figures, to say what the list holds.
    activity: activities.items.find((a) => a.id === filters.activity) ?? null,
    promos: promos.items.map((p) => ({ id: p.id, name: p.name })),
    exportHref: `/api/fans/export${exportQuery.size ? `?${exportQuery}` : ''}`,
  };
}) satisfies PageServerLoad;

/** The ticked fans: checkboxes post `ids` once each; the confirmation step posts them back as one comma list. */
function idsOf(form: FormData): number[] {
  return form
    .getAll('ids')
    .flatMap((v) => String(v).split(','))
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

export const actions = {
  blacklist: async (event) => {
    const form = await event.request.formData();
    const ids = idsOf(form);
    const black = form.get('black') === 'true';
    if (!ids.length) return fail(400, { message: '请先勾选要操作的粉丝' });
    // Blacklisting bars fans from the activity at once: ask first, as deleting does.
    if (black && form.get('confirmed') !== 'yes') return { confirm: { ids } };
    const r = await call(event, api(event).POST('/fans/blacklist', { body: { ids, black } }));
    if (!r.ok) return fail(r.status, { message: `操作失败：${r.message}` });
    return { done: black ? `已将 ${r.data.updated} 位粉丝加入黑名单，他们将不能参与活动和助力。` : `已将 ${r.data.updated} 位粉丝移出黑名单。` };
  },
} satisfies Actions;
