import { sql } from 'drizzle-orm';

/** Column default: the current time in UTC epoch milliseconds. */
export const nowMs = sql`(unixepoch('subsec') * 1000)`;
