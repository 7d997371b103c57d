/** The worker's root: an index of what it serves (not the JSON 404 it used to answer). */
import { describe, expect, it } from 'vitest';
import { worker } from './helpers';

describe('happy', () => {
  it('serves a small index page linking the admin and the API document', async () => {
    const res = await worker('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const body = await res.text();
    expect(body).toContain('href="/api/openapi.json"');
    expect(body).toContain('/oauth/callback');
    expect(body).toMatch(/运营后台在 <a href="https?:\/\/[^"]+">/);
  });

  it('still answers other unknown paths with the JSON 404', async () => {
    const res = await worker('/nothing-here');
    expect(res.status).toBe(404);
    expect((await res.json<any>()).error.code).toBe('not_found');
  });
});
