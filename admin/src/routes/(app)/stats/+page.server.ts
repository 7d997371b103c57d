import { api, load as apiLoad } from '$lib/server/api';
import { id } from '$lib/server/query';
import type { PageServerLoad } from './$types';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Statistics of one activity: its last 7 or 30 days (never before it began), or a from–to range
 * (Beijing dates). Deleted activities stay selectable: their records are kept.
 */
export const load = (async (event) => {
  const { url } = event;
  const client = api(event);
  const { items } = await apiLoad(event, client.GET('/activities', { params: { query: { page_size: 100, include_deleted: 'true' } } }));
  const activities = items.map((a) => ({ id: a.id, name: a.name, status: a.status, deleted: a.deleted }));
  const chosen = id(url, 'activity') ?? (activities.find((a) => !a.deleted) ?? activities[0])?.id;
  const from = url.searchParams.get('from') ?? '';
  const to = url.searchParams.get('to') ?? '';
  const range = DAY.test(from) && DAY.test(to) ? { from, to } : null;
  const days = url.searchParams.get('days') === '30' ? 30 : 7;
  if (!chosen) return { activities, activity: null, stats: null, range, days };
  const listed = items.find((a) => a.id === chosen);
  const [activity, stats] = await Promise.all([
    listed ?? apiLoad(event, client.GET('/activities/{id}', { params: { path: { id: chosen } } })),
    apiLoad(event, client.GET('/activities/{id}/stats', { params: { path: { id: chosen }, query: range ?? { days } } })),
  ]);
  return { activities, activity, stats, range, days };
}) satisfies PageServerLoad;
