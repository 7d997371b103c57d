import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';

// Idempotent: each test file's isolate applies whatever migrations its storage lacks, on the
// home database and on the second shard.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
await applyD1Migrations(env.DB_SHARD_2, env.TEST_MIGRATIONS);
