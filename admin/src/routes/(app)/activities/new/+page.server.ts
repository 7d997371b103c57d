import { redirect } from '@sveltejs/kit';
import { newActivityValues } from '$lib/activity-form';
import { activityBody, formFailure, readActivityForm, uploadPostedBackground } from '$lib/server/activity-form';
import { api, load as apiLoad, call } from '$lib/server/api';
import { templateChoices } from '$lib/server/templates';
import type { Actions, PageServerLoad } from './$types';

export const load = (async (event) => {
  const { items } = await apiLoad(event, api(event).GET('/accounts'));
  // With a single authorized account there is nothing to choose: it starts ticked.
  const authorized = items.filter((a) => a.authorized);
  return {
    accounts: items,
    values: { ...newActivityValues(), publics: authorized.length === 1 ? [authorized[0].appid] : [] },
    templates: await templateChoices(event, items),
  };
}) satisfies PageServerLoad;

export const actions = {
  default: async (event) => {
    const form = await event.request.formData();
    const values = readActivityForm(form);
    const uploadErrors = await uploadPostedBackground(event, form, values);
    const { body, rows, errors } = activityBody(values);
    // The API is asked even when the form found problems, so every field's error shows at once.
    const r = await call(event, api(event).POST('/activities', { body }));
    if (!r.ok) return formFailure(values, r, rows, { ...errors, ...uploadErrors });
    redirect(303, `/activities?created=${encodeURIComponent(r.data.name)}`);
  },
} satisfies Actions;
