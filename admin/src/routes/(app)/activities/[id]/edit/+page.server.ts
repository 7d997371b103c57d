import { fail, redirect } from '@sveltejs/kit';
import { activityValues } from '$lib/activity-form';
import { activityBody, formFailure, readActivityForm, startedPatch, uploadPostedBackground } from '$lib/server/activity-form';
import { api, load as apiLoad, call } from '$lib/server/api';
import { templateChoices } from '$lib/server/templates';
import type { Actions, PageServerLoad } from './$types';

function idOf(params: { id: string }) {
  const id = Number(params.id);
  return Number.isInteger(id) && id > 0 ? id : 0;
}

export const load = (async (event) => {
  const client = api(event);
  const [activity, accounts] = await Promise.all([
    apiLoad(event, client.GET('/activities/{id}', { params: { path: { id: idOf(event.params) } } })),
    apiLoad(event, client.GET('/accounts')),
  ]);
  return {
    activity,
    accounts: accounts.items,
    values: activityValues(activity),
    templates: await templateChoices(event, accounts.items),
    saved: event.url.searchParams.has('saved'),
  };
}) satisfies PageServerLoad;

export const actions = {
  default: async (event) => {
    const id = idOf(event.params);
    const client = api(event);
    const current = await call(event, client.GET('/activities/{id}', { params: { path: { id } } }));
    if (!current.ok) return fail(current.status, { values: null, errors: {}, message: current.message });
    const form = await event.request.formData();
    const values = readActivityForm(form);
    const started = current.data.status !== 'pending';
    if (started) {
      const patch = startedPatch(values, current.data);
      const r = await call(event, client.PATCH('/activities/{id}', { params: { path: { id } }, body: patch.body }));
      if (!r.ok) return formFailure(patch.values, r, patch.rows, patch.errors);
    } else {
      const uploadErrors = await uploadPostedBackground(event, form, values);
      const { body, rows, errors } = activityBody(values);
      const r = await call(event, client.PATCH('/activities/{id}', { params: { path: { id } }, body }));
      if (!r.ok) return formFailure(values, r, rows, { ...errors, ...uploadErrors });
    }
    redirect(303, `/activities/${id}/edit?saved=1`);
  },
} satisfies Actions;
