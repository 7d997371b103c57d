import { fail, redirect } from '@sveltejs/kit';
import { api, call, SESSION_COOKIE, setSession } from '$lib/server/api';
import { safeNext, text } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load = (async ({ cookies }) => {
  if (cookies.get(SESSION_COOKIE)) redirect(303, '/activities');
}) satisfies PageServerLoad;

export const actions = {
  default: async (event) => {
    const form = await event.request.formData();
    const username = text(form, 'username');
    const password = form.get('password')?.toString() ?? '';
    const confirm = form.get('confirm')?.toString() ?? '';
    if (password !== confirm) {
      return fail(400, { username, message: '两次输入的密码不一致', fields: { confirm: '两次输入的密码不一致' } as Record<string, string> });
    }
    const r = await call(event, api(event).POST('/users', { body: { username, password } }), { loginOn401: false });
    if (!r.ok) return fail(r.status, { username, message: r.message, fields: r.fields });
    // Registration signs the operator in; their first step is authorizing an account.
    setSession(event.cookies, r.data.token ?? '');
    redirect(303, event.url.searchParams.has('next') ? safeNext(event.url.searchParams.get('next')) : '/accounts?welcome=1');
  },
} satisfies Actions;
