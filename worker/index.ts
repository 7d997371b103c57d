import { createApp } from './app';
import { sendReminders } from './campaign/reminders';
import { eraseExpiredContacts } from './campaign/winners';
import { allShards } from './db/shards';
import { deliverBatch } from './messaging/delivery';
import type { MessageBundle } from './messaging/outbox';
import { purgeExpired } from './platform/housekeeping';
import { createServices } from './services';

export { ActivityCounter } from './campaign/counter/activity-counter';
export { PlatformTokens } from './platform/tokens';

const app = createApp();

export default {
  fetch: app.fetch,
  queue: (batch, env) => deliverBatch(createServices(env), batch as MessageBatch<MessageBundle>),
  // Hourly, on every shard: housekeeping, the activities' reminders (each participant's once), and winners' contacts past keeping.
  scheduled: async (_controller, env) => {
    for (const shard of allShards(env)) {
      const services = createServices(env, shard);
      await purgeExpired(services.db);
      await sendReminders(services);
      await eraseExpiredContacts(services.db, Date.now());
    }
  },
} satisfies ExportedHandler<Env, MessageBundle>;
