import { startStack } from './stack';

/**
 * Starts worker + sandbox + admin once for the run; the tests find them through E2E_* variables
 * (Playwright starts its test workers after this, with this process's environment).
 */
export default async function globalSetup() {
  const stack = await startStack();
  process.env.E2E_ADMIN_URL = stack.adminUrl;
  process.env.E2E_WORKER_URL = stack.workerUrl;
  process.env.E2E_SANDBOX_URL = stack.sandboxUrl;
  return () => stack.stop();
}
