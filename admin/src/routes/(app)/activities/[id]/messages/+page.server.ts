import { CHANNEL_OPTIONS, SCENE_OPTIONS, STATUS_OPTIONS, valuesOf } from '$lib/messages';
import { api, load as apiLoad } from '$lib/server/api';
import { oneOf, str } from '$lib/server/query';
import type { PageServerLoad } from './$types';

export const load = (async (event) => {
  const id = Number(event.params.id);
  const url = event.url;
  const filters = {
    channel: oneOf(url, 'channel', valuesOf(CHANNEL_OPTIONS)),
    status: oneOf(url, 'status', valuesOf(STATUS_OPTIONS)),
    scene: oneOf(url, 'scene', valuesOf(SCENE_OPTIONS)),
    open_id: str(url, 'open_id'),
  };
  const cursor = str(url, 'cursor', 20);
  const client = api(event);
  const [activity, messages] = await Promise.all([
    apiLoad(event, client.GET('/activities/{id}', { params: { path: { id } } })),
    apiLoad(
      event,
      client.GET('/activities/{id}/messages', {
        params: { path: { id }, query: { ...filters, ...(cursor && /^\d+$/.test(cursor) ? { cursor } : {}), page_size: 50 } },
      }),
    ),
  ]);
  return { activity, messages, filters };
}) satisfies PageServerLoad;
