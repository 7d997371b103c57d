/**
 * What an operator does on WeChat's authorization page (the sandbox's): picks an account to
 * authorize. Returns where WeChat sends the browser next — the worker's `/wechat/authorized` with
 * the request id and `auth_code`.
 */
export async function pickAccount(authorizationPageUrl: string, appid: string): Promise<string> {
  const page = new URL(authorizationPageUrl);
  const back = await fetch(`${page.origin}/sandbox/authorize`, {
    method: 'POST',
    body: new URLSearchParams({ pre_auth_code: page.searchParams.get('pre_auth_code')!, redirect_uri: page.searchParams.get('redirect_uri')!, appid }),
    redirect: 'manual',
  });
  const location = back.headers.get('location');
  if (back.status !== 302 || !location) throw new Error(`the sandbox's authorization page answered ${back.status}: ${await back.text()}`);
  return location;
}
