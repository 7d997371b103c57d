import { redirect } from '@sveltejs/kit';
import type { PageServerLoad } from './$types';

/** The console opens on the operator's campaigns. */
export const load = (() => redirect(307, '/activities')) satisfies PageServerLoad;
