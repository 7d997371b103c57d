import { fail, redirect } from '@sveltejs/kit';
import { api, load as apiLoad, call } from '$lib/server/api';
import { text } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

const idOf = (params: { id: string }) => (/^\d+$/.test(params.id) ? Number(params.id) : 0);

export const load = (async (event) => {
  const promo = await apiLoad(event, api(event).GET('/promos/{id}', { params: { path: { id: idOf(event.params) } } }));
  const q = event.url.searchParams;
  return { promo, created: q.has('created'), renamed: q.has('renamed'), confirmDelete: q.has('delete') };
}) satisfies PageServerLoad;

export const actions = {
  rename: async (event) => {
    const name = text(await event.request.formData(), 'name');
    const r = await call(event, api(event).PATCH('/promos/{id}', { params: { path: { id: idOf(event.params) } }, body: { name } }));
    if (!r.ok) return fail(r.status, { rename: { name, error: r.fields.name ?? r.message } });
    redirect(303, `/promos/${idOf(event.params)}?renamed=1`);
  },
  delete: async (event) => {
    const form = await event.request.formData();
    const r = await call(event, api(event).DELETE('/promos/{id}', { params: { path: { id: idOf(event.params) } } }));
    if (!r.ok) return fail(r.status, { deleteError: `删除失败：${r.message}` });
    redirect(303, `/promos?deleted=${encodeURIComponent(String(form.get('name') ?? ''))}`);
  },
} satisfies Actions;
