import { fail, redirect } from '@sveltejs/kit';
import type { Activity } from '$lib/api/types';
import { api, load as apiLoad, call } from '$lib/server/api';
import { id, oneOf, pageOf, str } from '$lib/server/query';
import { backTo } from '$lib/url';
import type { Actions, PageServerLoad } from './$types';

const PAGE_SIZE = 20;

export const load = (async (event) => {
  const { url } = event;
  const filters = {
    status: oneOf(url, 'status', ['pending', 'running', 'ended'] as const),
    account: str(url, 'account'),
    q: str(url, 'q', 32),
  };
  const client = api(event);
  const [list, accounts] = await Promise.all([
    apiLoad(event, client.GET('/activities', { params: { query: { ...filters, page: pageOf(url), page_size: PAGE_SIZE } } })),
    apiLoad(event, client.GET('/accounts')),
  ]);
  return {
    list,
    accounts: accounts.items,
    filters,
    toDelete: await confirming(event, list.items),
    deleted: url.searchParams.get('deleted'),
    created: url.searchParams.get('created'),
  };
}) satisfies PageServerLoad;

/** The activity a `?delete=<id>` link asks to confirm: one of the operator's own, else no dialog. */
async function confirming(event: Parameters<PageServerLoad>[0], shown: Activity[]): Promise<Activity | null> {
  const deleting = id(event.url, 'delete');
  if (!deleting) return null;
  const onPage = shown.find((a) => a.id === deleting);
  if (onPage) return onPage;
  const r = await call(event, api(event).GET('/activities/{id}', { params: { path: { id: deleting } } }));
  return r.ok ? r.data : null;
}

export const actions = {
  delete: async (event) => {
    const form = await event.request.formData();
    const activityId = Number(form.get('id'));
    const name = String(form.get('name') ?? '');
    const r = await call(event, api(event).DELETE('/activities/{id}', { params: { path: { id: activityId } } }));
    if (!r.ok) return fail(r.status, { message: `删除失败：${r.message}` });
    redirect(303, backTo(event.url, ['delete', 'page'], { deleted: name }));
  },
} satisfies Actions;
