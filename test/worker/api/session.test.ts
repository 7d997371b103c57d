/** `POST /api/users` (register) and `/api/session` (log in, log out): the operators' ways in. */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, uid, worker } from '../helpers';

const creds = (username: string, password: string) => ({ method: 'POST', json: { username, password } });

describe('happy', () => {
  it('registers, logs in with a Secure httpOnly cookie, logs out', async () => {
    const username = uid('u');
    expect((await api(null, '/users', creds(username, 'correct horse 1'))).status).toBe(201);
    expect((await api(null, '/users', creds(username, 'another password'))).status).toBe(409);
    const login = await api(null, '/session', creds(username, 'correct horse 1'));
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
});

describe('error', () => {
  it('validates input with field errors; a body that is not JSON is 400', async () => {
    const res = await api(null, '/users', creds('x', 'short'));
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: { code: 'validation_failed', fields: { username: expect.any(String), password: expect.any(String) } } });
    expect((await api(null, '/users', { method: 'POST', body: 'nope', headers: { 'content-type': 'application/json' } })).status).toBe(400);
  });
});

describe('security', () => {
  it('rate-limits failed logins', async () => {
    const username = uid('u');
    await api(null, '/users', creds(username, 'correct horse 1'));
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await api(null, '/session', creds(username, 'wrong password!'))).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect((await api(null, '/session', creds(username, 'correct horse 1'))).status).toBe(429);
  });

  it('needs a session everywhere else: none, or a forged one, is 401 with the error envelope', async () => {
    expect((await api(null, '/accounts')).status).toBe(401);
    expect(await (await api(null, '/accounts')).json()).toEqual({ error: { code: 'unauthorized', message: '请先登录' } });
    expect((await api({ id: 0, username: 'x', token: 'forged' }, '/accounts')).status).toBe(401);
  });
});
