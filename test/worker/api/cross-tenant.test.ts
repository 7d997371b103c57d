/**
 * Tenancy, for every operation of the live OpenAPI document, including routes added later:
 * - a secured operation without a session (or with a forged one) is 401 with the error envelope;
 * - operator B naming operator A's data (a path parameter, or a query or body field) gets 404,
 *   422 or an empty list, and A's data is unchanged afterwards.
 * The cases are made from the document; how to make A's data for each is in cross-tenant-rules.ts,
 * and an operation it does not cover fails here until it is added there.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type Operator, pushTicket, register, worker } from '../helpers';
import { type Probe, PUBLIC, RESOURCES, type ResourceFixture, RULES, type TenantA, tenantA } from './cross-tenant-rules';
import { fillPath, liveDocument, type Operation, operationsOf, resourceOf } from './openapi-operations';

const operations = operationsOf(await liveDocument());
const secured = operations.filter((op) => op.secured);

let a: TenantA;
let b: Operator;
beforeAll(async () => {
  await pushTicket();
  a = await tenantA();
  b = await register();
});

/** A request as `who` (null: none), with the session as a Bearer token. */
function request(
  who: Operator | null,
  method: string,
  path: string,
  init: { query?: Record<string, string>; json?: unknown; headers?: Record<string, string> } = {},
) {
  const headers = new Headers(init.headers);
  if (who) headers.set('authorization', `Bearer ${who.token}`);
  if (init.json !== undefined) headers.set('content-type', 'application/json');
  const query = init.query ? `?${new URLSearchParams(init.query)}` : '';
  return worker(`${path}${query}`, { method, headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) });
}

/** How many rows a list answers: JSON `items`, or CSV lines after the header. */
async function rowsIn(res: Response): Promise<number> {
  if (res.headers.get('content-type')?.startsWith('text/csv')) return (await res.text()).trim().split('\n').length - 1;
  const body = await res.json<{ items?: unknown[] }>();
  if (!Array.isArray(body.items)) throw new Error(`not a list: ${JSON.stringify(body).slice(0, 200)}`);
  return body.items.length;
}

/** The one error envelope, `{ error: { code, message, fields? } }`, and nothing beside it. */
async function expectEnvelope(res: Response, code: string) {
  const body = await res.json<Record<string, unknown>>();
  expect(body, `${res.status} carries the error envelope`).toMatchObject({ error: { code, message: expect.any(String) } });
  expect(Object.keys(body)).toEqual(['error']);
}

type Coverage = { kind: 'resource'; fixture: ResourceFixture } | { kind: 'probes'; probes: Probe[] } | { kind: 'own' } | { kind: 'missing'; message: string };

/** What cross-tenant-rules.ts says about an operation, or what is missing from it. */
function coverageOf(op: Operation): Coverage {
  const file = 'test/worker/api/cross-tenant-rules.ts';
  if (op.params.length) {
    const fixture = RESOURCES[resourceOf(op.path)];
    if (fixture) return { kind: 'resource', fixture };
    return {
      kind: 'missing',
      message: `${op.key}: no fixture for ${resourceOf(op.path)} — add RESOURCES['${resourceOf(op.path)}'] to ${file} (how to name A's resource and read it back)`,
    };
  }
  const rule = RULES[op.key];
  if (!rule)
    return {
      kind: 'missing',
      message: `${op.key}: no cross-tenant rule — add RULES['${op.key}'] to ${file} (probes naming A's data, or ownOnly with the reason)`,
    };
  return 'ownOnly' in rule ? { kind: 'own' } : { kind: 'probes', probes: rule.probes };
}

describe('the document', () => {
  it('has operations, and every one without security is listed as public', () => {
    expect(secured.length).toBeGreaterThan(0);
    const undeclared = operations
      .filter((op) => !op.secured && !PUBLIC.includes(op.key))
      .map((op) => `${op.key}: declares no security — add \`security\` to its route, or list it in PUBLIC`);
    expect(undeclared).toEqual([]);
  });

  it('has a fixture or rule for every secured operation, and no fixture or rule for operations that are gone', () => {
    expect(secured.map(coverageOf).flatMap((c) => (c.kind === 'missing' ? [c.message] : []))).toEqual([]);
    const used = new Set(secured.flatMap((op) => (op.params.length ? [resourceOf(op.path)] : [op.key])));
    expect([...Object.keys(RESOURCES), ...Object.keys(RULES)].filter((k) => !used.has(k))).toEqual([]);
  });

  it('serves the public operations without a session', async () => {
    for (const key of PUBLIC) {
      const [method, path] = key.split(' ');
      const res = await request(null, method, path, method === 'POST' ? { json: {} } : {});
      await res.arrayBuffer();
      expect(res.status, key).not.toBe(401);
    }
  });
});

describe('security: without a session', () => {
  for (const op of secured) {
    it(`${op.key} → 401`, async () => {
      const fixture = RESOURCES[resourceOf(op.path)];
      // Without a fixture the path still needs values; the coverage test above names what is missing.
      const path = fillPath(op.path, fixture?.params(a) ?? Object.fromEntries(op.params.map((p) => [p, '1'])));
      const before = op.mutating ? await fixture?.snapshot(a) : undefined;
      const anonymous: Record<string, string>[] = [{}, { authorization: 'Bearer forged-session' }, { cookie: 'sid=forged-session' }];
      for (const headers of anonymous) {
        const res = await request(null, op.method, path, { headers });
        expect(res.status, `${op.key} with ${JSON.stringify(headers)}`).toBe(401);
        await expectEnvelope(res, 'unauthorized');
      }
      if (op.mutating && fixture) expect(await fixture.snapshot(a)).toEqual(before);
    });
  }
});

/** B requests A's resource by its path parameters: 404, and A's resource is as it was. */
async function namesByPath(op: Operation, fixture: ResourceFixture) {
  const path = fillPath(op.path, fixture.params(a));
  const before = op.mutating ? await fixture.snapshot(a) : undefined;
  const res = await request(b, op.method, path, { json: fixture.body?.[op.method as keyof typeof fixture.body] });
  expect(res.status, `${op.key} as B must reach the ownership check (give the fixture a valid body for ${op.method} if this is 422)`).toBe(404);
  await expectEnvelope(res, 'not_found');
  if (op.mutating) expect(await fixture.snapshot(a), "A's resource after B's request").toEqual(before);
  else {
    const own = await request(a.op, op.method, path);
    await own.arrayBuffer();
    expect(own.status, `${op.key} as A: the fixture names A's real resource`).toBeLessThan(300);
  }
}

/**
 * B names A's data in a query or body: refused, or answered with nothing, and A's data is as it
 * was. Then A makes the same request and is served, so the probe names A's real data.
 */
async function namesByField(op: Operation, probe: Probe) {
  const init = { query: probe.query?.(a), json: probe.json?.(a) };
  const what = `${op.key} ${JSON.stringify(init)}`;
  const before = await probe.snapshot?.(a);
  const res = await request(b, op.method, op.path, init);
  if (probe.expect === 'nothing') {
    expect(res.status, what).toBe(200);
    expect(await rowsIn(res), `${what} as B`).toBe(0);
  } else {
    expect(res.status, what).toBe(probe.expect);
    await expectEnvelope(res, probe.expect === 404 ? 'not_found' : 'validation_failed');
  }
  if (probe.snapshot) expect(await probe.snapshot(a), `A's data after ${what}`).toEqual(before);
  const own = await request(a.op, op.method, op.path, init);
  if (probe.expect === 'nothing') expect(await rowsIn(own), `${what} as A: the probe names A's real data`).toBeGreaterThan(0);
  else {
    await own.arrayBuffer();
    expect(own.status, `${what} as A: the probe names A's real data`).toBeLessThan(300);
  }
}

describe("security: operator B with operator A's data", () => {
  for (const op of secured) {
    const coverage = coverageOf(op);
    // Operations that can name only the caller's own data have nothing to try.
    if (coverage.kind === 'own') continue;
    const title = `${op.key} → ${op.params.length ? '404' : "refused, or nothing of A's"}`;
    // Thrown at once, not from an async test: the pool would also report that as an unhandled rejection.
    if (coverage.kind === 'missing') it(title, () => expect.fail(coverage.message));
    else if (coverage.kind === 'resource') it(title, () => namesByPath(op, coverage.fixture));
    else
      it(title, async () => {
        for (const probe of coverage.probes) await namesByField(op, probe);
      });
  }
});
