/**
 * The exact SQL the admin API runs: the worker's own domain functions (listFans,
 * listActivities, getActivity, activityStats) are called in node against a D1-shaped adapter
 * over node:sqlite, which records every statement with its parameters. Statements on the small
 * tables run for real (so follow-ups such as activityViews see real ids); statements reading
 * take_part_in are only recorded, answering no rows (a count answers 0): they are what the
 * bench times, and running them here would cost seconds each. With `{ run: true }` they run too
 * (the bench walks the fans list by cursor that way, to reach its deep pages as the admin does).
 */
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';

export interface Statement {
  sql: string;
  params: SQLInputValue[];
}

export function capturingD1(file: string, o: { run?: boolean } = {}) {
  const db = new DatabaseSync(file, { readOnly: true });
  const log: Statement[] = [];
  const prepared = (sql: string, params: SQLInputValue[] = []) => {
    const record = () => log.push({ sql, params });
    const skip = !o.run && /from "take_part_in"/i.test(sql);
    const count = /^select count\(\*\)/i.test(sql);
    const rows = (arrays: boolean): unknown[] => {
      if (skip) return count ? [arrays ? [0] : { 'count(*)': 0 }] : [];
      const s = db.prepare(sql);
      if (arrays) s.setReturnArrays(true);
      return s.all(...params);
    };
    return {
      bind: (...p: SQLInputValue[]) => prepared(sql, p),
      async all() {
        record();
        return { results: rows(false), success: true, meta: {} };
      },
      async raw() {
        record();
        return rows(true);
      },
      async first(column?: string) {
        record();
        const row = rows(false)[0] as Record<string, unknown> | undefined;
        return row === undefined ? null : column ? row[column] : row;
      },
      async run() {
        throw new Error(`capture adapter is read-only: ${sql}`);
      },
    };
  };
  type Prepared = ReturnType<typeof prepared>;
  const d1 = {
    prepare: (sql: string) => prepared(sql),
    batch: (stmts: Prepared[]) => Promise.all(stmts.map((s) => s.all())),
  };
  return {
    d1: d1 as unknown as D1Database,
    /** Statements recorded since the last call. */
    take(): Statement[] {
      return log.splice(0, log.length);
    },
    close: () => db.close(),
  };
}

/** A statement with its parameters written in as SQL literals (for `wrangler d1 execute`). */
export function inline(s: Statement): string {
  let i = 0;
  return s.sql.replace(/\?/g, () => {
    const v = s.params[i++];
    if (v === null || v === undefined) return 'NULL';
    if (typeof v === 'number' || typeof v === 'bigint') return String(v);
    if (typeof v === 'string') return `'${v.replace(/'/g, "''")}'`;
    throw new Error('cannot inline a blob parameter');
  });
}
