import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { nowMs } from './now';
import { userInfo } from './platform';

/** Poster backgrounds an operator uploaded (bytes in R2 UPLOADS under `key`). */
export const uploads = sqliteTable(
  'uploads',
  {
    key: text('key').primaryKey(),
    mtbUserId: integer('mtb_user_id')
      .notNull()
      .references(() => userInfo.id, { onDelete: 'cascade' }),
    contentType: text('content_type').notNull(),
    size: integer('size').notNull(),
    width: integer('width').notNull(),
    height: integer('height').notNull(),
    createdAt: integer('created_at').notNull().default(nowMs),
  },
  (t) => [index('uploads_user').on(t.mtbUserId)],
);
