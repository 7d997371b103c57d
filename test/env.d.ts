import type { D1Migration } from 'cloudflare:test';

// Bindings that exist only in the test pool (vitest.config.mts).
declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      SANDBOX_URL: string;
      DB_SHARD_2: D1Database;
    }
  }
}
