import { DurableObject } from 'cloudflare:workers';
import { HOME_SHARD, shardDatabase } from '../../db/shards';
import { Flag, ProtectSwitch } from '../../db/values';
import { meterQueue, meterSql } from '../../lib/meter';
import { MAX_BUNDLE, type Notice, queueOutbox, type Replied } from '../../messaging/outbox';
import { capture, type RpcResult } from '../../rpc-result';
import { type FollowRecord, recordSubscribes, type Subscribe } from '../followers';
import type { Tier } from '../tiers';
import { counterShard } from './names';
import { applyPlan, type OutboxItem } from './outbox';
import {
  type AssistOutcome,
  assistNote,
  type CounterSettings,
  claimTiers,
  deductNote,
  judgeAssist,
  judgeUnfollow,
  type Note,
  type Participant,
  type UnfollowOutcome,
} from './rules';

export interface AssistInput {
  /** Dedup key of the push: the same push never counts twice. */
  eventKey: string;
  activityId: number;
  ownerRowId: number;
  accountId: number;
  appid: string;
  helperOpenId: string;
  at: number;
  /** The push's CreateTime (ms): the helper's minute of customer-service sends starts there. */
  pushedAt: number;
  /** The passive reply the helper gets if the assist counts, recorded with the decision. */
  thanks: string;
}

export interface UnfollowInput {
  eventKey: string;
  activityId: number;
  accountId: number;
  appid: string;
  helperOpenId: string;
  at: number;
}

type Settings = CounterSettings & { loadedAt: number };

/** A note to a poster owner, as the message queue carries it. */
function ownerNotice(key: string, input: { appid: string; activityId: number }, owner: Participant, note: Note): Notice {
  return { kind: 'notice', key, appid: input.appid, openId: owner.openId, activityId: input.activityId, rowId: owner.rowId, ...note };
}

/** A participant row of this object's storage. */
type ParticipantRow = { row_id: number; open_id: string; public_number_id: number; number: number; task_progress: number; level: number };

const toParticipant = (r: ParticipantRow): Participant => ({
  rowId: r.row_id,
  openId: r.open_id,
  accountId: r.public_number_id,
  number: r.number,
  taskProgress: r.task_progress,
  level: r.level,
});

/** Activity settings are re-read at least this often (edits also call `reload`). */
const SETTINGS_TTL_MS = 10_000;
const FLUSH_RETRY_MS = 2_000;
/** Outbox rows a round applies at most (their notes, at most two each, are one queue message: a bundle). */
const ROUND_ROWS = MAX_BUNDLE / 2;
/**
 * After a round of at least GATHER_FROM_ROWS rows (the activity is busy), the next round waits
 * GATHER_MS for more: every round costs the same fixed work in D1, the queue and this object's
 * storage whatever its size, and that work, not the rows, dominated a busy activity's cost.
 * A quiet activity's rounds of one row never wait.
 */
const GATHER_FROM_ROWS = 4;
const GATHER_MS = 100;
/** Committed outbox rows are applied by the latest this long after (if this object was evicted mid-round). */
const OUTBOX_SAFETY_MS = 60_000;
/** Helpers' follows recorded by one D1 statement at most. */
const FOLLOWS_PER_STATEMENT = 100;
const PROCESSED_TTL_MS = 24 * 3600_000;
const PRUNE_EVERY_MS = 3600_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS participant (row_id INTEGER PRIMARY KEY, open_id TEXT NOT NULL, public_number_id INTEGER NOT NULL,
  number INTEGER NOT NULL, task_progress INTEGER NOT NULL, level INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS helper (public_number_id INTEGER NOT NULL, open_id TEXT NOT NULL, owner_row_id INTEGER NOT NULL,
  counted INTEGER NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (public_number_id, open_id));
CREATE INDEX IF NOT EXISTS helper_owner ON helper (owner_row_id);
CREATE TABLE IF NOT EXISTS black (public_number_id INTEGER NOT NULL, open_id TEXT NOT NULL, PRIMARY KEY (public_number_id, open_id));
CREATE TABLE IF NOT EXISTS processed (event_key TEXT PRIMARY KEY, outcome TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tier_claim (level INTEGER PRIMARY KEY, claims INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, item TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/**
 * One per activity: decides and records every assist and deduction of that activity, one at a
 * time. Each decision, its D1 writes and its notifications are committed together in this
 * object's SQLite (an outbox); the outbox is then applied to D1 and the message queue in rounds,
 * and retried by alarm until it is. D1 writes are idempotent (absolute counts, upserts), so a
 * replay after a crash changes nothing twice. See README → "How counting stays exact".
 */
export class ActivityCounter extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** The activity's shard: its D1 database. */
  private readonly db: D1Database;
  private settings: Settings | null = null;
  /** The running loop of outbox rounds, if any. */
  private flushing: Promise<void> | null = null;
  /** Callers waiting for the outbox to be applied up to a row id. */
  private waiters: { upTo: number; done: () => void }[] = [];
  /** When the pending alarm fires (Infinity: none); read from storage once. */
  private alarmAt: number | null = null;
  /** Helpers' follows waiting for the next D1 statement, and the loop that writes them. */
  private follows: { follow: Subscribe; done: (record: FollowRecord) => void; fail: (e: unknown) => void }[] = [];
  private recordingFollows: Promise<void> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = env.BENCH_ROUTES === '1' ? meterSql(ctx.storage.sql) : ctx.storage.sql;
    this.sql.exec(SCHEMA);
    // The shard is in the object's name (stub.ts), which an alarm's wake-up may not carry: it is
    // kept in storage from the first call on. Objects older than shards are all home ones.
    const stored = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'shard'").toArray()[0]?.value;
    const named = counterShard(ctx.id.name);
    if (named && named !== stored) this.sql.exec("INSERT OR REPLACE INTO meta VALUES ('shard', ?)", named);
    const shard = named ?? stored ?? HOME_SHARD;
    this.db = shardDatabase(env, shard);
  }

  /** Counts (or refuses) one new follower's assist. Safe to call again with the same event. */
  assist(input: AssistInput): Promise<RpcResult<AssistOutcome>> {
    return capture(async () => {
      const [settings, { firstSighting }] = await Promise.all([this.loadSettings(input.activityId, input.at), this.recordFollow(input)]);
      await this.loadParticipant(input.ownerRowId, input.activityId);
      const { outcome, lastOutbox } = this.ctx.storage.transactionSync(() => this.decideAssist(settings, input, firstSighting));
      await this.alarmWithin(PRUNE_EVERY_MS);
      await this.settle(lastOutbox, false);
      return outcome;
    });
  }

  /** A helper unfollowed: with 取关扣助力 on and the activity running, their assist is taken back. */
  unfollow(input: UnfollowInput): Promise<RpcResult<UnfollowOutcome>> {
    return capture(async () => {
      const settings = await this.loadSettings(input.activityId, input.at);
      const { outcome, lastOutbox } = this.ctx.storage.transactionSync(() => this.decideUnfollow(settings, input));
      await this.alarmWithin(PRUNE_EVERY_MS);
      await this.settle(lastOutbox, false);
      return outcome;
    });
  }

  /** Blacklists (or clears) fans of this activity; the DO keeps its own copy so decisions need no D1 read. */
  setBlack(activityId: number, fans: { rowId: number; accountId: number; openId: string }[], black: boolean): Promise<RpcResult<number>> {
    return capture(async () => {
      const last = this.ctx.storage.transactionSync(() => {
        for (const f of fans) {
          if (black) this.sql.exec('INSERT OR IGNORE INTO black VALUES (?, ?)', f.accountId, f.openId);
          else this.sql.exec('DELETE FROM black WHERE public_number_id = ? AND open_id = ?', f.accountId, f.openId);
        }
        return this.enqueue({ black: fans.map((f) => ({ activityId, rowId: f.rowId, black: black ? Flag.yes : Flag.no })) });
      });
      // The operator's list shows the flags right after: wait for them even under load.
      await this.settle(last, true);
      return fans.length;
    });
  }

  /** A poster owner's latest counted helpers (newest first), for their progress page. */
  async recentHelpers(ownerRowId: number, limit: number): Promise<{ openId: string; at: number }[]> {
    return this.sql
      .exec<{ open_id: string; at: number }>(
        'SELECT open_id, at FROM helper WHERE owner_row_id = ? AND counted = 1 ORDER BY at DESC LIMIT ?',
        ownerRowId,
        limit,
      )
      .toArray()
      .map((h) => ({ openId: h.open_id, at: h.at }));
  }

  /** Forgets cached settings after the operator edited the activity. */
  async reload(): Promise<void> {
    this.settings = null;
  }

  /** The DO's storage as it is, for the tests' D1 ⇔ DO comparison. */
  async snapshot(): Promise<{ participants: ParticipantRow[]; helpers: { open_id: string; owner_row_id: number; counted: number }[]; pendingOutbox: number }> {
    return {
      participants: this.sql.exec<ParticipantRow>('SELECT * FROM participant ORDER BY row_id').toArray(),
      helpers: this.sql
        .exec<{ open_id: string; owner_row_id: number; counted: number }>('SELECT open_id, owner_row_id, counted FROM helper ORDER BY open_id')
        .toArray(),
      pendingOutbox: this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM outbox').one().n,
    };
  }

  /**
   * Applies what is left in the outbox (a failed round, or rows of an object evicted mid-round)
   * and prunes dedup keys older than WeChat can retry; stays pending while either has work.
   */
  async alarm(): Promise<void> {
    this.alarmAt = Infinity;
    this.sql.exec('DELETE FROM processed WHERE at < ?', Date.now() - PROCESSED_TTL_MS);
    // A running loop applies the rows itself; otherwise one is started and run to the end.
    await this.settle(Number.MAX_SAFE_INTEGER, false);
    if (this.sql.exec('SELECT 1 FROM outbox LIMIT 1').toArray().length) await this.alarmWithin(FLUSH_RETRY_MS);
    if (this.sql.exec('SELECT 1 FROM processed LIMIT 1').toArray().length) await this.alarmWithin(PRUNE_EVERY_MS);
  }

  /** Keeps an alarm pending no later than `ms` from now; usually answered from memory. */
  private async alarmWithin(ms: number): Promise<void> {
    const at = Date.now() + ms;
    this.alarmAt ??= (await this.ctx.storage.getAlarm()) ?? Infinity;
    if (this.alarmAt <= at) return;
    await this.ctx.storage.setAlarm(at);
    this.alarmAt = at;
  }

  private decideAssist(settings: Settings, input: AssistInput, newToAccount: boolean): { outcome: AssistOutcome; lastOutbox: number } {
    const seen = this.processed<AssistOutcome>(input.eventKey);
    if (seen) return { outcome: seen, lastOutbox: 0 };
    const owner = this.participant(input.ownerRowId);
    const outcome = judgeAssist(settings, {
      accountId: input.accountId,
      helperOpenId: input.helperOpenId,
      at: input.at,
      owner,
      newToAccount,
      ownerBlack: owner ? this.isBlack(input.accountId, owner.openId) : false,
      helperBlack: this.isBlack(input.accountId, input.helperOpenId),
      helpedBefore: this.helper(input.accountId, input.helperOpenId) !== undefined,
    });
    this.sql.exec('INSERT INTO processed VALUES (?, ?, ?)', input.eventKey, JSON.stringify(outcome), input.at);
    if (outcome.status === 'refused' || !owner) return { outcome, lastOutbox: 0 };
    this.sql.exec('INSERT INTO helper VALUES (?, ?, ?, 1, ?)', input.accountId, input.helperOpenId, owner.rowId, input.at);
    this.sql.exec('UPDATE participant SET number = ?, task_progress = ? WHERE row_id = ?', outcome.number, outcome.tier, owner.rowId);
    const claims = claimTiers(settings.tiers, owner.taskProgress, outcome.tier, (level) => this.claimed(level));
    for (const c of claims.filter((x) => x.inStock)) {
      this.sql.exec('INSERT INTO tier_claim VALUES (?, 1) ON CONFLICT (level) DO UPDATE SET claims = claims + 1', c.tier.level);
    }
    const note = assistNote(settings.tiers, outcome, claims);
    const thanks: Replied = {
      kind: 'replied',
      key: `${input.eventKey}:thanks`,
      appid: input.appid,
      openId: input.helperOpenId,
      activityId: input.activityId,
      scene: 'helper_thanks',
      summary: input.thanks,
      msgType: 'text',
    };
    const lastOutbox = this.enqueue({
      helper: {
        activityId: input.activityId,
        accountId: input.accountId,
        openId: input.helperOpenId,
        ownerOpenId: owner.openId,
        level: owner.level + 1,
        at: input.at,
      },
      owner: { activityId: input.activityId, rowId: owner.rowId, number: outcome.number, progress: outcome.tier },
      notes: [ownerNotice(`${input.eventKey}:notify`, input, owner, note), thanks],
    });
    return { outcome, lastOutbox };
  }

  private decideUnfollow(settings: Settings, input: UnfollowInput): { outcome: UnfollowOutcome; lastOutbox: number } {
    const seen = this.processed<UnfollowOutcome>(input.eventKey);
    if (seen) return { outcome: seen, lastOutbox: 0 };
    const helper = this.helper(input.accountId, input.helperOpenId);
    // Not a helper here: nothing to record, and a retry finds nothing either.
    if (!helper) return { outcome: { status: 'none' }, lastOutbox: 0 };
    const owner = helper.counted ? this.participant(helper.ownerRowId) : undefined;
    const outcome = judgeUnfollow(settings, { accountId: input.accountId, at: input.at, helper, owner });
    this.sql.exec('INSERT INTO processed VALUES (?, ?, ?)', input.eventKey, JSON.stringify(outcome), input.at);
    const left = { activityId: input.activityId, accountId: input.accountId, openId: input.helperOpenId, at: input.at };
    if (outcome.status === 'none' || !owner) return { outcome, lastOutbox: this.enqueue({ left: { ...left, uncount: Flag.no } }) };
    this.sql.exec('UPDATE helper SET counted = 0 WHERE public_number_id = ? AND open_id = ?', input.accountId, input.helperOpenId);
    // Prizes already reached stay reached: task_progress is not lowered.
    this.sql.exec('UPDATE participant SET number = ? WHERE row_id = ?', outcome.number, owner.rowId);
    const note = deductNote(settings.tiers, owner, outcome.number);
    const lastOutbox = this.enqueue({
      left: { ...left, uncount: Flag.yes },
      owner: { activityId: input.activityId, rowId: owner.rowId, number: outcome.number, progress: owner.taskProgress },
      notes: [ownerNotice(`${input.eventKey}:deduct`, input, owner, note)],
    });
    return { outcome, lastOutbox };
  }

  /** The stored outcome of an event already decided. */
  private processed<T>(eventKey: string): T | undefined {
    const row = this.sql.exec<{ outcome: string }>('SELECT outcome FROM processed WHERE event_key = ?', eventKey).toArray()[0];
    return row ? (JSON.parse(row.outcome) as T) : undefined;
  }

  private helper(accountId: number, openId: string): { ownerRowId: number; counted: boolean } | undefined {
    const row = this.sql
      .exec<{ owner_row_id: number; counted: number }>('SELECT owner_row_id, counted FROM helper WHERE public_number_id = ? AND open_id = ?', accountId, openId)
      .toArray()[0];
    return row ? { ownerRowId: row.owner_row_id, counted: row.counted === 1 } : undefined;
  }

  private claimed(level: number): number {
    return this.sql.exec<{ claims: number }>('SELECT claims FROM tier_claim WHERE level = ?', level).toArray()[0]?.claims ?? 0;
  }

  private isBlack(accountId: number, openId: string): boolean {
    return this.sql.exec('SELECT 1 FROM black WHERE public_number_id = ? AND open_id = ?', accountId, openId).toArray().length > 0;
  }

  private participant(rowId: number): Participant | undefined {
    const row = this.sql.exec<ParticipantRow>('SELECT * FROM participant WHERE row_id = ?', rowId).toArray()[0];
    return row ? toParticipant(row) : undefined;
  }

  private enqueue(item: OutboxItem): number {
    return this.sql.exec<{ id: number }>('INSERT INTO outbox (item) VALUES (?) RETURNING id', JSON.stringify(item)).one().id;
  }

  /**
   * Records the helper's follow on the account (account_fan, which 拉新保护 consults) before the
   * decision. Follows arriving while a statement is in flight share the next one, so a busy
   * activity makes one D1 call for many assists; a lone assist still makes its own at once.
   */
  private recordFollow(input: AssistInput): Promise<FollowRecord> {
    const follow = { accountId: input.accountId, appid: input.appid, openId: input.helperOpenId, eventKey: input.eventKey, promoId: null, at: input.pushedAt };
    const recorded = new Promise<FollowRecord>((done, fail) => this.follows.push({ follow, done, fail }));
    this.recordingFollows ??= this.recordFollowBatches().finally(() => (this.recordingFollows = null));
    return recorded;
  }

  private async recordFollowBatches(): Promise<void> {
    while (this.follows.length) {
      const batch = this.follows.splice(0, FOLLOWS_PER_STATEMENT);
      try {
        const records = await recordSubscribes(
          this.db,
          batch.map((b) => b.follow),
        );
        for (const [i, b] of batch.entries()) b.done(records[i]);
      } catch (e) {
        for (const b of batch) b.fail(e);
      }
    }
  }

  private async loadSettings(activityId: number, now: number): Promise<Settings> {
    if (this.settings && now - this.settings.loadedAt < SETTINGS_TTL_MS) return this.settings;
    const [activity, awards, publics] = await this.db.batch([
      this.db.prepare('SELECT start_time, end_time, protect_switch, unsubscribe_deduct, deleted_at FROM activity WHERE id = ?').bind(activityId),
      this.db.prepare('SELECT level, number, good, stock FROM award WHERE activity_id = ? ORDER BY level').bind(activityId),
      this.db.prepare('SELECT public_id FROM public_join_activity WHERE activity_id = ?').bind(activityId),
    ]);
    const a = activity.results[0] as
      | { start_time: number; end_time: number; protect_switch: number; unsubscribe_deduct: number; deleted_at: number | null }
      | undefined;
    this.settings = {
      startTime: a?.start_time ?? 0,
      endTime: a?.end_time ?? 0,
      protect: a?.protect_switch !== ProtectSwitch.off,
      deduct: a?.unsubscribe_deduct === Flag.yes,
      deleted: !a || a.deleted_at !== null,
      accounts: new Set((publics.results as { public_id: number }[]).map((p) => p.public_id)),
      tiers: awards.results as unknown as Tier[],
      loadedAt: now,
    };
    return this.settings;
  }

  /** Loads a poster owner's row once; afterwards this object's copy is the authority for its counts. */
  private async loadParticipant(rowId: number, activityId: number): Promise<void> {
    if (this.participant(rowId)) return;
    const row = await this.db
      .prepare('SELECT id, open_id, public_number_id, number, task_progress, level, black FROM take_part_in WHERE id = ? AND activity_id = ?')
      .bind(rowId, activityId)
      .first<{ id: number; open_id: string; public_number_id: number; number: number; task_progress: number; level: number; black: number }>();
    if (!row) return;
    this.sql.exec(
      'INSERT OR IGNORE INTO participant VALUES (?, ?, ?, ?, ?, ?)',
      row.id,
      row.open_id,
      row.public_number_id,
      row.number,
      row.task_progress,
      row.level,
    );
    if (row.black === Flag.yes) this.sql.exec('INSERT OR IGNORE INTO black VALUES (?, ?)', row.public_number_id, row.open_id);
  }

  /**
   * Applies the outbox up to row `upTo` in rounds of one D1 batch and one queue message each. A
   * caller that finds a round already running does not wait unless `wait`: the running loop takes
   * its rows in its next round, so under load one round carries many decisions and nobody queues
   * behind rounds that are not theirs. A failed round leaves its rows for the alarm.
   */
  private async settle(upTo: number, wait: boolean): Promise<void> {
    if (upTo <= 0) return;
    const running = this.flushing !== null;
    await this.alarmWithin(OUTBOX_SAFETY_MS);
    if (running && !wait) return;
    const applied = new Promise<void>((done) => this.waiters.push({ upTo, done }));
    this.flushing ??= this.flushLoop().finally(() => (this.flushing = null));
    await applied;
  }

  private async flushLoop(): Promise<void> {
    try {
      for (;;) {
        const { last, rows } = await this.flushRound();
        if (last <= 0) return;
        this.release(last);
        if (rows >= GATHER_FROM_ROWS && rows < ROUND_ROWS) await scheduler.wait(GATHER_MS);
      }
    } finally {
      this.release(Infinity);
    }
  }

  private release(upTo: number): void {
    const applied = this.waiters.filter((w) => w.upTo <= upTo);
    this.waiters = this.waiters.filter((w) => w.upTo > upTo);
    for (const w of applied) w.done();
  }

  /** One round: the oldest rows, as one D1 batch and one queue message. `last`: the last row id applied, 0 when empty, -1 on failure. */
  private async flushRound(): Promise<{ last: number; rows: number }> {
    const rows = this.sql.exec<{ id: number; item: string }>('SELECT id, item FROM outbox ORDER BY id LIMIT ?', ROUND_ROWS).toArray();
    if (!rows.length) return { last: 0, rows: 0 };
    const { writes, notes } = applyPlan(rows.map((r) => JSON.parse(r.item) as OutboxItem));
    try {
      if (writes.length) await this.db.batch(writes.map((w) => this.db.prepare(w.sql).bind(...w.params)));
      await queueOutbox(this.env.BENCH_ROUTES === '1' ? meterQueue(this.env.OUTBOX) : this.env.OUTBOX).send(notes);
    } catch (e) {
      console.error('activity outbox round failed; retrying by alarm', e);
      await this.alarmWithin(FLUSH_RETRY_MS);
      return { last: -1, rows: rows.length };
    }
    const last = rows[rows.length - 1].id;
    this.sql.exec('DELETE FROM outbox WHERE id <= ?', last);
    return { last, rows: rows.length };
  }
}
