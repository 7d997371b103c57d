import { redirect } from '@sveltejs/kit';
import { api, clearSession, SESSION_COOKIE } from '$lib/server/api';
import type { Actions, PageServerLoad } from './$types';

// Logging out changes state, so it is a POST (the nav's form); a stray GET just goes home.
export const load = (() => redirect(303, '/activities')) satisfies PageServerLoad;

export const actions = {
  default: async (event) => {
    if (event.cookies.get(SESSION_COOKIE)) {
      // The session is gone locally either way; a failed API call must not keep the operator in.
      await api(event)
        .DELETE('/session')
        .catch((e) => console.error('logout failed at the API:', e));
    }
    clearSession(event.cookies);
    redirect(303, '/login');
  },
} satisfies Actions;
