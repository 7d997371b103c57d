import { DurableObject } from 'cloudflare:workers';
import type { OutboundMessage } from '../messaging/outbox';
import { capture, type RpcResult } from '../rpc-result';
import { texts } from '../task/texts';
import { nextTier, tierReached, type Tier } from '../task/tiers';

export interface AssistInput {
  /** Dedup key of the push: the same push never counts twice. */
  eventKey: string;
  activityId: number;
  ownerRowId: number;
  publicNumberId: number;
  appid: string;
  helperOpenId: string;
  /** First sighting of the helper on this account (拉新保护 needs it). */
  newToAccount: boolean;
  at: number;
}

export type RefusalReason = 'self' | 'blacklisted' | 'not_new' | 'already' | 'not_running' | 'unknown_owner';

export type AssistOutcome =
  | { status: 'counted'; number: number; tier: number }
  | { status: 'refused'; reason: RefusalReason };

export interface UnfollowInput {
  eventKey: string;
  activityId: number;
  publicNumberId: number;
  appid: string;
  helperOpenId: string;
  at: number;
}

export type UnfollowOutcome = { status: 'deducted'; ownerRowId: number; number: number } | { status: 'none' };

interface ActivityConfig {
  startTime: number;
  endTime: number;
  protect: boolean;
  deduct: boolean;
  deleted: boolean;
  accounts: Set<number>;
  tiers: Tier[];
  loadedAt: number;
}

type Participant = {
  row_id: number;
  open_id: string;
  public_number_id: number;
  number: number;
  task_progress: number;
  level: number;
};

/** Pending side effects, written in the same transaction as the count they follow from. */
type OutboxItem = { kind: 'd1'; sql: string; params: (string | number | null)[] } | { kind: 'msg'; message: OutboundMessage };

/** Activity settings are re-read at least this often (edits also call `reload`). */
const CONFIG_TTL_MS = 10_000;
const FLUSH_RETRY_MS = 2_000;
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
`;

/**
 * One per activity: decides and records every assist and deduction of that activity, one at a
 * time. Each decision, its D1 writes and its notifications are committed together in this
 * object's SQLite (an outbox); the outbox is then applied to D1 and the message queue, and
 * retried by alarm until it is. D1 writes are idempotent (absolute counts, upserts), so a
 * replay after a crash changes nothing twice. See README → "How counting stays exact".
 */
export class ActivityCounter extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private config: ActivityConfig | null = null;
  private flushing: Promise<boolean> | null = null;
  private pruneScheduled = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
  }

  /** Counts (or refuses) one new follower's assist. Safe to call again with the same event. */
  assist(input: AssistInput): Promise<RpcResult<AssistOutcome>> {
    return capture(async () => {
      const config = await this.loadConfig(input.activityId, input.at);
      await this.loadParticipant(input.ownerRowId, input.activityId);
      const { outcome, lastOutbox } = this.ctx.storage.transactionSync(() => this.decideAssist(config, input));
      await this.drain(lastOutbox);
      await this.schedulePrune();
      return outcome;
    });
  }

  /** A helper unfollowed: with 取关扣助力 on and the activity running, their assist is taken back. */
  unfollow(input: UnfollowInput): Promise<RpcResult<UnfollowOutcome>> {
    return capture(async () => {
      const config = await this.loadConfig(input.activityId, input.at);
      const { outcome, lastOutbox } = this.ctx.storage.transactionSync(() => this.decideUnfollow(config, input));
      await this.drain(lastOutbox);
      return outcome;
    });
  }

  /** Blacklists (or clears) fans of this activity; the DO keeps its own copy so decisions need no D1 read. */
  setBlack(activityId: number, fans: { rowId: number; publicNumberId: number; openId: string }[], black: boolean): Promise<RpcResult<number>> {
    return capture(async () => {
      const last = this.ctx.storage.transactionSync(() => {
        let id = 0;
        for (const f of fans) {
          if (black) this.sql.exec('INSERT OR IGNORE INTO black VALUES (?, ?)', f.publicNumberId, f.openId);
          else this.sql.exec('DELETE FROM black WHERE public_number_id = ? AND open_id = ?', f.publicNumberId, f.openId);
          id = this.enqueue({ kind: 'd1', sql: 'UPDATE take_part_in SET black = ? WHERE id = ? AND activity_id = ?', params: [black ? 1 : 0, f.rowId, activityId] });
        }
        return id;
      });
      await this.drain(last);
      return fans.length;
    });
  }

  /** Forgets cached settings after the operator edited the activity. */
  async reload(): Promise<void> {
    this.config = null;
  }

  /** The DO's view, for the admin's consistency checks and the tests' D1 ⇔ DO comparison. */
  async snapshot(): Promise<{ participants: Participant[]; helpers: { open_id: string; owner_row_id: number; counted: number }[]; pendingOutbox: number }> {
    return {
      participants: this.sql.exec<Participant>('SELECT * FROM participant ORDER BY row_id').toArray(),
      helpers: this.sql.exec<{ open_id: string; owner_row_id: number; counted: number }>('SELECT open_id, owner_row_id, counted FROM helper ORDER BY open_id').toArray(),
      pendingOutbox: this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM outbox').one().n,
    };
  }

  /** Retries an outbox that could not be applied, and prunes dedup keys older than WeChat can retry. */
  async alarm(): Promise<void> {
    this.sql.exec('DELETE FROM processed WHERE at < ?', Date.now() - PROCESSED_TTL_MS);
    await this.drain(Number.MAX_SAFE_INTEGER);
    const left = this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM processed').one().n;
    this.pruneScheduled = false;
    if (left) await this.schedulePrune();
  }

  /** Keeps one alarm pending while there are dedup keys to prune (a failed flush may set an earlier one). */
  private async schedulePrune(): Promise<void> {
    if (this.pruneScheduled) return;
    this.pruneScheduled = true;
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + PRUNE_EVERY_MS);
  }

  private decideAssist(config: ActivityConfig, input: AssistInput): { outcome: AssistOutcome; lastOutbox: number } {
    const seen = this.sql.exec<{ outcome: string }>('SELECT outcome FROM processed WHERE event_key = ?', input.eventKey).toArray()[0];
    if (seen) return { outcome: JSON.parse(seen.outcome), lastOutbox: 0 };
    const outcome = this.judgeAssist(config, input);
    this.sql.exec('INSERT INTO processed VALUES (?, ?, ?)', input.eventKey, JSON.stringify(outcome), input.at);
    if (outcome.status === 'refused') return { outcome, lastOutbox: 0 };
    return { outcome, lastOutbox: this.recordAssist(config, input, outcome) };
  }

  private judgeAssist(config: ActivityConfig, input: AssistInput): AssistOutcome {
    const refuse = (reason: RefusalReason): AssistOutcome => ({ status: 'refused', reason });
    const owner = this.participant(input.ownerRowId);
    if (!owner || owner.public_number_id !== input.publicNumberId) return refuse('unknown_owner');
    if (!this.running(config, input.publicNumberId, input.at)) return refuse('not_running');
    if (owner.open_id === input.helperOpenId) return refuse('self');
    if (this.isBlack(input.publicNumberId, owner.open_id) || this.isBlack(input.publicNumberId, input.helperOpenId)) return refuse('blacklisted');
    // 拉新保护: only a fan never seen on the account counts, and stays bound to that first poster.
    if (config.protect && !input.newToAccount) return refuse('not_new');
    const helped = this.sql.exec('SELECT 1 FROM helper WHERE public_number_id = ? AND open_id = ?', input.publicNumberId, input.helperOpenId).toArray().length > 0;
    if (helped) return refuse('already');
    const number = owner.number + 1;
    return { status: 'counted', number, tier: Math.max(owner.task_progress, tierReached(config.tiers, number)) };
  }

  private recordAssist(config: ActivityConfig, input: AssistInput, outcome: Extract<AssistOutcome, { status: 'counted' }>): number {
    const owner = this.participant(input.ownerRowId)!;
    this.sql.exec('INSERT INTO helper VALUES (?, ?, ?, 1, ?)', input.publicNumberId, input.helperOpenId, owner.row_id, input.at);
    this.sql.exec('UPDATE participant SET number = ?, task_progress = ? WHERE row_id = ?', outcome.number, outcome.tier, owner.row_id);
    this.enqueue({
      kind: 'd1',
      sql: `INSERT INTO take_part_in (activity_id, public_number_id, mtb_user_id, open_id, origin, part_in, origin_open_id, level, subscribe_time, ctime, assist_counted, looking)
            VALUES (?1, ?2, (SELECT mtb_user_id FROM activity WHERE id = ?1), ?3, 0, 1, ?4, ?5, ?6, ?7, 1, 0)
            ON CONFLICT (activity_id, public_number_id, open_id) DO UPDATE SET origin = 0, origin_open_id = excluded.origin_open_id,
              level = excluded.level, subscribe_time = excluded.subscribe_time, assist_counted = 1, looking = 0`,
      params: [input.activityId, input.publicNumberId, input.helperOpenId, owner.open_id, owner.level + 1, input.at, input.at],
    });
    this.enqueue(this.ownerWrite(input.activityId, owner.row_id, outcome.number, outcome.tier));
    // One message per assist; a tier newly passed is announced in it, exactly once (a deduction
    // never lowers task_progress, so re-passing a tier announces nothing). One message keeps the
    // owner inside WeChat's 5-messages-per-48-h customer-service quota.
    const lines: string[] = [];
    for (const tier of config.tiers.filter((t) => t.level > owner.task_progress && t.level <= outcome.tier)) {
      const claimed = this.sql.exec<{ claims: number }>('SELECT claims FROM tier_claim WHERE level = ?', tier.level).toArray()[0]?.claims ?? 0;
      const inStock = tier.stock === null || claimed < tier.stock;
      if (inStock) this.sql.exec('INSERT INTO tier_claim VALUES (?, 1) ON CONFLICT (level) DO UPDATE SET claims = claims + 1', tier.level);
      lines.push(texts.tierReached(tier.level, tier.number, tier.good, inStock));
    }
    lines.push(texts.progress(outcome.number, nextTier(config.tiers, outcome.number)));
    return this.enqueue({
      kind: 'msg',
      message: { key: `${input.eventKey}:notify`, appid: input.appid, message: { touser: owner.open_id, msgtype: 'text', text: { content: lines.join('\n') } } },
    });
  }

  private decideUnfollow(config: ActivityConfig, input: UnfollowInput): { outcome: UnfollowOutcome; lastOutbox: number } {
    const seen = this.sql.exec<{ outcome: string }>('SELECT outcome FROM processed WHERE event_key = ?', input.eventKey).toArray()[0];
    if (seen) return { outcome: JSON.parse(seen.outcome), lastOutbox: 0 };
    const none: UnfollowOutcome = { status: 'none' };
    const helper = this.sql
      .exec<{ owner_row_id: number }>('SELECT owner_row_id FROM helper WHERE public_number_id = ? AND open_id = ? AND counted = 1', input.publicNumberId, input.helperOpenId)
      .toArray()[0];
    const owner = helper && this.participant(helper.owner_row_id);
    const applies = owner && config.deduct && this.running(config, input.publicNumberId, input.at);
    const outcome: UnfollowOutcome = applies ? { status: 'deducted', ownerRowId: owner.row_id, number: owner.number - 1 } : none;
    this.sql.exec('INSERT INTO processed VALUES (?, ?, ?)', input.eventKey, JSON.stringify(outcome), input.at);
    if (outcome.status === 'none' || !owner) return { outcome, lastOutbox: 0 };
    this.sql.exec('UPDATE helper SET counted = 0 WHERE public_number_id = ? AND open_id = ?', input.publicNumberId, input.helperOpenId);
    // Prizes already reached stay reached: task_progress is not lowered.
    this.sql.exec('UPDATE participant SET number = ? WHERE row_id = ?', outcome.number, owner.row_id);
    this.enqueue({
      kind: 'd1',
      sql: 'UPDATE take_part_in SET assist_counted = 0 WHERE activity_id = ? AND public_number_id = ? AND open_id = ?',
      params: [input.activityId, input.publicNumberId, input.helperOpenId],
    });
    this.enqueue(this.ownerWrite(input.activityId, owner.row_id, outcome.number, owner.task_progress));
    const last = this.enqueue({
      kind: 'msg',
      message: { key: `${input.eventKey}:deduct`, appid: input.appid, message: { touser: owner.open_id, msgtype: 'text', text: { content: texts.deducted(outcome.number) } } },
    });
    return { outcome, lastOutbox: last };
  }

  private ownerWrite(activityId: number, rowId: number, number: number, progress: number): OutboxItem {
    return { kind: 'd1', sql: 'UPDATE take_part_in SET number = ?, task_progress = ? WHERE id = ? AND activity_id = ?', params: [number, progress, rowId, activityId] };
  }

  private running(config: ActivityConfig, accountId: number, at: number): boolean {
    return !config.deleted && config.accounts.has(accountId) && at >= config.startTime && at < config.endTime;
  }

  private isBlack(accountId: number, openId: string): boolean {
    return this.sql.exec('SELECT 1 FROM black WHERE public_number_id = ? AND open_id = ?', accountId, openId).toArray().length > 0;
  }

  private participant(rowId: number): Participant | undefined {
    return this.sql.exec<Participant>('SELECT * FROM participant WHERE row_id = ?', rowId).toArray()[0];
  }

  private enqueue(item: OutboxItem): number {
    return this.sql.exec<{ id: number }>('INSERT INTO outbox (item) VALUES (?) RETURNING id', JSON.stringify(item)).one().id;
  }

  private async loadConfig(activityId: number, now: number): Promise<ActivityConfig> {
    if (this.config && now - this.config.loadedAt < CONFIG_TTL_MS) return this.config;
    const [activity, awards, publics] = await this.env.DB.batch([
      this.env.DB.prepare('SELECT start_time, end_time, protect_switch, unsubscribe_deduct, deleted_at FROM activity WHERE id = ?').bind(activityId),
      this.env.DB.prepare('SELECT level, number, good, stock FROM award WHERE activity_id = ? ORDER BY level').bind(activityId),
      this.env.DB.prepare('SELECT public_id FROM public_join_activity WHERE activity_id = ?').bind(activityId),
    ]);
    const a = activity.results[0] as { start_time: number; end_time: number; protect_switch: number; unsubscribe_deduct: number; deleted_at: number | null } | undefined;
    this.config = {
      startTime: a?.start_time ?? 0,
      endTime: a?.end_time ?? 0,
      protect: a?.protect_switch !== 2,
      deduct: a?.unsubscribe_deduct === 1,
      deleted: !a || a.deleted_at !== null,
      accounts: new Set((publics.results as { public_id: number }[]).map((p) => p.public_id)),
      tiers: awards.results as unknown as Tier[],
      loadedAt: now,
    };
    return this.config;
  }

  /** Loads a poster owner's row once; afterwards this object's copy is the authority for its counts. */
  private async loadParticipant(rowId: number, activityId: number): Promise<void> {
    if (this.participant(rowId)) return;
    const row = await this.env.DB.prepare(
      'SELECT id, open_id, public_number_id, number, task_progress, level, black FROM take_part_in WHERE id = ? AND activity_id = ?',
    )
      .bind(rowId, activityId)
      .first<{ id: number; open_id: string; public_number_id: number; number: number; task_progress: number; level: number; black: number }>();
    if (!row) return;
    this.sql.exec('INSERT OR IGNORE INTO participant VALUES (?, ?, ?, ?, ?, ?)', row.id, row.open_id, row.public_number_id, row.number, row.task_progress, row.level);
    if (row.black) this.sql.exec('INSERT OR IGNORE INTO black VALUES (?, ?)', row.public_number_id, row.open_id);
  }

  /** Applies the outbox up to `upTo` (coalescing concurrent callers); on failure an alarm retries. */
  private async drain(upTo: number): Promise<void> {
    if (upTo <= 0) return;
    while (this.sql.exec('SELECT 1 FROM outbox WHERE id <= ? LIMIT 1', upTo).toArray().length) {
      this.flushing ??= this.flushOnce().finally(() => (this.flushing = null));
      if (!(await this.flushing)) return;
    }
  }

  private async flushOnce(): Promise<boolean> {
    const rows = this.sql.exec<{ id: number; item: string }>('SELECT id, item FROM outbox ORDER BY id LIMIT 100').toArray();
    if (!rows.length) return true;
    const items = rows.map((r) => JSON.parse(r.item) as OutboxItem);
    try {
      const writes = items.flatMap((i) => (i.kind === 'd1' ? [this.env.DB.prepare(i.sql).bind(...i.params)] : []));
      if (writes.length) await this.env.DB.batch(writes);
      const messages = items.flatMap((i) => (i.kind === 'msg' ? [{ body: i.message, contentType: 'json' as const }] : []));
      if (messages.length) await this.env.OUTBOX.sendBatch(messages);
    } catch (e) {
      console.error('activity outbox flush failed; retrying by alarm', e);
      await this.ctx.storage.setAlarm(Date.now() + FLUSH_RETRY_MS);
      return false;
    }
    this.sql.exec('DELETE FROM outbox WHERE id <= ?', rows[rows.length - 1].id);
    return true;
  }
}
