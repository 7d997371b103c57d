/** `GET /api/openapi.json`: the document the admin's typed client and the cross-tenant harness are built from. */
import { describe, expect, it } from 'vitest';
import committed from '../../../admin/src/lib/api/openapi.json';
import { worker } from '../helpers';

describe('happy', () => {
  it('publishes the OpenAPI document', async () => {
    const doc = await (await worker('/api/openapi.json')).json<any>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/users', '/session', '/accounts', '/accounts/authorize']));
  });

  it('documents every admin resource of the contract', async () => {
    const doc = await (await worker('/api/openapi.json')).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/session',
        '/users',
        '/accounts',
        '/accounts/authorize',
        '/activities',
        '/activities/{id}',
        '/activities/{id}/stats',
        '/uploads',
        '/promos',
        '/promos/{id}',
        '/fans',
        '/fans/blacklist',
        '/fans/export',
        '/posters/preview',
      ]),
    );
  });
});

describe('drift', () => {
  it('is what the admin’s typed client was generated from (run `npm run gen:api` after changing routes)', async () => {
    const live = await (await worker('/api/openapi.json')).json();
    expect(live).toEqual(committed);
  });
});
