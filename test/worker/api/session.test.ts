/** `POST /api/users` (register) and `/api/session` (log in, log out): the operators' ways in. */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { TEST_SECRETS } from '../../sandbox/test-config';
import { api, newAddress, uid, worker } from '../helpers';

const PASSWORD = 'correct horse 1';
const from = (address: string) => ({ 'cf-connecting-ip': address });
const signUp = (username: string, password = PASSWORD, headers: HeadersInit = from(newAddress())) =>
  api(null, '/users', { method: 'POST', json: { username, password }, headers });
const logIn = (username: string, password: string, headers: HeadersInit = {}) =>
  api(null, '/session', { method: 'POST', json: { username, password }, headers });
/** What the admin's server sends on behalf of a browser at `address`. */
const viaAdmin = (address: string, secret: string = TEST_SECRETS.ADMIN_API_SECRET) => ({ 'x-admin-secret': secret, 'x-client-address': address });

async function newOperator() {
  const username = uid('u');
  expect((await signUp(username)).status).toBe(201);
  return username;
}

describe('happy', () => {
  it('registers, logs in with a Secure httpOnly cookie, logs out', async () => {
    const username = uid('u');
    expect((await signUp(username)).status).toBe(201);
    expect((await signUp(username, 'another password')).status).toBe(409);
    const login = await logIn(username, PASSWORD);
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/sid=[^;]+;.*HttpOnly/i);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Lax/i);
    const sid = cookie.match(/sid=([^;]+)/)![1];
    expect((await worker('/api/accounts', { headers: { cookie: `sid=${sid}` } })).status).toBe(200);
    expect((await worker('/api/session', { method: 'DELETE', headers: { cookie: `sid=${sid}` } })).status).toBe(204);
    expect((await worker('/api/accounts', { headers: { cookie: `sid=${sid}` } })).status).toBe(401);
    const stored = await env.DB.prepare('SELECT password_hash FROM user_info WHERE username = ?').bind(username).first<{ password_hash: string }>();
    expect(stored!.password_hash).toMatch(/^pbkdf2-sha256\$100000\$/);
  });

  it('a username is one account whatever its case: registered, refused again and logged in as one', async () => {
    const username = uid('Demo');
    const res = await signUp(username);
    expect(res.status).toBe(201);
    expect((await res.json<{ username: string }>()).username).toBe(username.toLowerCase());
    const again = await signUp(username.toLowerCase(), 'another password');
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { fields: { username: '该用户名已被注册' } } });
    expect((await logIn(username.toUpperCase(), PASSWORD)).status).toBe(200);
  });
});

describe('error', () => {
  it('validates input with field errors; a body that is not JSON is 400', async () => {
    const res = await signUp('x', 'short');
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: { code: 'validation_failed', fields: { username: expect.any(String), password: expect.any(String) } } });
    expect((await api(null, '/users', { method: 'POST', body: 'nope', headers: { 'content-type': 'application/json' } })).status).toBe(400);
  });

  it('refuses the most common passwords and passwords that contain the username', async () => {
    const username = uid('u');
    for (const [password, message] of [
      ['password123', '这个密码太常见，很容易被猜中，请换一个'],
      ['QwertyUiop', '这个密码太常见，很容易被猜中，请换一个'],
      ['1qaz2wsx', '这个密码太常见，很容易被猜中，请换一个'],
      [`${username}!`, '密码不能包含用户名'],
      [`my-${username.toUpperCase()}-2026`, '密码不能包含用户名'],
    ]) {
      const res = await signUp(username, password);
      expect(res.status, password).toBe(422);
      expect(await res.json()).toMatchObject({ error: { code: 'validation_failed', fields: { password: message } } });
    }
    expect((await signUp(username)).status).toBe(201);
  });

  it('answers any wrong password at login as wrong, whatever its length (registration keeps its rules)', async () => {
    const username = await newOperator();
    for (const password of ['short', 'x'.repeat(300)]) {
      const res = await logIn(username, password, from(newAddress()));
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: { code: 'unauthorized', message: '用户名或密码错误' } });
    }
  });
});

describe('security', () => {
  it('rate-limits failed logins', async () => {
    const username = await newOperator();
    const address = from(newAddress());
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await logIn(username, 'wrong password!', address)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect((await logIn(username, PASSWORD, address)).status).toBe(429);
  });

  it('counts each attempt before checking it: 40 guesses at once get five evaluations', async () => {
    const username = await newOperator();
    const address = from(newAddress());
    const guesses = [...Array.from({ length: 39 }, (_, i) => `wrong guess ${i}`), PASSWORD];
    const statuses = await Promise.all(guesses.map((p) => logIn(username, p, address).then((r) => r.status)));
    expect(statuses.filter((s) => s !== 429)).toHaveLength(5);
  });

  it("locks a user per address: someone else's guesses leave the operator's own address open", async () => {
    const username = await newOperator();
    const attacker = from(newAddress());
    for (let i = 0; i < 5; i++) expect((await logIn(username, `guess ${i}`, attacker)).status).toBe(401);
    expect((await logIn(username, PASSWORD, attacker)).status).toBe(429);
    expect((await logIn(username, PASSWORD, from(newAddress()))).status).toBe(200);
  });

  it('limits an address over all users, and a success gives the address its attempt back', async () => {
    const address = from(newAddress());
    const operator = await newOperator();
    for (let i = 0; i < 25; i++) expect((await logIn(operator, PASSWORD, address)).status).toBe(200);
    for (let i = 0; i < 20; i++) expect((await logIn(uid('nobody'), 'any password', address)).status).toBe(401);
    expect((await logIn(operator, PASSWORD, address)).status).toBe(429);
  });

  it("believes the admin's word on a browser's address only beside the shared secret", async () => {
    const username = await newOperator();
    const browser = newAddress();
    // Straight from a browser, claiming to be elsewhere: counted where it really comes from.
    for (let i = 0; i < 5; i++) {
      expect((await logIn(username, `guess ${i}`, { ...from(browser), ...viaAdmin(newAddress(), 'not-the-secret') })).status).toBe(401);
    }
    expect((await logIn(username, PASSWORD, from(browser))).status).toBe(429);
    // Through the admin, whose own address is the same for every browser it serves.
    const admin = from(newAddress());
    const guesser = newAddress();
    for (let i = 0; i < 5; i++) expect((await logIn(username, `guess ${i}`, { ...admin, ...viaAdmin(guesser) })).status).toBe(401);
    expect((await logIn(username, PASSWORD, { ...admin, ...viaAdmin(guesser) })).status).toBe(429);
    expect((await logIn(username, PASSWORD, { ...admin, ...viaAdmin(newAddress()) })).status).toBe(200);
  });

  it('rate-limits registrations per address', async () => {
    const address = from(newAddress());
    for (let i = 0; i < 10; i++) expect((await signUp(uid('u'), PASSWORD, address)).status).toBe(201);
    const refused = await signUp(uid('u'), PASSWORD, address);
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ error: { code: 'rate_limited' } });
    expect((await signUp(uid('u'))).status).toBe(201);
  });

  it('caps request bodies: a declared 5 MB registration and a chunked 300 KB one are 413', async () => {
    const declared = await api(null, '/users', { method: 'POST', json: { username: uid('u'), password: PASSWORD, padding: 'x'.repeat(5 * 1024 * 1024) } });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ error: { code: 'payload_too_large' } });
    const chunks = [
      new TextEncoder().encode(`{"username":"${uid('u')}","password":"${PASSWORD}","padding":"`),
      ...Array(30).fill(new Uint8Array(10 * 1024).fill(120)),
    ];
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        const next = chunks.shift();
        if (next) c.enqueue(next);
        else c.close();
      },
    });
    const chunked = await api(null, '/users', { method: 'POST', body, headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(413);
  });

  it('needs a session everywhere else: none, or a forged one, is 401 with the error envelope', async () => {
    expect((await api(null, '/accounts')).status).toBe(401);
    expect(await (await api(null, '/accounts')).json()).toEqual({ error: { code: 'unauthorized', message: '请先登录' } });
    expect((await api({ id: 0, username: 'x', token: 'forged' }, '/accounts')).status).toBe(401);
  });
});
