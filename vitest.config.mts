import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { SANDBOX_TEST_PORT, TEST_SECRETS } from './test/sandbox/test-config.ts';

const sandbox = `http://127.0.0.1:${SANDBOX_TEST_PORT}`;

/**
 * Two projects: `unit` runs the pure campaign rules in plain Node; `worker` runs everything else
 * inside workerd against the real routes, Durable Objects and the WeChat sandbox.
 */
export default defineConfig(async () => ({
  test: {
    maxWorkers: 2,
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' } },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              // A second shard beside the home database (binding DB), for test/worker/shards.test.ts.
              d1Databases: { DB_SHARD_2: 'task-treasure-shard-2' },
              bindings: {
                ...TEST_SECRETS,
                WECHAT_API_BASE: sandbox,
                WECHAT_OPEN_BASE: sandbox,
                WECHAT_MP_BASE: sandbox,
                PUBLIC_BASE_URL: 'https://mtb.example.test',
                SANDBOX_URL: sandbox,
                TEST_MIGRATIONS: await readD1Migrations('./migrations'),
              },
            },
          }),
        ],
        test: {
          name: 'worker',
          include: ['test/worker/**/*.test.ts'],
          globalSetup: ['./test/sandbox/global-setup.ts'],
          setupFiles: ['./test/worker/apply-migrations.ts'],
          // The first Durable Object call of a run takes seconds in workerd.
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
}));
