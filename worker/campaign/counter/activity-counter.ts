import { DurableObject } from 'cloudflare:workers';
import { HOME_SHARD, shardDatabase } from '../../db/shards';
import { Flag, ProtectSwitch } from '../../db/values';
import { AppError } from '../../errors';
import { meterQueue, meterSql } from '../../lib/meter';
import { MAX_BUNDLE, type Notice, queueOutbox, type Replied } from '../../messaging/outbox';
import { capture, type RpcResult } from '../../rpc-result';
import { type FollowRecord, recordSubscribes, type Subscribe } from '../followers';
import { approvedNote, heldNote, helperWaitingReply, voidedNote, waitingNote } from '../prize-notices';
import { burstSince, endOfStay, type FairPlayRules, gateAssist, type ReviewStatus, releaseHeld } from './fair-play';
import { FairPlayStore, type PendingRow, type ReviewRow } from './fair-play-store';
import { counterShard } from './names';
import { applyPlan, CODES_PER_ITEM, type HoldRecord, type OutboxItem } from './outbox';
import { allGone, CLAIM_CODE_LENGTH, claimCode, inStock, newCodes, type PrizeRecord, type PrizeStatus, type PrizeTier, type TierSupply } from './prizes';
import {
  type AssistOutcome,
  addAssist,
  assistNote,
  type CountedAssist,
  type CounterSettings,
  claimTiers,
  deductNote,
  judgeAssist,
  judgeUnfollow,
  type Note,
  type Participant,
  type TierClaim,
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

export interface ImportCodesInput {
  activityId: number;
  level: number;
  codes: string[];
  at: number;
}

/** What an import of 兑换码 did: codes added, codes refused as already known, codes now free in the tier. */
export interface ImportedCodes {
  added: number;
  duplicates: number;
  available: number;
}

/** An operator's decision on a poster the burst rule flagged. */
export interface ReviewInput {
  activityId: number;
  ownerRowId: number;
  action: 'approve' | 'void';
  /** With a void: blacklist the poster's owner, and/or every helper who came through it. */
  blacklist: { owner: boolean; helpers: boolean };
  /** The operator deciding (username). */
  by: string;
  at: number;
}

/** What a decision did; `changed` is false when it had been taken already (a retry). */
export interface ReviewOutcome {
  status: ReviewStatus;
  changed: boolean;
  /** Held assists that count now, wait for their stay period, or were dropped. */
  counted: number;
  waiting: number;
  dropped: number;
  blacklisted: number;
}

type Settings = CounterSettings & {
  tiers: readonly PrizeTier[];
  /** The activity ends itself once every tier's prizes are gone. */
  endWhenGone: boolean;
  rules: FairPlayRules;
  loadedAt: number;
};

/** One more assist counted: the owner's count and tier, and the prizes of the tiers passed. */
interface Counted {
  counted: CountedAssist;
  claims: TierClaim<PrizeTier>[];
  prizes: PrizeRecord[];
  /** Every tier's prizes are gone and the activity ends (end_when_gone). */
  ended?: { activityId: number; at: number };
}

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
/** Waiting assists one alarm counts at most (the rest follow at once in the next). */
const STAYS_PER_ALARM = 200;
/** Held assists per outbox item when a review releases them. */
const HOLDS_PER_ITEM = 500;
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
CREATE TABLE IF NOT EXISTS prize (owner_row_id INTEGER NOT NULL, level INTEGER NOT NULL, kind TEXT NOT NULL, good TEXT NOT NULL, status TEXT NOT NULL,
  code TEXT, at INTEGER NOT NULL, PRIMARY KEY (owner_row_id, level));
CREATE INDEX IF NOT EXISTS prize_code ON prize (code);
CREATE TABLE IF NOT EXISTS code_pool (code TEXT PRIMARY KEY, level INTEGER NOT NULL, owner_row_id INTEGER);
CREATE INDEX IF NOT EXISTS code_pool_free ON code_pool (level, owner_row_id);
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
  private readonly fairPlay: FairPlayStore;
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
    this.fairPlay = new FairPlayStore(this.sql);
  }

  /** Counts (or refuses) one new follower's assist. Safe to call again with the same event. */
  assist(input: AssistInput): Promise<RpcResult<AssistOutcome>> {
    return capture(async () => {
      const [settings, { firstSighting }] = await Promise.all([this.loadSettings(input.activityId, input.at), this.recordFollow(input)]);
      await this.loadParticipant(input.ownerRowId, input.activityId);
      const { outcome, lastOutbox } = this.ctx.storage.transactionSync(() => this.decideAssist(settings, input, firstSighting));
      // Counting at the end of a stay period is this object's own alarm.
      if (outcome.status === 'waiting') await this.alarmBy(outcome.dueAt);
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

  /**
   * Adds 兑换码 to a code tier's pool: each code once in the activity, so no code can reach two
   * winners. Written to D1 through the outbox like everything else; the answer waits for it.
   */
  importCodes(input: ImportCodesInput): Promise<RpcResult<ImportedCodes>> {
    return capture(async () => {
      const { added, duplicates, last } = this.ctx.storage.transactionSync(() => {
        const { add, duplicates } = newCodes(input.codes, (code) => this.sql.exec('SELECT 1 FROM code_pool WHERE code = ?', code).toArray().length > 0);
        for (const code of add) this.sql.exec('INSERT INTO code_pool (code, level) VALUES (?, ?)', code, input.level);
        let last = 0;
        for (let i = 0; i < add.length; i += CODES_PER_ITEM) {
          last = this.enqueue({ codes: { activityId: input.activityId, level: input.level, codes: add.slice(i, i + CODES_PER_ITEM), at: input.at } });
        }
        return { added: add.length, duplicates, last };
      });
      await this.settle(last, true);
      return { added, duplicates, available: this.freeCodes(input.level) };
    });
  }

  /**
   * Approves or voids a flagged poster, once: approving counts its held assists in their order
   * (or lets them wait for their stay period), releases its held prizes and tells the owner;
   * voiding drops them, voids its held prizes, may blacklist the owner and the poster's helpers,
   * and tells the owner in neutral words. The same decision again changes nothing; the opposite
   * one is refused (409).
   */
  decideReview(input: ReviewInput): Promise<RpcResult<ReviewOutcome>> {
    return capture(async () => {
      const settings = await this.loadSettings(input.activityId, input.at);
      const { outcome, last } = this.ctx.storage.transactionSync(() => {
        const { outcome, items } = this.decide(settings, input);
        return { outcome, last: items.reduce((_, item) => this.enqueue(item), 0) };
      });
      if (outcome.waiting) await this.alarmBy(this.fairPlay.nextDue() ?? Infinity);
      // The operator's queue shows the decision at once: wait for its round even under load.
      await this.settle(last, true);
      return outcome;
    });
  }

  /**
   * Counts (or holds, or drops) the assists whose stay period ended by `now`, each exactly once:
   * the alarm's work, also after a restart (the waiting assists are in this object's storage).
   * Returns how many ended.
   */
  async endStays(now: number): Promise<number> {
    const due = this.fairPlay.due(now, STAYS_PER_ALARM);
    if (due.length) {
      const settings = await this.loadSettings(due[0].activityId, now);
      const last = this.ctx.storage.transactionSync(() => {
        let last = 0;
        for (const d of due) {
          // An unfollow since the query above took it out already: it never counts.
          const pending = this.fairPlay.takePending(d.accountId, d.openId);
          if (pending) last = this.enqueue(this.endStay(settings, pending, now));
        }
        return last;
      });
      await this.settle(last, false);
    }
    const next = due.length === STAYS_PER_ALARM ? now : this.fairPlay.nextDue();
    if (next !== null) await this.alarmBy(next);
    return due.length;
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
  async snapshot(): Promise<{
    participants: ParticipantRow[];
    helpers: { open_id: string; owner_row_id: number; counted: number }[];
    prizes: { owner_row_id: number; level: number; status: string; code: string | null }[];
    pendingOutbox: number;
  }> {
    return {
      participants: this.sql.exec<ParticipantRow>('SELECT * FROM participant ORDER BY row_id').toArray(),
      helpers: this.sql
        .exec<{ open_id: string; owner_row_id: number; counted: number }>('SELECT open_id, owner_row_id, counted FROM helper ORDER BY open_id')
        .toArray(),
      prizes: this.sql
        .exec<{ owner_row_id: number; level: number; status: string; code: string | null }>(
          'SELECT owner_row_id, level, status, code FROM prize ORDER BY owner_row_id, level',
        )
        .toArray(),
      pendingOutbox: this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM outbox').one().n,
    };
  }

  /**
   * Applies what is left in the outbox (a failed round, or rows of an object evicted mid-round),
   * prunes dedup keys older than WeChat can retry and counts assists whose stay period ended;
   * stays pending while any of these has work.
   */
  async alarm(): Promise<void> {
    this.alarmAt = Infinity;
    this.sql.exec('DELETE FROM processed WHERE at < ?', Date.now() - PROCESSED_TTL_MS);
    await this.endStays(Date.now());
    // A running loop applies the rows itself; otherwise one is started and run to the end.
    await this.settle(Number.MAX_SAFE_INTEGER, false);
    if (this.sql.exec('SELECT 1 FROM outbox LIMIT 1').toArray().length) await this.alarmWithin(FLUSH_RETRY_MS);
    if (this.sql.exec('SELECT 1 FROM processed LIMIT 1').toArray().length) await this.alarmWithin(PRUNE_EVERY_MS);
  }

  /** Keeps an alarm pending no later than `ms` from now. */
  private alarmWithin(ms: number): Promise<void> {
    return this.alarmBy(Date.now() + ms);
  }

  /** Keeps an alarm pending no later than `at`; usually answered from memory. */
  private async alarmBy(at: number): Promise<void> {
    if (at === Infinity) return;
    this.alarmAt ??= (await this.ctx.storage.getAlarm()) ?? Infinity;
    if (this.alarmAt <= at) return;
    await this.ctx.storage.setAlarm(at);
    this.alarmAt = at;
  }

  private decideAssist(settings: Settings, input: AssistInput, newToAccount: boolean): { outcome: AssistOutcome; lastOutbox: number } {
    const seen = this.processed<AssistOutcome>(input.eventKey);
    if (seen) return { outcome: seen, lastOutbox: 0 };
    const owner = this.participant(input.ownerRowId);
    const judged = judgeAssist(settings, {
      accountId: input.accountId,
      helperOpenId: input.helperOpenId,
      at: input.at,
      owner,
      newToAccount,
      ownerBlack: owner ? this.isBlack(input.accountId, owner.openId) : false,
      helperBlack: this.isBlack(input.accountId, input.helperOpenId),
      helpedBefore: this.helper(input.accountId, input.helperOpenId) !== undefined,
    });
    // 防刷: an accepted assist may be held (its poster under review) or wait for the helper's stay.
    const since = owner && judged.status === 'counted' ? burstSince(settings.rules, input.at) : null;
    const gate =
      owner && judged.status === 'counted'
        ? gateAssist(settings.rules, {
            at: input.at,
            recent: since === null ? 0 : this.fairPlay.assistsSince(owner.rowId, since, settings.rules.burstCount ?? 0),
            review: this.fairPlay.review(owner.rowId)?.status ?? null,
          })
        : ({ kind: 'count' } as const);
    const outcome: AssistOutcome = gate.kind === 'hold' ? { status: 'held' } : gate.kind === 'wait' ? { status: 'waiting', dueAt: gate.dueAt } : judged;
    this.sql.exec('INSERT INTO processed VALUES (?, ?, ?)', input.eventKey, JSON.stringify(outcome), input.at);
    if (outcome.status === 'refused' || !owner) return { outcome, lastOutbox: 0 };
    const counts = outcome.status === 'counted';
    this.sql.exec('INSERT INTO helper VALUES (?, ?, ?, ?, ?)', input.accountId, input.helperOpenId, owner.rowId, counts ? 1 : 0, input.at);
    const helper = this.helperRow(input.activityId, owner, input.accountId, input.helperOpenId, input.at);
    const notify = (note: Note) => ownerNotice(`${input.eventKey}:notify`, input, owner, note);
    // The helper's passive reply, recorded with the decision (a held assist is thanked like any other).
    const replied = (summary: string): Replied => ({
      kind: 'replied',
      key: `${input.eventKey}:thanks`,
      appid: input.appid,
      openId: input.helperOpenId,
      activityId: input.activityId,
      scene: 'helper_thanks',
      summary,
      msgType: 'text',
    });
    // An assist held or waiting gets its take_part_in row when it counts.
    const held: HoldRecord = {
      ...this.fanRef(input),
      ownerRowId: owner.rowId,
      reason: 'burst',
      at: input.at,
      dueAt: null,
      outcome: null,
      resolvedAt: null,
      leftAt: null,
    };
    if (gate.kind === 'hold') {
      this.fairPlay.hold(owner.rowId, input.accountId, input.helperOpenId, input.at);
      if (!gate.flag) return { outcome, lastOutbox: this.enqueue({ holds: [held], notes: [replied(input.thanks)] }) };
      const review = this.fairPlay.flag(owner.rowId, input.appid, input.at);
      return {
        outcome,
        lastOutbox: this.enqueue({
          holds: [held],
          review: this.reviewRecord(input.activityId, review),
          prizes: this.changePrizes(input.activityId, owner, 'won', 'held'),
          notes: [notify(heldNote()), replied(input.thanks)],
        }),
      };
    }
    if (gate.kind === 'wait') {
      this.fairPlay.wait({ ...this.fanRef(input), ownerRowId: owner.rowId, appid: input.appid, at: input.at, dueAt: gate.dueAt });
      const hours = settings.rules.stayHours ?? 0;
      const note = waitingNote(settings.tiers, owner, hours, this.fairPlay.waiting(owner.rowId));
      const notes = [notify(note), replied(helperWaitingReply(input.thanks, hours))];
      return { outcome, lastOutbox: this.enqueue({ holds: [{ ...held, reason: 'stay', dueAt: gate.dueAt }], notes }) };
    }
    const c = this.count(settings, input.activityId, owner, input.at);
    return {
      outcome,
      lastOutbox: this.enqueue({
        helper,
        ...this.countedItem(input.activityId, owner, c),
        notes: [notify(assistNote(settings.tiers, c.counted, c.claims)), replied(input.thanks)],
      }),
    };
  }

  /**
   * Counts one more assist for `owner` (inside a transaction): the new count and tier, the prizes
   * of the tiers passed, and whether that leaves every tier's prizes gone.
   */
  private count(settings: Settings, activityId: number, owner: Participant, at: number): Counted {
    const counted = addAssist(settings.tiers, owner);
    this.sql.exec('UPDATE participant SET number = ?, task_progress = ? WHERE row_id = ?', counted.number, counted.tier, owner.rowId);
    const claims = claimTiers(settings.tiers, owner.taskProgress, counted.tier, (tier) => inStock(tier, this.supply(tier.level)));
    const prizes = claims.filter((c) => c.inStock).map((c) => this.takePrize(activityId, owner, c.tier, at));
    const gone = prizes.length > 0 && settings.endWhenGone && allGone(settings.tiers, (level) => this.supply(level));
    if (!gone) return { counted, claims, prizes };
    // Later assists find the activity over at once; D1's end time follows with this decision's round.
    settings.endTime = Math.min(settings.endTime, at);
    // Stored end times are whole seconds (what the API shows is what is stored).
    return { counted, claims, prizes, ended: { activityId, at: Math.ceil(at / 1000) * 1000 } };
  }

  /** The outbox's share of a counted assist: the owner's counts, the prizes, the activity's end. */
  private countedItem(activityId: number, owner: Participant, c: Counted): OutboxItem {
    return { owner: { activityId, rowId: owner.rowId, number: c.counted.number, progress: c.counted.tier }, prizes: c.prizes, ended: c.ended };
  }

  /** A waiting assist whose stay period ended: counted, held (its poster is under review) or dropped. */
  private endStay(settings: Settings, p: PendingRow, now: number): OutboxItem {
    const owner = this.participant(p.ownerRowId);
    const hold = (outcome: HoldRecord['outcome']): HoldRecord => ({
      activityId: p.activityId,
      accountId: p.accountId,
      openId: p.openId,
      ownerRowId: p.ownerRowId,
      reason: 'stay',
      at: p.at,
      dueAt: p.dueAt,
      outcome,
      resolvedAt: outcome ? now : null,
      leftAt: null,
    });
    const fate = owner
      ? endOfStay({
          deleted: settings.deleted,
          barred: this.isBlack(p.accountId, owner.openId) || this.isBlack(p.accountId, p.openId),
          review: this.fairPlay.review(owner.rowId)?.status ?? null,
        })
      : 'drop';
    if (!owner || fate === 'drop') return { holds: [hold('dropped')] };
    if (fate === 'hold') {
      this.fairPlay.hold(owner.rowId, p.accountId, p.openId, p.at);
      return { holds: [{ ...hold(null), reason: 'burst' }] };
    }
    this.sql.exec('UPDATE helper SET counted = 1 WHERE public_number_id = ? AND open_id = ?', p.accountId, p.openId);
    const c = this.count(settings, p.activityId, owner, now);
    const note = assistNote(settings.tiers, c.counted, c.claims);
    return {
      ...this.countedItem(p.activityId, owner, c),
      helper: this.helperRow(p.activityId, owner, p.accountId, p.openId, p.at),
      holds: [hold('counted')],
      notes: [ownerNotice(`stay:${p.activityId}:${p.accountId}:${p.openId}:notify`, p, owner, note)],
    };
  }

  /** A decision on a flagged poster (inside a transaction): the outcome, and the outbox items that carry it to D1 and the owner. */
  private decide(settings: Settings, input: ReviewInput): { outcome: ReviewOutcome; items: OutboxItem[] } {
    const review = this.fairPlay.review(input.ownerRowId);
    const owner = this.participant(input.ownerRowId);
    if (!review || !owner) throw new AppError('not_found', '这张海报没有审核记录');
    const target = input.action === 'approve' ? 'approved' : 'voided';
    const none = { counted: 0, waiting: 0, dropped: 0, blacklisted: 0 };
    if (review.status === target) return { outcome: { status: target, changed: false, ...none }, items: [] };
    if (review.status !== 'flagged') throw new AppError('conflict', `这张海报已经${review.status === 'approved' ? '审核通过' : '作废'}，不能再改`);
    const decided = this.fairPlay.decide(input.ownerRowId, target, input.at, input.by);
    const held = this.fairPlay.held(input.ownerRowId);
    this.fairPlay.clearHeld(input.ownerRowId);
    const activityId = input.activityId;
    const holdOf = (h: (typeof held)[number], over: Partial<HoldRecord>): HoldRecord => ({
      activityId,
      accountId: h.accountId,
      openId: h.openId,
      ownerRowId: owner.rowId,
      reason: 'burst',
      at: h.at,
      dueAt: null,
      outcome: 'dropped',
      resolvedAt: input.at,
      leftAt: h.leftAt,
      ...over,
    });
    const notify = (note: Note, key = 'review') =>
      ownerNotice(`${key}:${activityId}:${owner.rowId}:${input.at}`, { appid: review.appid, activityId }, owner, note);
    const reviewItem = { review: this.reviewRecord(activityId, decided) };
    if (input.action === 'void') {
      const blacklisted = this.blacklistPoster(activityId, owner, input.blacklist);
      const items = [
        ...this.chunks(held.map((h) => holdOf(h, {}))).map((holds) => ({ holds })),
        { ...reviewItem, ...blacklisted.item, prizes: this.changePrizes(activityId, owner, 'held', 'void'), notes: [notify(voidedNote())] },
      ];
      return { outcome: { status: target, changed: true, ...none, dropped: held.length, blacklisted: blacklisted.fans }, items };
    }
    const holds: HoldRecord[] = [];
    const helpers: NonNullable<OutboxItem['helper']>[] = [];
    const claims: TierClaim<PrizeTier>[] = [];
    const prizes = this.changePrizes(activityId, owner, 'held', 'won');
    let latest: Counted | undefined;
    for (const { assist: h, gate } of releaseHeld(settings.rules, held, input.at)) {
      if (gate.kind === 'drop') holds.push(holdOf(h, {}));
      else if (gate.kind === 'wait') {
        this.fairPlay.wait({ activityId, accountId: h.accountId, openId: h.openId, ownerRowId: owner.rowId, appid: review.appid, at: h.at, dueAt: gate.dueAt });
        holds.push(holdOf(h, { reason: 'stay', dueAt: gate.dueAt, outcome: null, resolvedAt: null }));
      } else if (gate.kind === 'count') {
        this.sql.exec('UPDATE helper SET counted = 1 WHERE public_number_id = ? AND open_id = ?', h.accountId, h.openId);
        latest = this.count(settings, activityId, this.participant(owner.rowId)!, input.at);
        claims.push(...latest.claims);
        prizes.push(...latest.prizes);
        helpers.push(this.helperRow(activityId, owner, h.accountId, h.openId, h.at));
        holds.push(holdOf(h, { outcome: 'counted' }));
      }
    }
    const now = this.participant(owner.rowId)!;
    const counted = helpers.length;
    const tally = { counted, waiting: holds.filter((h) => h.outcome === null).length, dropped: holds.filter((h) => h.outcome === 'dropped').length };
    // The owner hears that the held assists counted, and of the highest tier they passed, if any.
    const notes = [notify(approvedNote(settings.tiers, counted, now))];
    if (latest && claims.length) notes.push(notify(assistNote(settings.tiers, latest.counted, claims), 'review-tier'));
    const items: OutboxItem[] = [
      ...this.chunks(holds).map((part) => ({ holds: part })),
      ...this.chunks(helpers).map((part) => ({ helpers: part })),
      {
        ...reviewItem,
        owner: { activityId, rowId: owner.rowId, number: now.number, progress: now.taskProgress },
        prizes,
        ended: latest?.ended,
        notes,
      },
    ];
    return { outcome: { status: target, changed: true, ...tally, blacklisted: 0 }, items };
  }

  /** Blacklists a voided poster's owner and/or the helpers who came through it, in this object and in D1. */
  private blacklistPoster(activityId: number, owner: Participant, which: ReviewInput['blacklist']): { fans: number; item: OutboxItem } {
    const item: OutboxItem = {};
    let fans = 0;
    if (which.owner) {
      this.sql.exec('INSERT OR IGNORE INTO black VALUES (?, ?)', owner.accountId, owner.openId);
      item.black = [{ activityId, rowId: owner.rowId, black: Flag.yes }];
      fans++;
    }
    if (which.helpers) {
      const helpers = this.sql
        .exec<{ public_number_id: number; open_id: string }>('SELECT public_number_id, open_id FROM helper WHERE owner_row_id = ?', owner.rowId)
        .toArray();
      for (const h of helpers) this.sql.exec('INSERT OR IGNORE INTO black VALUES (?, ?)', h.public_number_id, h.open_id);
      item.blackFans = helpers.map((h) => ({ activityId, accountId: h.public_number_id, openId: h.open_id, black: Flag.yes }));
      fans += helpers.length;
    }
    return { fans, item };
  }

  /** Moves the owner's prizes from one status to another (hold, release, void), as records for D1. */
  private changePrizes(activityId: number, owner: Participant, from: PrizeStatus, to: PrizeStatus): PrizeRecord[] {
    return this.sql
      .exec<{ level: number; kind: PrizeTier['kind']; good: string; code: string | null; at: number }>(
        'UPDATE prize SET status = ? WHERE owner_row_id = ? AND status = ? RETURNING level, kind, good, code, at',
        to,
        owner.rowId,
        from,
      )
      .toArray()
      .map((p) => ({ activityId, ownerRowId: owner.rowId, accountId: owner.accountId, openId: owner.openId, ...p, status: to }));
  }

  private reviewRecord(activityId: number, r: ReviewRow) {
    return { activityId, ownerRowId: r.ownerRowId, status: r.status, flaggedAt: r.flaggedAt, decidedAt: r.decidedAt, decidedBy: r.decidedBy };
  }

  /** A counted helper's take_part_in row, dated when they followed through the poster. */
  private helperRow(activityId: number, owner: Participant, accountId: number, openId: string, at: number): NonNullable<OutboxItem['helper']> {
    return { activityId, accountId, openId, ownerOpenId: owner.openId, level: owner.level + 1, at };
  }

  private fanRef(input: { activityId: number; accountId: number; helperOpenId: string }) {
    return { activityId: input.activityId, accountId: input.accountId, openId: input.helperOpenId };
  }

  /** Splits a long list across outbox items, so no item grows past what one storage row should hold. */
  private chunks<T>(list: T[]): T[][] {
    const out: T[][] = [];
    for (let i = 0; i < list.length; i += HOLDS_PER_ITEM) out.push(list.slice(i, i + HOLDS_PER_ITEM));
    return out;
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
    if (outcome.status === 'none' || !owner)
      return { outcome, lastOutbox: this.enqueue({ left: { ...left, uncount: Flag.no }, holds: this.leftUncounted(input) }) };
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

  /**
   * A helper whose assist did not count yet unfollowed: one waiting for the stay period never
   * counts (its record says so); one held is remembered as gone for the poster's review.
   */
  private leftUncounted(input: UnfollowInput): HoldRecord[] {
    const ref = this.fanRef(input);
    const pending = this.fairPlay.takePending(input.accountId, input.helperOpenId);
    if (pending) {
      const { ownerRowId, at, dueAt } = pending;
      return [{ ...ref, ownerRowId, reason: 'stay', at, dueAt, outcome: 'left', resolvedAt: input.at, leftAt: input.at }];
    }
    const held = this.fairPlay.leftWhileHeld(input.accountId, input.helperOpenId, input.at);
    return held ? [{ ...ref, ownerRowId: held.ownerRowId, reason: 'burst', at: held.at, dueAt: null, outcome: null, resolvedAt: null, leftAt: input.at }] : [];
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

  /** What a tier has given (units of stock taken) and has left (free 兑换码). */
  private supply(level: number): TierSupply {
    const taken = this.sql.exec<{ claims: number }>('SELECT claims FROM tier_claim WHERE level = ?', level).toArray()[0]?.claims ?? 0;
    return { taken, codes: this.freeCodes(level) };
  }

  private freeCodes(level: number): number {
    return this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM code_pool WHERE level = ? AND owner_row_id IS NULL', level).one().n;
  }

  /**
   * Takes a tier's prize for its owner (inside the decision's transaction): a unit of stock, and
   * the oldest free 兑换码 of a code tier or a fresh claim code of an onsite tier.
   */
  private takePrize(activityId: number, owner: Participant, tier: PrizeTier, at: number): PrizeRecord {
    this.sql.exec('INSERT INTO tier_claim VALUES (?, 1) ON CONFLICT (level) DO UPDATE SET claims = claims + 1', tier.level);
    let code: string | null = null;
    if (tier.kind === 'code') {
      code = this.sql
        .exec<{ code: string }>(
          'UPDATE code_pool SET owner_row_id = ? WHERE code = (SELECT code FROM code_pool WHERE level = ? AND owner_row_id IS NULL ORDER BY rowid LIMIT 1) RETURNING code',
          owner.rowId,
          tier.level,
        )
        .one().code;
    } else if (tier.kind === 'onsite') {
      do code = claimCode(activityId, crypto.getRandomValues(new Uint8Array(CLAIM_CODE_LENGTH)));
      while (this.sql.exec('SELECT 1 FROM prize WHERE code = ?', code).toArray().length);
    }
    this.sql.exec("INSERT INTO prize VALUES (?, ?, ?, ?, 'won', ?, ?)", owner.rowId, tier.level, tier.kind, tier.good, code, at);
    return {
      activityId,
      ownerRowId: owner.rowId,
      accountId: owner.accountId,
      openId: owner.openId,
      level: tier.level,
      kind: tier.kind,
      good: tier.good,
      status: 'won',
      code,
      at,
    };
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
      this.db
        .prepare(
          'SELECT start_time, end_time, protect_switch, unsubscribe_deduct, deleted_at, end_when_gone, burst_count, burst_seconds, stay_hours FROM activity WHERE id = ?',
        )
        .bind(activityId),
      this.db.prepare('SELECT level, number, good, stock, kind FROM award WHERE activity_id = ? ORDER BY level').bind(activityId),
      this.db.prepare('SELECT public_id FROM public_join_activity WHERE activity_id = ?').bind(activityId),
    ]);
    const a = activity.results[0] as
      | {
          start_time: number;
          end_time: number;
          protect_switch: number;
          unsubscribe_deduct: number;
          deleted_at: number | null;
          end_when_gone: number;
          burst_count: number | null;
          burst_seconds: number | null;
          stay_hours: number | null;
        }
      | undefined;
    this.settings = {
      startTime: a?.start_time ?? 0,
      endTime: a?.end_time ?? 0,
      protect: a?.protect_switch !== ProtectSwitch.off,
      deduct: a?.unsubscribe_deduct === Flag.yes,
      deleted: !a || a.deleted_at !== null,
      accounts: new Set((publics.results as { public_id: number }[]).map((p) => p.public_id)),
      tiers: awards.results as unknown as PrizeTier[],
      endWhenGone: a?.end_when_gone === Flag.yes,
      rules: { burstCount: a?.burst_count ?? null, burstSeconds: a?.burst_seconds ?? null, stayHours: a?.stay_hours ?? null },
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
