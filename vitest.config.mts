import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { SANDBOX_TEST_PORT, TEST_SECRETS } from './test/sandbox/test-config.ts';

const sandbox = `http://127.0.0.1:${SANDBOX_TEST_PORT}`;

export default defineConfig(async () => ({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
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
    include: ['test/worker/**/*.test.ts'],
    globalSetup: ['./test/sandbox/global-setup.ts'],
    setupFiles: ['./test/worker/apply-migrations.ts'],
    // The first Durable Object call of a run takes seconds in workerd.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
  },
}));
