import { api, load as apiLoad, loginRedirect, SESSION_COOKIE } from '$lib/server/api';
import type { LayoutServerLoad } from './$types';

/** Every console page is behind the session: no cookie, or one the API rejects, means log in. */
export const load = (async (event) => {
  if (!event.cookies.get(SESSION_COOKIE)) loginRedirect(event);
  const user = await apiLoad(event, api(event).GET('/session'));
  return { user: { id: user.id, username: user.username } };
}) satisfies LayoutServerLoad;
