import { createApp } from './app';
import { createDb } from './db/client';
import { deliverBatch, type MessageBundle } from './messaging/outbox';
import { purgeExpired } from './platform/housekeeping';

export { PlatformTokens } from './platform/tokens';
export { ActivityCounter } from './campaign/counter/activity-counter';

const app = createApp();

export default {
  fetch: app.fetch,
  queue: (batch, env) => deliverBatch(env, batch as MessageBatch<MessageBundle>),
  scheduled: async (_controller, env) => purgeExpired(createDb(env.DB)),
} satisfies ExportedHandler<Env, MessageBundle>;
