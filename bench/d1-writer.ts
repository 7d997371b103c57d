/**
 * How many assists one D1 database's single writer takes: the D1 work of each assist — its
 * follow recorded in account_fan, the activity's outbox round (helpers, owner counts), and the
 * queue consumer's claim, windows and record of its note — run by the worker's own code against
 * a copy of the bench's D1 file in node:sqlite, as fast as one writer goes, in rounds as a busy
 * activity sends them (ROUND assists, two notes each). No network, no replication: a ceiling for
 * one database's writes.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { drizzle } from 'drizzle-orm/d1';
import { applyPlan, type OutboxItem } from '../worker/campaign/counter/outbox';
import { assistNote } from '../worker/campaign/counter/rules';
import { recordSubscribes } from '../worker/campaign/followers';
import * as schema from '../worker/db/schema';
import { deliverMessages } from '../worker/messaging/delivery';
import { MAX_BUNDLE } from '../worker/messaging/outbox';
import type { WeChatService } from '../worker/platform/wechat-service';
import { d1File } from './lib/worker';

/** Assists per outbox round of a busy activity: a round's notes (two each) make one bundle. */
const ROUND = MAX_BUNDLE / 2;

export interface WriterResult {
  assists: number;
  ms: number;
  perSecond: number;
}

/** A writable D1-shaped adapter over node:sqlite: statements, and batches as one transaction. */
function sqliteD1(db: DatabaseSync): D1Database {
  const statement = (sql: string, params: SQLInputValue[] = []) => {
    const run = () => {
      const s = db.prepare(sql);
      if (/returning|^\s*select/i.test(sql)) return { rows: s.all(...params) as Record<string, unknown>[], changed: 0 };
      return { rows: [] as Record<string, unknown>[], changed: Number(s.run(...params).changes) };
    };
    return {
      bind: (...p: SQLInputValue[]) => statement(sql, p),
      all: async () => ({ results: run().rows, success: true, meta: {} }),
      run: async () => ({ results: [], success: true, meta: { changes: run().changed } }),
      raw: async () => run().rows.map((r) => Object.values(r)),
      first: async () => run().rows[0] ?? null,
      exec: () => run(),
    };
  };
  type Statement = ReturnType<typeof statement>;
  return {
    prepare: (sql: string) => statement(sql),
    batch: async (stmts: Statement[]) => {
      db.exec('BEGIN');
      try {
        const results = stmts.map((s) => ({ results: s.exec().rows, success: true, meta: {} }));
        db.exec('COMMIT');
        return results;
      } catch (e) {
        db.exec('ROLLBACK');
        throw e;
      }
    },
  } as unknown as D1Database;
}

export async function benchD1Writer(persistDir: string, tmp: string, assists = 20_000): Promise<WriterResult> {
  const file = join(tmp, 'd1-writer.sqlite');
  copyFileSync(d1File(persistDir), file);
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL');
  // The activity with the most poster owners (the callback benchmark's), its account and owners.
  const { activity_id: activityId } = db
    .prepare('SELECT activity_id, count(*) AS n FROM take_part_in WHERE part_in = 0 AND activity_id IS NOT NULL GROUP BY activity_id ORDER BY n DESC LIMIT 1')
    .get() as { activity_id: number };
  const owners = db.prepare('SELECT id, open_id, public_number_id FROM take_part_in WHERE activity_id = ? AND part_in = 0').all(activityId) as {
    id: number;
    open_id: string;
    public_number_id: number;
  }[];
  const { authorizer_appid: appid } = db.prepare('SELECT authorizer_appid FROM public_numbers WHERE id = ?').get(owners[0].public_number_id) as {
    authorizer_appid: string;
  };
  const d1 = sqliteD1(db);
  const orm = drizzle(d1, { schema });
  const wechat = { sendCustomMessage: async () => ({}), sendTemplateMessage: async () => ({}) } as unknown as WeChatService;
  const deps = {
    db: orm,
    shard: 'DB',
    wechat,
    posters: {} as R2Bucket,
    config: { sessionSecret: 'bench-d1-writer-secret', publicBaseUrl: 'https://mtb.example.com' },
  };
  const counts = new Map<number, number>();
  const run = Date.now().toString(36);
  const t0 = performance.now();
  for (let done = 0; done < assists; done += ROUND) {
    const at = Date.now();
    const round = Array.from({ length: Math.min(ROUND, assists - done) }, (_, k) => {
      const owner = owners[(done + k) % owners.length];
      const helper = `o_writer_${run}_${done + k}`;
      const number = (counts.get(owner.id) ?? 0) + 1;
      counts.set(owner.id, number);
      const key = `${appid}:evt:${helper}:${at}:subscribe:qrscene_1_${owner.id}`;
      // What the activity's counter enqueues for a counted assist: the helper's row, the owner's
      // counts, the owner's progress notice and the helper's thanks (already replied, only logged).
      const note = assistNote([], { status: 'counted', number, tier: 0 }, []);
      const item: OutboxItem = {
        helper: { activityId, accountId: owner.public_number_id, openId: helper, ownerOpenId: owner.open_id, level: 2, at },
        owner: { activityId, rowId: owner.id, number, progress: 0 },
        notes: [
          { kind: 'notice', key: `${key}:notify`, appid, openId: owner.open_id, activityId, rowId: owner.id, ...note },
          { kind: 'replied', key: `${key}:thanks`, appid, openId: helper, activityId, scene: 'helper_thanks', summary: '助力成功！', msgType: 'text' },
        ],
      };
      return { item, follow: { accountId: owner.public_number_id, appid, openId: helper, eventKey: key, promoId: null, at } };
    });
    await recordSubscribes(
      d1,
      round.map((r) => r.follow),
    );
    const { writes, notes } = applyPlan(round.map((r) => r.item));
    await d1.batch(writes.map((w) => d1.prepare(w.sql).bind(...w.params)));
    await deliverMessages(deps, notes);
  }
  const ms = performance.now() - t0;
  db.close();
  return { assists, ms, perSecond: (assists / ms) * 1000 };
}
