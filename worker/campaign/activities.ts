import { and, count, desc, eq, gt, inArray, isNull, lte, ne, or, type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { Flag, flag, ProtectSwitch } from '../db/values';
import { AppError, notFound } from '../errors';
import { storedNotices } from '../messaging/notices';
import { forgetReachSettings } from '../messaging/reach-settings';
import type { Account } from '../platform/accounts';
import { resolveLayout } from '../poster/layout';
import { type ActivityInput, type ActivityPatch, type CompleteActivity, withDefaults } from './activity-input';
import { customNotices, mergeNotices } from './activity-notices';
import type { Counters } from './counter/stub';
import { figureQueries, figuresOf } from './figure-counts';
import type { ActivityFigures } from './figures';
import { likePattern } from './search';
import { type ActivityStatus, activityStatus } from './time';
import { importedCodeCounts, tierLeft, tierTallies } from './winners';

type Fields = Record<string, string>;

/** The id D1 just gave the activity inserted earlier in the same batch (a batch is one transaction). */
const lastActivityId = sql`(SELECT seq FROM sqlite_sequence WHERE name = 'activity')`;

/**
 * Validates the four parts (活动设置 / 参与公众号 / 奖励设置 / 海报设置) against each other and the
 * database, collecting every field error rather than stopping at the first.
 */
async function validate(db: Db, userId: number, input: CompleteActivity, excludeId?: number) {
  const fields: Fields = {};
  if (input.end_time <= input.start_time) fields.end_time = '结束时间必须晚于开始时间';

  const levels = input.awards.map((a) => a.level);
  input.awards.forEach((a, i) => {
    if (levels.indexOf(a.level) !== i) fields[`awards.${i}.level`] = '奖励等级不能重复';
  });
  const sorted = [...input.awards].sort((a, b) => a.level - b.level);
  sorted.forEach((a, i) => {
    if (a.level !== i + 1) fields[`awards.${input.awards.indexOf(a)}.level`] = '奖励等级须从一阶起连续设置';
    if (i > 0 && a.number <= sorted[i - 1].number) fields[`awards.${input.awards.indexOf(a)}.number`] = '高一阶的助力人数必须更多';
  });

  const appids = [...new Set(input.publics)];
  const accounts = await db
    .select()
    .from(schema.publicNumbers)
    .where(and(eq(schema.publicNumbers.userId, userId), inArray(schema.publicNumbers.authorizerAppid, appids)));
  const missing = appids.filter((a) => !accounts.some((x) => x.authorizerAppid === a));
  if (missing.length) fields.publics = `公众号不存在或未授权：${missing.join('、')}`;
  else if (accounts.some((a) => !a.authorized)) fields.publics = '所选公众号的授权已被取消，请重新授权';

  const upload = await db.query.uploads.findFirst({ where: and(eq(schema.uploads.key, input.poster.background_img), eq(schema.uploads.mtbUserId, userId)) });
  if (!upload) fields['poster.background_img'] = '请先上传海报背景图';

  checkKeywords(input, fields);
  if ((input.risk.burst_count == null) !== (input.risk.burst_seconds == null)) fields['risk.burst_seconds'] = '突增规则需要同时填写次数和秒数';
  if (input.claim_deadline !== null && input.claim_deadline < input.end_time) fields.claim_deadline = '领奖截止时间不能早于活动结束时间';
  if (input.end_when_gone && input.awards.some((a) => a.stock == null && a.kind !== 'code')) {
    fields.end_when_gone = '有不限库存的档位，奖品不会发完：请给每一档设置库存（兑换码档以兑换码为限）';
  }
  if (accounts.length) await checkKeywordClashes(db, input, accounts, excludeId, fields);
  if (Object.keys(fields).length) throw new AppError('validation_failed', '提交的数据有误，请检查标注的字段', fields);
  return accounts;
}

/** The texts a fan sends to this activity: the field that sets each, and what it does. */
const keywordFields = (input: CompleteActivity) =>
  [
    ['poster.key_word', 'join', input.poster.key_word],
    ['keywords.progress', 'progress', input.keywords.progress],
    ['keywords.claim', 'claim', input.keywords.claim],
  ] as const;

/** An activity's own keywords must differ, or a fan's text would mean two things. */
function checkKeywords(input: CompleteActivity, fields: Fields) {
  const seen = new Map<string, string>();
  for (const [field, , word] of keywordFields(input)) {
    if (seen.has(word)) fields[field] = `与${seen.get(word) === 'poster.key_word' ? '活动关键词' : '另一个回复关键词'}相同，请换一个`;
    else seen.set(word, field);
  }
}

/**
 * A keyword must mean one thing on an account at any time. Another activity sharing an account and
 * overlapping in time may not use it, with one exception: activities share their progress and
 * claim keywords (“进度”, “领奖” by default), whose answer covers each activity the fan is in.
 */
async function checkKeywordClashes(db: Db, input: CompleteActivity, accounts: Account[], excludeId: number | undefined, fields: Fields) {
  const ps = schema.posterSetting;
  const words = keywordFields(input).map(([, , w]) => w);
  const others = await db
    .select({ name: schema.activity.name, join: ps.keyWord, progress: ps.progressKeyword, claim: ps.claimKeyword })
    .from(ps)
    .innerJoin(schema.activity, eq(schema.activity.id, ps.activityId))
    .innerJoin(schema.publicJoinActivity, eq(schema.publicJoinActivity.activityId, schema.activity.id))
    .where(
      and(
        or(inArray(ps.keyWord, words), inArray(ps.progressKeyword, words), inArray(ps.claimKeyword, words)),
        inArray(
          schema.publicJoinActivity.accountId,
          accounts.map((a) => a.id),
        ),
        isNull(schema.activity.deletedAt),
        excludeId ? ne(schema.activity.id, excludeId) : undefined,
        // Overlapping windows: the other starts before this ends and ends after this starts.
        sql`${schema.activity.startTime} < ${input.end_time}`,
        gt(schema.activity.endTime, input.start_time),
      ),
    );
  for (const [field, role, word] of keywordFields(input)) {
    const clash = others.find((o) => (['join', 'progress', 'claim'] as const).some((r) => o[r] === word && (r !== role || role === 'join')));
    if (clash) fields[field] ??= `关键词“${word}”已被同一公众号时间重叠的活动「${clash.name}」使用`;
  }
}

function childRows(db: Db, activityId: SQL | number, input: CompleteActivity, accountIds: number[]) {
  return [
    ...accountIds.map((accountId) => db.insert(schema.publicJoinActivity).values({ activityId: activityId as number, accountId })),
    ...input.awards.map((a) =>
      db
        .insert(schema.award)
        .values({ activityId: activityId as number, level: a.level, number: a.number, good: a.good, stock: a.stock ?? null, kind: a.kind }),
    ),
    db.insert(schema.posterSetting).values({
      activityId: activityId as number,
      backgroundImg: input.poster.background_img,
      keyWord: input.poster.key_word,
      rule: input.poster.rule,
      layout: resolveLayout(input.poster.layout) as unknown as Record<string, unknown>,
      progressKeyword: input.keywords.progress,
      claimKeyword: input.keywords.claim,
    }),
  ];
}

/** The activity columns of its notices (only what differs from the defaults), 防刷 rules and claim settings. */
function reachAndRisk(input: CompleteActivity) {
  return {
    claimDeadline: input.claim_deadline,
    endWhenGone: flag(input.end_when_gone),
    notices: customNotices(input.notices),
    burstCount: input.risk.burst_count ?? null,
    burstSeconds: input.risk.burst_seconds ?? null,
    stayHours: input.risk.stay_hours ?? null,
  };
}

/** Creates an activity with its accounts, awards and poster in one D1 batch. */
export async function createActivity(db: Db, userId: number, created: ActivityInput, now = Date.now()): Promise<number> {
  const input = withDefaults(created);
  const accounts = await validate(db, userId, input);
  const [inserted] = await db.batch([
    db
      .insert(schema.activity)
      .values({
        mtbUserId: userId,
        name: input.name,
        startTime: input.start_time,
        endTime: input.end_time,
        protectSwitch: input.protect_switch,
        unsubscribeDeduct: flag(input.unsubscribe_deduct),
        ...reachAndRisk(input),
        createdAt: now,
        updatedAt: now,
      })
      .returning({ id: schema.activity.id }),
    ...childRows(
      db,
      lastActivityId,
      input,
      accounts.map((a) => a.id),
    ),
  ]);
  return inserted[0].id;
}

/** Whether a lookup also finds deleted activities (their records stay readable: figures, stats, fans). */
export interface Deleted {
  includeDeleted?: boolean;
}

/** One of the operator's activities, or 404 (deleted ones only with includeDeleted). */
export async function ownedActivity(db: Db, userId: number, id: number, { includeDeleted = false }: Deleted = {}) {
  const a = await db.query.activity.findFirst({
    where: and(eq(schema.activity.id, id), eq(schema.activity.mtbUserId, userId), includeDeleted ? undefined : isNull(schema.activity.deletedAt)),
  });
  if (!a) throw notFound('活动');
  return a;
}

/** Loads an activity as its input shape (what an edit starts from). */
async function currentInput(db: Db, activityId: number): Promise<CompleteActivity> {
  const a = (await db.query.activity.findFirst({ where: eq(schema.activity.id, activityId) }))!;
  const [publics, awards, poster] = await db.batch([
    db
      .select({ appid: schema.publicNumbers.authorizerAppid })
      .from(schema.publicJoinActivity)
      .innerJoin(schema.publicNumbers, eq(schema.publicNumbers.id, schema.publicJoinActivity.accountId))
      .where(eq(schema.publicJoinActivity.activityId, activityId)),
    db.select().from(schema.award).where(eq(schema.award.activityId, activityId)).orderBy(schema.award.level),
    db.select().from(schema.posterSetting).where(eq(schema.posterSetting.activityId, activityId)),
  ]);
  return {
    name: a.name,
    start_time: a.startTime,
    end_time: a.endTime,
    protect_switch: a.protectSwitch === ProtectSwitch.off ? ProtectSwitch.off : ProtectSwitch.on,
    unsubscribe_deduct: a.unsubscribeDeduct === Flag.yes,
    publics: publics.map((p) => p.appid),
    awards: awards.map((w) => ({ level: w.level, number: w.number, good: w.good, stock: w.stock, kind: w.kind })),
    poster: { background_img: poster[0].backgroundImg, key_word: poster[0].keyWord, rule: poster[0].rule, layout: poster[0].layout ?? undefined },
    keywords: { progress: poster[0].progressKeyword, claim: poster[0].claimKeyword },
    notices: storedNotices(a.notices),
    risk: { burst_count: a.burstCount, burst_seconds: a.burstSeconds, stay_hours: a.stayHours },
    claim_deadline: a.claimDeadline,
    end_when_gone: a.endWhenGone === Flag.yes,
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Once started, only these may change (PRODUCT §2.1): name, end_time, rule, prizes and stock, and
 * the poster's layout (fans' posters are re-rendered with it when they next open their link).
 */
function lockedChanges(before: CompleteActivity, after: CompleteActivity): Fields {
  const fields: Fields = {};
  const locked = '活动开始后不能修改';
  if (after.start_time !== before.start_time) fields.start_time = locked;
  if (after.protect_switch !== before.protect_switch) fields.protect_switch = locked;
  if (after.unsubscribe_deduct !== before.unsubscribe_deduct) fields.unsubscribe_deduct = locked;
  if (!same([...after.publics].sort(), [...before.publics].sort())) fields.publics = locked;
  if (after.poster.key_word !== before.poster.key_word) fields['poster.key_word'] = locked;
  if (after.keywords.progress !== before.keywords.progress) fields['keywords.progress'] = locked;
  if (after.keywords.claim !== before.keywords.claim) fields['keywords.claim'] = locked;
  if (after.poster.background_img !== before.poster.background_img) fields['poster.background_img'] = locked;
  const byLevel = new Map(before.awards.map((a) => [a.level, a]));
  if (after.awards.length !== before.awards.length) fields.awards = '活动开始后不能增减奖励档位';
  after.awards.forEach((a, i) => {
    const b = byLevel.get(a.level);
    if (!b) fields[`awards.${i}.level`] = locked;
    else if (a.number !== b.number) fields[`awards.${i}.number`] = locked;
    else if (a.kind !== b.kind) fields[`awards.${i}.kind`] = locked;
  });
  return fields;
}

/** What editing needs: D1, and the counters whose cached settings an edit makes stale. */
export interface ActivityDeps {
  db: Db;
  counters: Counters;
}

/** Every leaf of a settings object by its path (`awards.0.stock`, `notices.claim.template.data.thing1`), as JSON. */
function leaves(value: unknown, path = ''): Map<string, string> {
  if (value === null || typeof value !== 'object') return new Map([[path, JSON.stringify(value ?? null)]]);
  return new Map(Object.entries(value).flatMap(([k, v]) => [...leaves(v, path ? `${path}.${k}` : k)]));
}

/** The settings an edit changed, by path (template bindings included, as notices). */
function changedFields(before: CompleteActivity, after: CompleteActivity): string[] {
  const was = leaves({ ...before, notices: customNotices(before.notices) ?? {} });
  const now = leaves({ ...after, notices: customNotices(after.notices) ?? {} });
  return [...new Set([...was.keys(), ...now.keys()])].filter((k) => was.get(k) !== now.get(k)).sort();
}

/**
 * Applies a partial edit. Before the start anything may change; afterwards only name, end_time,
 * rule, prizes and stock, the poster layout, notices and 防刷 rules (fields sent unchanged are fine, so a full form can
 * be resubmitted). Keywords, notices (per scene) and rules merge into what is stored. The
 * activity's counter reloads its settings at once, and so does this isolate's copy of its
 * wording (other isolates within seconds). Returns what an edit after the start changed (for the
 * audit log); an edit before the start returns nothing.
 */
export async function updateActivity({ db, counters }: ActivityDeps, userId: number, id: number, patch: ActivityPatch, now = Date.now()): Promise<string[]> {
  const activity = await ownedActivity(db, userId, id);
  const before = await currentInput(db, id);
  const merged = <T extends object>(was: T, change: Partial<T> | undefined): T => ({
    ...was,
    ...Object.fromEntries(Object.entries(change ?? {}).filter(([, v]) => v !== undefined)),
  });
  const after: CompleteActivity = {
    ...before,
    ...Object.fromEntries(Object.entries(patch).filter(([k, v]) => v !== undefined && !['awards', 'poster', 'keywords', 'notices', 'risk'].includes(k))),
    // A tier sent without its kind keeps the one it has (a new tier is onsite).
    awards: (patch.awards ?? before.awards).map((a) => ({ ...a, kind: a.kind ?? before.awards.find((b) => b.level === a.level)?.kind ?? 'onsite' })),
    poster: merged(before.poster, patch.poster),
    keywords: merged(before.keywords, patch.keywords ?? {}),
    notices: mergeNotices(before.notices, patch.notices),
    risk: merged(before.risk, patch.risk),
  } as CompleteActivity;
  const started = activityStatus(activity, now) !== 'pending';
  if (started) {
    const fields = lockedChanges(before, after);
    if (after.end_time <= now && after.end_time !== before.end_time) fields.end_time = '结束时间不能早于现在';
    if (Object.keys(fields).length)
      throw new AppError('validation_failed', '活动已开始，只能修改名称、结束时间、规则、海报布局、奖品与库存、通知文案与防刷规则', fields);
  }
  const accounts = await validate(db, userId, after, id);
  await db.batch([
    db
      .update(schema.activity)
      .set({
        name: after.name,
        startTime: after.start_time,
        endTime: after.end_time,
        protectSwitch: after.protect_switch,
        unsubscribeDeduct: flag(after.unsubscribe_deduct),
        ...reachAndRisk(after),
        updatedAt: now,
      })
      .where(eq(schema.activity.id, id)),
    db.delete(schema.publicJoinActivity).where(eq(schema.publicJoinActivity.activityId, id)),
    db.delete(schema.award).where(eq(schema.award.activityId, id)),
    db.delete(schema.posterSetting).where(eq(schema.posterSetting.activityId, id)),
    ...childRows(
      db,
      id,
      after,
      accounts.map((a) => a.id),
    ),
  ]);
  await counters(id).reload();
  forgetReachSettings(id);
  return started ? changedFields(before, after) : [];
}

/** Soft delete: shared posters keep resolving (to "活动已结束"), fans' history stays; the counter stops counting at once. */
export async function deleteActivity({ db, counters }: ActivityDeps, userId: number, id: number, now = Date.now()): Promise<void> {
  await ownedActivity(db, userId, id);
  await db.update(schema.activity).set({ deletedAt: now, updatedAt: now }).where(eq(schema.activity.id, id));
  await counters(id).reload();
  forgetReachSettings(id);
}

export interface ActivityFilters extends Deleted {
  status?: ActivityStatus;
  account?: string;
  q?: string;
  page: number;
  pageSize: number;
}

function statusCondition(status: ActivityStatus | undefined, now: number) {
  if (status === 'pending') return gt(schema.activity.startTime, now);
  if (status === 'running') return and(lte(schema.activity.startTime, now), gt(schema.activity.endTime, now));
  if (status === 'ended') return lte(schema.activity.endTime, now);
  return undefined;
}

/**
 * The operator's activities, newest first, filtered and paginated, with their figures. Deleted ones
 * only when asked for (the statistics and fans pages still offer them).
 */
export async function listActivities(db: Db, userId: number, f: ActivityFilters, now = Date.now()): Promise<{ items: ActivityDetail[]; total: number }> {
  const where = and(
    eq(schema.activity.mtbUserId, userId),
    f.includeDeleted ? undefined : isNull(schema.activity.deletedAt),
    statusCondition(f.status, now),
    f.q ? sql`${schema.activity.name} LIKE ${likePattern(f.q)} ESCAPE '\\'` : undefined,
    f.account
      ? sql`${schema.activity.id} IN (SELECT pja.activity_id FROM public_join_activity pja JOIN public_numbers pn ON pn.id = pja.public_id WHERE pn.authorizer_appid = ${f.account} AND pn.user_id = ${userId})`
      : undefined,
  );
  const page = db
    .select({ id: schema.activity.id })
    .from(schema.activity)
    .where(where)
    .orderBy(desc(schema.activity.id))
    .limit(f.pageSize)
    .offset((f.page - 1) * f.pageSize);
  // One D1 round trip: the views' queries select by the page query itself.
  const [rows, [{ total }], ...views] = await db.batch([page, db.select({ total: count() }).from(schema.activity).where(where), ...detailQueries(db, page)]);
  return {
    items: buildDetails(
      rows.map((r) => r.id),
      views,
    ),
    total,
  };
}

/** One of the operator's activities with everything the admin shows of it (404 when not theirs, or deleted unless asked for). */
export async function getActivity(db: Db, userId: number, id: number, deleted: Deleted = {}): Promise<ActivityDetail> {
  await ownedActivity(db, userId, id, deleted);
  return buildDetails([id], await db.batch(detailQueries(db, [id])))[0];
}

/**
 * The queries behind an activity's details for a set of activities: a list of ids or a query
 * selecting them (so a page and its details go in one D1 batch), its figures included.
 */
function detailQueries(db: Db, ids: number[] | SQLWrapper) {
  return [
    db.select().from(schema.activity).where(inArray(schema.activity.id, ids)),
    db
      .select({ activityId: schema.publicJoinActivity.activityId, account: schema.publicNumbers })
      .from(schema.publicJoinActivity)
      .innerJoin(schema.publicNumbers, eq(schema.publicNumbers.id, schema.publicJoinActivity.accountId))
      .where(inArray(schema.publicJoinActivity.activityId, ids)),
    db.select().from(schema.award).where(inArray(schema.award.activityId, ids)).orderBy(schema.award.level),
    db.select().from(schema.posterSetting).where(inArray(schema.posterSetting.activityId, ids)),
    tierTallies(db, ids),
    importedCodeCounts(db, ids),
    ...figureQueries(db, ids),
  ] as const;
}

type Results<T extends readonly unknown[]> = { readonly [K in keyof T]: Awaited<T[K]> };
type DetailRows = Results<ReturnType<typeof detailQueries>>;

/** A tier with its prizes: won (not void), and what is left (null: nothing limits it). */
export type AwardDetail = typeof schema.award.$inferSelect & { won: number; left: number | null };

/** An activity with its accounts, tiers, poster settings and figures. */
export interface ActivityDetail {
  activity: typeof schema.activity.$inferSelect;
  accounts: Account[];
  awards: AwardDetail[];
  poster: typeof schema.posterSetting.$inferSelect;
  figures: ActivityFigures;
}

/** The details of `ids` (order kept) from the results of {@link detailQueries}. */
function buildDetails(ids: number[], [activities, accounts, awards, posters, tallies, codes, ...figureRows]: DetailRows): ActivityDetail[] {
  return ids.map((id) => {
    const tierOf = (w: typeof schema.award.$inferSelect): AwardDetail => {
      const t = tallies.find((x) => x.activityId === id && x.level === w.level);
      const imported = codes.find((x) => x.activityId === id && x.level === w.level)?.codes ?? 0;
      return { ...w, won: Number(t?.won ?? 0), left: tierLeft(w, t?.taken ?? 0, imported) };
    };
    return {
      activity: activities.find((x) => x.id === id)!,
      accounts: accounts.filter((x) => x.activityId === id).map((x) => x.account),
      awards: awards.filter((w) => w.activityId === id).map(tierOf),
      poster: posters.find((p) => p.activityId === id)!,
      figures: figuresOf(id, figureRows),
    };
  });
}
