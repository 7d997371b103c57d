import { fail, redirect } from '@sveltejs/kit';
import type { Promo } from '$lib/api/types';
import { api, load as apiLoad, call } from '$lib/server/api';
import { text } from '$lib/server/forms';
import { id, pageOf, str } from '$lib/server/query';
import { backTo } from '$lib/url';
import type { Actions, PageServerLoad } from './$types';

const PAGE_SIZE = 20;

export const load = (async (event) => {
  const { url } = event;
  const filters = { q: str(url, 'q', 32), account: str(url, 'account') };
  const client = api(event);
  const [list, accounts] = await Promise.all([
    apiLoad(event, client.GET('/promos', { params: { query: { ...filters, page: pageOf(url), page_size: PAGE_SIZE } } })),
    apiLoad(event, client.GET('/accounts')),
  ]);
  return { list, accounts: accounts.items, filters, toDelete: await confirming(event, list.items), deleted: url.searchParams.get('deleted') };
}) satisfies PageServerLoad;

/** The promo code a `?delete=<id>` link asks to confirm: one of the operator's own, else no dialog. */
async function confirming(event: Parameters<PageServerLoad>[0], shown: Promo[]): Promise<Pick<Promo, 'id' | 'name'> | null> {
  const deleting = id(event.url, 'delete');
  if (!deleting) return null;
  const onPage = shown.find((p) => p.id === deleting);
  if (onPage) return onPage;
  const r = await call(event, api(event).GET('/promos/{id}', { params: { path: { id: deleting } } }));
  return r.ok ? r.data : null;
}

export const actions = {
  create: async (event) => {
    const form = await event.request.formData();
    const values = { name: text(form, 'name'), account: text(form, 'account') };
    const r = await call(event, api(event).POST('/promos', { body: values }));
    if (!r.ok) return fail(r.status, { create: { values, errors: r.fields, message: r.message } });
    redirect(303, `/promos/${r.data.id}?created=1`);
  },
  delete: async (event) => {
    const form = await event.request.formData();
    const r = await call(event, api(event).DELETE('/promos/{id}', { params: { path: { id: Number(form.get('id')) } } }));
    if (!r.ok) return fail(r.status, { deleteError: `删除失败：${r.message}` });
    redirect(303, backTo(event.url, ['delete', 'page'], { deleted: String(form.get('name') ?? '') }));
  },
} satisfies Actions;
