import { DurableObject } from 'cloudflare:workers';
import { loadConfig } from '../../config';
import { Flag, ProtectSwitch } from '../../db/values';
import { MAX_BUNDLE, queueOutbox } from '../../messaging/outbox';
import { capture, type RpcResult } from '../../rpc-result';
import { fanLink } from '../fan-access';
import { type Follow, type FollowRecord, recordFollows } from '../followers';
import { applyPlan, CODES_PER_ITEM, type OutboxItem } from './outbox';
import { allGone, CLAIM_CODE_LENGTH, claimCode, inStock, newCodes, type PrizeRecord, type PrizeTier, type TierSupply } from './prizes';
import {
  type AssistOutcome,
  assistNote,
  type CounterSettings,
  claimTiers,
  deductNote,
  judgeAssist,
  judgeUnfollow,
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

type Settings = CounterSettings & {
  tiers: readonly PrizeTier[];
  /** The activity ends itself once every tier's prizes are gone. */
  endWhenGone: boolean;
  loadedAt: number;
};

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
/** Outbox rows a round applies at most (their notes are one queue message: a bundle). */
const ROUND_ROWS = MAX_BUNDLE;
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
/** Owners whose claim link this object keeps (a link is one HMAC; it is valid for months). */
const MAX_CLAIM_LINKS = 10_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS participant (row_id INTEGER PRIMARY KEY, open_id TEXT NOT NULL, public_number_id INTEGER NOT NULL,
  number INTEGER NOT NULL, task_progress INTEGER NOT NULL, level INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS helper (public_number_id INTEGER NOT NULL, open_id TEXT NOT NULL, owner_row_id INTEGER NOT NULL,
  counted INTEGER NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (public_number_id, open_id));
CREATE INDEX IF NOT EXISTS helper_owner ON helper (owner_row_id);
CREATE TABLE IF NOT EXISTS black (public_number_id INTEGER NOT NULL, open_id TEXT NOT NULL, PRIMARY KEY (public_number_id, open_id));
CREATE TABLE IF NOT EXISTS processed (event_key TEXT PRIMARY KEY, outcome TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tier_claim (level INTEGER PRIMARY KEY, claims INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS prize (owner_row_id INTEGER NOT NULL, level INTEGER NOT NULL, status TEXT NOT NULL, code TEXT, at INTEGER NOT NULL,
  PRIMARY KEY (owner_row_id, level));
CREATE INDEX IF NOT EXISTS prize_code ON prize (code);
CREATE TABLE IF NOT EXISTS code_pool (code TEXT PRIMARY KEY, level INTEGER NOT NULL, owner_row_id INTEGER);
CREATE INDEX IF NOT EXISTS code_pool_free ON code_pool (level, owner_row_id);
CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, item TEXT NOT NULL);
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
  private settings: Settings | null = null;
  /** The running loop of outbox rounds, if any. */
  private flushing: Promise<void> | null = null;
  /** Callers waiting for the outbox to be applied up to a row id. */
  private waiters: { upTo: number; done: () => void }[] = [];
  /** When the pending alarm fires (Infinity: none); read from storage once. */
  private alarmAt: number | null = null;
  /** Helpers' follows waiting for the next D1 statement, and the loop that writes them. */
  private follows: { follow: Follow; done: (record: FollowRecord) => void; fail: (e: unknown) => void }[] = [];
  private recordingFollows: Promise<void> | null = null;
  /** Each owner's claim page link, for the notes announcing their prizes. */
  private claimLinks = new Map<number, string>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
  }

  /** Counts (or refuses) one new follower's assist. Safe to call again with the same event. */
  assist(input: AssistInput): Promise<RpcResult<AssistOutcome>> {
    return capture(async () => {
      const [settings, { firstSighting }] = await Promise.all([this.loadSettings(input.activityId, input.at), this.recordFollow(input)]);
      await this.loadParticipant(input.ownerRowId, input.activityId);
      const claimUrl = await this.claimLink(input.ownerRowId, input.at);
      const { outcome, lastOutbox } = this.ctx.storage.transactionSync(() => this.decideAssist(settings, input, firstSighting, claimUrl));
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

  private decideAssist(settings: Settings, input: AssistInput, newToAccount: boolean, claimUrl: string): { outcome: AssistOutcome; lastOutbox: number } {
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
    const claims = claimTiers(settings.tiers, owner.taskProgress, outcome.tier, (tier) => inStock(tier, this.supply(tier.level)));
    const prizes = claims.filter((c) => c.inStock).map((c) => this.takePrize(input.activityId, owner, c.tier, input.at));
    const note = assistNote(settings.tiers, outcome, claims, claimUrl);
    const gone = prizes.length > 0 && settings.endWhenGone && allGone(settings.tiers, (level) => this.supply(level));
    // Later assists find the activity over at once; D1's end time follows with this decision's round.
    if (gone) settings.endTime = Math.min(settings.endTime, input.at);
    const lastOutbox = this.enqueue({
      prizes,
      // Stored end times are whole seconds (what the API shows is what is stored).
      ended: gone ? { activityId: input.activityId, at: Math.ceil(input.at / 1000) * 1000 } : undefined,
      helper: {
        activityId: input.activityId,
        accountId: input.accountId,
        openId: input.helperOpenId,
        ownerOpenId: owner.openId,
        level: owner.level + 1,
        at: input.at,
      },
      owner: { activityId: input.activityId, rowId: owner.rowId, number: outcome.number, progress: outcome.tier },
      message: {
        key: `${input.eventKey}:notify`,
        appid: input.appid,
        message: { touser: owner.openId, msgtype: 'text', text: { content: note.text } },
        reserve: note.reserve,
      },
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
      message: {
        key: `${input.eventKey}:deduct`,
        appid: input.appid,
        message: { touser: owner.openId, msgtype: 'text', text: { content: note.text } },
        reserve: note.reserve,
      },
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
    this.sql.exec("INSERT INTO prize VALUES (?, ?, 'won', ?, ?)", owner.rowId, tier.level, code, at);
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

  /** The owner's claim page link (cached: signing it is an HMAC). */
  private async claimLink(ownerRowId: number, now: number): Promise<string> {
    let link = this.claimLinks.get(ownerRowId);
    if (link) return link;
    if (this.claimLinks.size >= MAX_CLAIM_LINKS) this.claimLinks.clear();
    link = await fanLink(loadConfig(this.env), 'claim', ownerRowId, now);
    this.claimLinks.set(ownerRowId, link);
    return link;
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
    const follow = { accountId: input.accountId, openId: input.helperOpenId, eventKey: input.eventKey, promoId: null, at: input.at };
    const recorded = new Promise<FollowRecord>((done, fail) => this.follows.push({ follow, done, fail }));
    this.recordingFollows ??= this.recordFollowBatches().finally(() => (this.recordingFollows = null));
    return recorded;
  }

  private async recordFollowBatches(): Promise<void> {
    while (this.follows.length) {
      const batch = this.follows.splice(0, FOLLOWS_PER_STATEMENT);
      try {
        const records = await recordFollows(
          this.env.DB,
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
    const [activity, awards, publics] = await this.env.DB.batch([
      this.env.DB.prepare('SELECT start_time, end_time, protect_switch, unsubscribe_deduct, deleted_at, end_when_gone FROM activity WHERE id = ?').bind(
        activityId,
      ),
      this.env.DB.prepare('SELECT level, number, good, stock, kind FROM award WHERE activity_id = ? ORDER BY level').bind(activityId),
      this.env.DB.prepare('SELECT public_id FROM public_join_activity WHERE activity_id = ?').bind(activityId),
    ]);
    const a = activity.results[0] as
      | { start_time: number; end_time: number; protect_switch: number; unsubscribe_deduct: number; deleted_at: number | null; end_when_gone: number }
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
      loadedAt: now,
    };
    return this.settings;
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
    const { writes, messages } = applyPlan(rows.map((r) => JSON.parse(r.item) as OutboxItem));
    try {
      if (writes.length) await this.env.DB.batch(writes.map((w) => this.env.DB.prepare(w.sql).bind(...w.params)));
      await queueOutbox(this.env.OUTBOX).send(messages);
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
