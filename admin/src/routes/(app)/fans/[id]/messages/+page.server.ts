import { api, load as apiLoad } from '$lib/server/api';
import { str } from '$lib/server/query';
import type { PageServerLoad } from './$types';

export const load = (async (event) => {
  const id = Number(event.params.id);
  const cursor = str(event.url, 'cursor', 20);
  const messages = await apiLoad(
    event,
    api(event).GET('/fans/{id}/messages', { params: { path: { id }, query: { ...(cursor && /^\d+$/.test(cursor) ? { cursor } : {}), page_size: 50 } } }),
  );
  return { messages };
}) satisfies PageServerLoad;
