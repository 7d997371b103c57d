import type { Db } from '../db/client';
import { formatShanghai } from '../lib/time';
import { type StoredNotices, storedNotices } from './notices';

/** A prize tier as reach needs it. */
export interface ReachTier {
  level: number;
  number: number;
  good: string;
  stock: number | null;
}

/** What wording an activity's notices and answers needs of it: its texts, templates, keywords and tiers. */
export interface ReachSettings {
  id: number;
  name: string;
  startTime: number;
  endTime: number;
  /** The end as fans read it ("2026-11-30 20:00", Beijing time). */
  endText: string;
  deleted: boolean;
  rule: string;
  keyword: string;
  progressKeyword: string;
  claimKeyword: string;
  tiers: ReachTier[];
  notices: StoredNotices;
}

/**
 * Every notice and every assist's thanks is worded with its activity's settings, so each isolate
 * keeps them briefly (an edit shows within this long everywhere, at once where it was made).
 */
const TTL_MS = 10_000;
const MAX_CACHED = 5_000;
const cache = new Map<number, { settings: ReachSettings | undefined; at: number }>();

const ACTIVITIES = `SELECT a.id, a.name, a.start_time, a.end_time, a.deleted_at, a.notices, p.key_word, p.rule, p.progress_keyword, p.claim_keyword
  FROM json_each(?1) AS j JOIN activity AS a ON a.id = j.value JOIN poster_setting AS p ON p.activity_id = a.id`;
const TIERS = `SELECT w.activity_id, w.level, w.number, w.good, w.stock FROM json_each(?1) AS j JOIN award AS w ON w.activity_id = j.value ORDER BY w.level`;

/** The activities of `ids` this isolate holds fresh, and the ids it must read. */
export function cachedReachSettings(ids: number[], now: number): { hit: Map<number, ReachSettings>; missing: number[] } {
  const hit = new Map<number, ReachSettings>();
  const missing: number[] = [];
  for (const id of new Set(ids)) {
    const c = cache.get(id);
    if (c && now - c.at < TTL_MS) {
      if (c.settings) hit.set(id, c.settings);
    } else missing.push(id);
  }
  return { hit, missing };
}

/** The two statements that read activities' settings (for a caller's D1 batch). */
export function reachSettingsQueries(d1: D1Database, ids: number[]): [D1PreparedStatement, D1PreparedStatement] {
  const json = JSON.stringify(ids);
  return [d1.prepare(ACTIVITIES).bind(json), d1.prepare(TIERS).bind(json)];
}

type Row = Record<string, unknown>;

/** Builds (and keeps) the settings of `ids` from the results of {@link reachSettingsQueries}. */
export function keepReachSettings(ids: number[], [activities, tiers]: [Row[], Row[]], now: number): Map<number, ReachSettings> {
  if (cache.size >= MAX_CACHED) cache.clear();
  const out = new Map<number, ReachSettings>();
  for (const id of ids) {
    const a = activities.find((r) => Number(r.id) === id);
    const settings: ReachSettings | undefined = a && {
      id,
      name: String(a.name),
      startTime: Number(a.start_time),
      endTime: Number(a.end_time),
      endText: formatShanghai(Number(a.end_time)),
      deleted: a.deleted_at !== null,
      rule: String(a.rule),
      keyword: String(a.key_word),
      progressKeyword: String(a.progress_keyword),
      claimKeyword: String(a.claim_keyword),
      tiers: tiers
        .filter((t) => Number(t.activity_id) === id)
        .map((t) => ({ level: Number(t.level), number: Number(t.number), good: String(t.good), stock: t.stock === null ? null : Number(t.stock) })),
      notices: storedNotices(typeof a.notices === 'string' ? JSON.parse(a.notices) : null),
    };
    cache.set(id, { settings, at: now });
    if (settings) out.set(id, settings);
  }
  return out;
}

/** Reads in flight, by activity: a burst of assists on a cold isolate waits for one read, not one each. */
const loading = new Map<number, Promise<ReachSettings | undefined>>();

/** The settings of activities (missing ones are not in the map), from this isolate's copy or D1. */
export async function loadReachSettings(db: Db, ids: number[], now = Date.now()): Promise<Map<number, ReachSettings>> {
  const { hit, missing } = cachedReachSettings(ids, now);
  const unread = missing.filter((id) => !loading.has(id));
  if (unread.length) {
    const d1 = db.$client;
    const read = d1
      .batch<Row>(reachSettingsQueries(d1, unread))
      .then(([activities, tiers]) => keepReachSettings(unread, [activities.results, tiers.results], now));
    for (const id of unread) {
      const one = read.then((m) => m.get(id)).finally(() => loading.delete(id));
      loading.set(id, one);
    }
  }
  const reads = missing.map((id) => [id, loading.get(id)] as const);
  for (const [id, read] of reads) {
    const s = await read;
    if (s) hit.set(id, s);
  }
  return hit;
}

/** Drops this isolate's copy of an activity's settings (the operator just edited them). */
export function forgetReachSettings(id: number): void {
  cache.delete(id);
}
