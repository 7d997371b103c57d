import { startSandbox } from './server';
import { SANDBOX_TEST_PORT, TEST_SECRETS } from './test-config';

/** Starts the WeChat sandbox on loopback for the whole test run. */
export default async function setup() {
  const sandbox = startSandbox({
    port: SANDBOX_TEST_PORT,
    componentAppid: TEST_SECRETS.WECHAT_COMPONENT_APPID,
    componentSecret: TEST_SECRETS.WECHAT_COMPONENT_SECRET,
    componentToken: TEST_SECRETS.WECHAT_COMPONENT_TOKEN,
    aesKey: TEST_SECRETS.WECHAT_COMPONENT_AES_KEY,
  });
  return () => sandbox.close();
}
