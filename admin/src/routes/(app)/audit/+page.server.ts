import { AUDIT_ACTIONS } from '$lib/format';
import { api, load as apiLoad } from '$lib/server/api';
import { id, oneOf } from '$lib/server/query';
import type { PageServerLoad } from './$types';

const ACTIONS = Object.keys(AUDIT_ACTIONS) as (keyof typeof AUDIT_ACTIONS)[];

/** The operator's audit log, filtered by activity and action, newest first. */
export const load = (async (event) => {
  const filters = { activity: id(event.url, 'activity'), action: oneOf(event.url, 'action', ACTIONS) };
  const before = id(event.url, 'before');
  const client = api(event);
  const [log, activities] = await Promise.all([
    apiLoad(event, client.GET('/audit', { params: { query: { ...filters, ...(before ? { before } : {}) } } })),
    apiLoad(event, client.GET('/activities', { params: { query: { page_size: 100 } } })),
  ]);
  return { log, filters, activities: activities.items.map((a) => ({ id: a.id, name: a.name })) };
}) satisfies PageServerLoad;
