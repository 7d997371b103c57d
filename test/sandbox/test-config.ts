/**
 * Fixed port of the sandbox the test run starts (dev uses 8788, so both can run at once);
 * `SANDBOX_TEST_PORT` moves it, so two checkouts can run their suites side by side.
 */
export const SANDBOX_TEST_PORT = Number(process.env.SANDBOX_TEST_PORT) || 18788;

/** Component credentials shared by the worker under test and the sandbox. */
export const TEST_SECRETS = {
  WECHAT_COMPONENT_APPID: 'wx0000000000component',
  WECHAT_COMPONENT_SECRET: 'sandbox-component-secret',
  WECHAT_COMPONENT_TOKEN: 'sandboxtoken',
  WECHAT_COMPONENT_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  SESSION_SECRET: 'test-session-secret-0123456789abcdef0123456789',
  ADMIN_API_SECRET: 'test-admin-api-secret-0123456789abcdef0123456789',
} as const;
