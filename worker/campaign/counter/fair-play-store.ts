import type { HeldAssist, ReviewStatus } from './fair-play';

const SCHEMA = `
CREATE INDEX IF NOT EXISTS helper_owner_at ON helper (owner_row_id, at);
CREATE TABLE IF NOT EXISTS held (seq INTEGER PRIMARY KEY AUTOINCREMENT, owner_row_id INTEGER NOT NULL, public_number_id INTEGER NOT NULL,
  open_id TEXT NOT NULL, at INTEGER NOT NULL, left_at INTEGER, UNIQUE (public_number_id, open_id));
CREATE INDEX IF NOT EXISTS held_owner ON held (owner_row_id, seq);
CREATE TABLE IF NOT EXISTS pending (public_number_id INTEGER NOT NULL, open_id TEXT NOT NULL, owner_row_id INTEGER NOT NULL,
  activity_id INTEGER NOT NULL, appid TEXT NOT NULL, at INTEGER NOT NULL, due_at INTEGER NOT NULL, PRIMARY KEY (public_number_id, open_id));
CREATE INDEX IF NOT EXISTS pending_due ON pending (due_at);
CREATE TABLE IF NOT EXISTS pending_count (owner_row_id INTEGER PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS review (owner_row_id INTEGER PRIMARY KEY, status TEXT NOT NULL, appid TEXT NOT NULL, flagged_at INTEGER NOT NULL,
  decided_at INTEGER, decided_by TEXT);
`;

/** A poster's review as the counter keeps it. */
export interface ReviewRow {
  ownerRowId: number;
  status: ReviewStatus;
  appid: string;
  flaggedAt: number;
  decidedAt: number | null;
  decidedBy: string | null;
}

/** An assist waiting for its helper's stay period. */
export interface PendingRow {
  accountId: number;
  openId: string;
  ownerRowId: number;
  activityId: number;
  appid: string;
  at: number;
  dueAt: number;
}

type PendingSql = { public_number_id: number; open_id: string; owner_row_id: number; activity_id: number; appid: string; at: number; due_at: number };
const toPending = (r: PendingSql): PendingRow => ({
  accountId: r.public_number_id,
  openId: r.open_id,
  ownerRowId: r.owner_row_id,
  activityId: r.activity_id,
  appid: r.appid,
  at: r.at,
  dueAt: r.due_at,
});

/**
 * The ActivityCounter's 防刷 storage: held assists (in order), assists waiting for a stay period,
 * and posters under review. Every call runs inside the counter's transactions.
 */
export class FairPlayStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
  }

  /** The poster's assists (counted, held or waiting) after `since`, counted up to `upTo` (the rule needs no more). */
  assistsSince(ownerRowId: number, since: number, upTo: number): number {
    return this.sql
      .exec<{ n: number }>('SELECT count(*) AS n FROM (SELECT 1 FROM helper WHERE owner_row_id = ? AND at > ? LIMIT ?)', ownerRowId, since, upTo)
      .one().n;
  }

  review(ownerRowId: number): ReviewRow | undefined {
    const r = this.sql
      .exec<{ owner_row_id: number; status: ReviewStatus; appid: string; flagged_at: number; decided_at: number | null; decided_by: string | null }>(
        'SELECT * FROM review WHERE owner_row_id = ?',
        ownerRowId,
      )
      .toArray()[0];
    return r && { ownerRowId: r.owner_row_id, status: r.status, appid: r.appid, flaggedAt: r.flagged_at, decidedAt: r.decided_at, decidedBy: r.decided_by };
  }

  /** Flags a poster for review (again, after an earlier void). */
  flag(ownerRowId: number, appid: string, at: number): ReviewRow {
    this.sql.exec(
      `INSERT INTO review VALUES (?, 'flagged', ?, ?, NULL, NULL)
       ON CONFLICT (owner_row_id) DO UPDATE SET status = 'flagged', appid = excluded.appid, flagged_at = excluded.flagged_at, decided_at = NULL, decided_by = NULL`,
      ownerRowId,
      appid,
      at,
    );
    return this.review(ownerRowId)!;
  }

  decide(ownerRowId: number, status: Exclude<ReviewStatus, 'flagged'>, at: number, by: string): ReviewRow {
    this.sql.exec('UPDATE review SET status = ?, decided_at = ?, decided_by = ? WHERE owner_row_id = ?', status, at, by, ownerRowId);
    return this.review(ownerRowId)!;
  }

  hold(ownerRowId: number, accountId: number, openId: string, at: number): void {
    this.sql.exec('INSERT INTO held (owner_row_id, public_number_id, open_id, at) VALUES (?, ?, ?, ?)', ownerRowId, accountId, openId, at);
  }

  /** The poster's held assists, in the order they came. */
  held(ownerRowId: number): HeldAssist[] {
    return this.sql
      .exec<{ public_number_id: number; open_id: string; at: number; left_at: number | null }>(
        'SELECT public_number_id, open_id, at, left_at FROM held WHERE owner_row_id = ? ORDER BY seq',
        ownerRowId,
      )
      .toArray()
      .map((r) => ({ accountId: r.public_number_id, openId: r.open_id, at: r.at, leftAt: r.left_at }));
  }

  /** A held helper unfollowed: remembered for the review. Returns their held assist, if they had one. */
  leftWhileHeld(accountId: number, openId: string, at: number): { ownerRowId: number; at: number } | undefined {
    const r = this.sql
      .exec<{ owner_row_id: number; at: number }>(
        'UPDATE held SET left_at = ? WHERE public_number_id = ? AND open_id = ? RETURNING owner_row_id, at',
        at,
        accountId,
        openId,
      )
      .toArray()[0];
    return r && { ownerRowId: r.owner_row_id, at: r.at };
  }

  clearHeld(ownerRowId: number): void {
    this.sql.exec('DELETE FROM held WHERE owner_row_id = ?', ownerRowId);
  }

  wait(p: PendingRow): void {
    this.sql.exec('INSERT INTO pending VALUES (?, ?, ?, ?, ?, ?, ?)', p.accountId, p.openId, p.ownerRowId, p.activityId, p.appid, p.at, p.dueAt);
    this.sql.exec('INSERT INTO pending_count VALUES (?, 1) ON CONFLICT (owner_row_id) DO UPDATE SET n = n + 1', p.ownerRowId);
  }

  /** Takes a waiting assist out (it ends now: counted, held, dropped or left). */
  takePending(accountId: number, openId: string): PendingRow | undefined {
    const r = this.sql.exec<PendingSql>('DELETE FROM pending WHERE public_number_id = ? AND open_id = ? RETURNING *', accountId, openId).toArray()[0];
    if (r) this.sql.exec('UPDATE pending_count SET n = n - 1 WHERE owner_row_id = ?', r.owner_row_id);
    return r && toPending(r);
  }

  /** Waiting assists whose period has ended by `now`, oldest first. */
  due(now: number, limit: number): PendingRow[] {
    return this.sql.exec<PendingSql>('SELECT * FROM pending WHERE due_at <= ? ORDER BY due_at LIMIT ?', now, limit).toArray().map(toPending);
  }

  /** When the next waiting assist's period ends (null: none waits). */
  nextDue(): number | null {
    return this.sql.exec<{ at: number | null }>('SELECT min(due_at) AS at FROM pending').one().at;
  }

  /** The poster's assists waiting for their helpers' stay period ("N 人待确认"), kept as a count so each assist reads one row. */
  waiting(ownerRowId: number): number {
    return this.sql.exec<{ n: number }>('SELECT n FROM pending_count WHERE owner_row_id = ?', ownerRowId).toArray()[0]?.n ?? 0;
  }
}
