import { describe, expect, it } from 'vitest';
import committed from '../../admin/src/lib/api/openapi.json';
import { worker } from './helpers';

describe('OpenAPI document', () => {
  it('is what the admin’s typed client was generated from (run `npm run gen:api` after changing routes)', async () => {
    const live = await (await worker('/api/openapi.json')).json();
    expect(live).toEqual(committed);
  });

  it('documents every admin resource of the contract', async () => {
    const doc = await (await worker('/api/openapi.json')).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/session', '/users', '/accounts', '/accounts/authorize', '/activities', '/activities/{id}', '/activities/{id}/stats',
        '/uploads', '/promos', '/promos/{id}', '/fans', '/fans/blacklist', '/fans/export', '/posters/preview',
      ]),
    );
  });
});
