import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';

// Idempotent: each test file's isolate applies whatever migrations its storage lacks.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
