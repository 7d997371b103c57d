import { createApp } from './app';
import { eraseExpiredContacts } from './campaign/winners';
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
  scheduled: async (_controller, env) => {
    const { db } = createServices(env);
    await purgeExpired(db);
    await eraseExpiredContacts(db, Date.now());
  },
} satisfies ExportedHandler<Env, MessageBundle>;
