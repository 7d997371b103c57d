import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { userInfo } from './platform';

// The directory of shards, kept in the home database (binding DB) only: which D1 database holds
// each operator's data, and each authorized account's. An operator or account without a row is
// in the home database (so was everything before shards existed). See worker/platform/directory.ts.

/** The database of each operator's campaigns, accounts, fans and messages. */
export const operatorShard = sqliteTable('operator_shard', {
  userId: integer('user_id')
    .primaryKey()
    .references(() => userInfo.id, { onDelete: 'cascade' }),
  shard: text('shard').notNull(),
});

/** The database of each authorized account's pushes (the shard of the operator who authorized it). */
export const accountShard = sqliteTable(
  'account_shard',
  {
    appid: text('appid').primaryKey(),
    shard: text('shard').notNull(),
    userId: integer('user_id').notNull(),
  },
  (t) => [index('account_shard_user').on(t.userId)],
);
