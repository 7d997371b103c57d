import { fail, redirect } from '@sveltejs/kit';
import { api, load as apiLoad, call } from '$lib/server/api';
import type { Actions, PageServerLoad } from './$types';

export const load = (async (event) => {
  const { items } = await apiLoad(event, api(event).GET('/accounts'));
  return { accounts: items, authorized: event.url.searchParams.get('authorized'), welcome: event.url.searchParams.has('welcome') };
}) satisfies PageServerLoad;

export const actions = {
  /** "授权公众号": WeChat's authorization page, which comes back to /accounts?authorized=<appid>. */
  authorize: async (event) => {
    const r = await call(event, api(event).POST('/accounts/authorize'));
    if (!r.ok) return fail(r.status, { message: `无法打开授权页：${r.message}` });
    const mobile = /Mobile|Android|iPhone|iPad/i.test(event.request.headers.get('user-agent') ?? '');
    redirect(303, mobile ? r.data.mobile_url : r.data.url);
  },
} satisfies Actions;
