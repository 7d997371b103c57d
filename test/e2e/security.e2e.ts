/**
 * The stack's defences seen from outside, as a browser or WeChat meets them (the admin under
 * vite, the worker under wrangler dev): where a login sends the browser, whose address a login is
 * counted against, the console's headers, and what an oversized push leaves behind.
 */
import { request } from 'node:http';
import { expect, test } from '@playwright/test';
import { cspDirectives } from '../csp';

const admin = process.env.E2E_ADMIN_URL!;
const workerUrl = process.env.E2E_WORKER_URL!;
const PASSWORD = 'e2e-password-123';

interface Answer {
  status: number;
  location: string | null;
  cookie: string | null;
  body: string;
}

/**
 * One request to the admin from `localAddress` (any 127.x address is this machine's loopback), as
 * a browser without JavaScript makes it: a form post (with its Origin, as browsers send) or a GET.
 */
function fromBrowserAt(localAddress: string, path: string, init: { form?: Record<string, string>; cookie?: string } = {}): Promise<Answer> {
  const body = init.form ? new URLSearchParams(init.form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      `${admin}${path}`,
      {
        method: body ? 'POST' : 'GET',
        localAddress,
        headers: {
          accept: 'text/html,application/xhtml+xml',
          ...(body ? { 'content-type': 'application/x-www-form-urlencoded', origin: admin } : {}),
          ...(init.cookie ? { cookie: init.cookie } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            location: res.headers.location ?? null,
            cookie: res.headers['set-cookie']?.[0]?.split(';')[0] ?? null,
            body: text,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const logIn = (path: string, username: string, password: string, localAddress = '127.0.0.1') =>
  fromBrowserAt(localAddress, path, { form: { username, password } });

const sameOrigin = (location: string | null) => new URL(location ?? '', admin).origin === new URL(admin).origin;

async function newOperator(): Promise<string> {
  const username = `sec${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const res = await fetch(`${workerUrl}/api/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  expect(res.status).toBe(201);
  return username;
}

test('after logging in or registering, next= only ever leads to a page of the console', async () => {
  const username = await newOperator();
  // The probe's URL as it was typed (/%5C is a backslash), then the same idea in other spellings.
  const hostile = ['/login?next=/%5Cevil.example'].concat(
    ['/\\evil.example', '//evil.example', '/\t/evil.example', '/.//evil.example', 'https://evil.example', '/\\/evil.example'].map(
      (next) => `/login?next=${encodeURIComponent(next)}`,
    ),
  );
  let cookie = '';
  for (const path of hostile) {
    const res = await logIn(path, username, PASSWORD);
    expect(res.status, path).toBe(303);
    expect(sameOrigin(res.location), `${path} → ${res.location}`).toBe(true);
    cookie = res.cookie ?? cookie;
  }
  // Already logged in, the login page sends the browser on at once: the same rule.
  for (const path of hostile) {
    const res = await fromBrowserAt('127.0.0.1', path, { cookie });
    expect(res.status, path).toBe(303);
    expect(sameOrigin(res.location), `${path} → ${res.location}`).toBe(true);
  }
  expect((await logIn('/login?next=%2Ffans%3Factivity%3D1', username, PASSWORD)).location).toBe('/fans?activity=1');

  const registered = await fromBrowserAt('127.0.0.1', '/register?next=/%5Cevil.example', {
    form: { username: `sec${Date.now().toString(36)}`, password: PASSWORD, confirm: PASSWORD },
  });
  expect(registered.status).toBe(303);
  expect(sameOrigin(registered.location), `register → ${registered.location}`).toBe(true);
});

test("someone else's wrong passwords through the console do not lock the operator out where they are", async () => {
  const username = await newOperator();
  for (let i = 0; i < 5; i++) {
    const wrong = await logIn('/login', username, `wrong guess ${i}`, '127.0.0.2');
    expect(wrong.status).toBe(401);
    expect(wrong.body).toContain('用户名或密码错误');
  }
  const locked = await logIn('/login', username, PASSWORD, '127.0.0.2');
  expect(locked.status).toBe(429);
  expect(locked.body).toContain('登录尝试过多');
  // The operator, from their own address, through the same console.
  const ok = await logIn('/login', username, PASSWORD, '127.0.0.1');
  expect(ok.status).toBe(303);
  expect(ok.location).toBe('/activities');
});

test('a wrong short password is answered as wrong, not with the registration rule', async ({ page }) => {
  const username = await newOperator();
  await page.goto(`${admin}/login`);
  await page.waitForLoadState('networkidle');
  await page.locator('input[name=username]').fill(username);
  await page.locator('input[name=password]').fill('short');
  await page.getByRole('button', { name: '登录' }).click();
  await expect(page.getByRole('alert')).toContainText('用户名或密码错误');
  await expect(page.getByRole('alert')).not.toContainText('8 位');
});

test('the console sends its Content-Security-Policy and framing, sniffing and referrer headers', async () => {
  const res = await fetch(`${admin}/login`);
  const policy = res.headers.get('content-security-policy') ?? '';
  const directives = cspDirectives(policy);
  // Scripts: this origin and SvelteKit's nonce'd ones; of inline handlers only Svelte's image one, by hash.
  expect(directives['script-src']).toEqual(["'self'", expect.stringMatching(/^'nonce-[A-Za-z0-9+/=]+'$/)]);
  expect(directives['script-src-attr']).toEqual(["'unsafe-hashes'", "'sha256-7dQwUgLau1NFCCGjfn9FsYptB6ZtWxJin6VohGIu20I='"]);
  expect(directives).toMatchObject({ 'default-src': ["'self'"], 'object-src': ["'none'"], 'base-uri': ["'self'"], 'frame-ancestors': ["'none'"] });
  expect(res.headers.get('x-frame-options')).toBe('DENY');
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('referrer-policy')).toBe('same-origin');
});

/** A chunked POST of `size` bytes (no Content-Length), as a hostile client streams it. */
function chunkedPost(url: string, size: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'transfer-encoding': 'chunked', 'content-type': 'text/xml' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    for (let sent = 0; sent < size; sent += 8192) req.write(Buffer.alloc(8192, 'A'));
    req.end();
  });
}

// Last in the file: wrangler dev used to die of this, taking every later test with it.
test('an oversized chunked push is refused, and the worker keeps serving', async () => {
  for (let i = 0; i < 3; i++) {
    expect(await chunkedPost(`${workerUrl}/wechat/component`, 100 * 1024)).toBe(413);
    await new Promise((r) => setTimeout(r, 300));
    expect((await fetch(`${workerUrl}/api/openapi.json`)).status).toBe(200);
  }
});
