#!/usr/bin/env python3
"""Seeds the local D1 file (wrangler stopped) with one operator's 100 activities and 1,000,000
take_part_in rows, following migrations/0000_init.sql, then prints what it made as JSON.

Distributions (deterministic, seeded):
- activity sizes ~ Zipf(0.8) in shuffled id order: one big campaign (~120k rows), a long tail;
- rows arrive in time order over the last 30 days; ~22% are participants (sent the keyword:
  part_in 0, origin 2 "other" or 1 "promo", a few 0), the rest helpers (part_in 1, origin 0,
  origin_open_id = an earlier participant of the same activity, level = theirs + 1);
- good inviters are rarer than bad ones (quadratic skew), so `number` has a long tail;
- ~15% unfollowed (looking 1, unsubscribe_time set, assist no longer counted), 0.5% blacklisted;
- number / task_progress are consistent with the counted helpers and tiers 3 / 10 / 30.
Input: a JSON job on stdin.
"""
import bisect
import json
import random
import sqlite3
import sys
import time

DAY = 86_400_000
TIERS = (3, 10, 30)
# Positions in each generated row.
ROW_COLUMNS = [
    "id", "activity_id", "public_number_id", "open_id", "nick_name", "avatar", "origin", "looking", "part_in", "poster",
    "black", "level", "origin_open_id", "number", "task_progress", "assist_counted", "ctime", "subscribe_time", "unsubscribe_time",
]
# Columns that are the same for every row of this operator (added to the schema over time).
EXTRA_COLUMNS = {"mtb_user_id": lambda user_id: user_id}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "小明华丽强军敏静伟芳娜秀英杰涛磊洋艳勇超霞平刚桂兰玉梅晨曦雨欣"
LATIN = ["Lucky", "Amy", "Tom", "Coco", "Jerry", "Momo", "Kiki", "Leo"]


def nickname(rng):
    r = rng.random()
    if r < 0.12:
        return rng.choice(LATIN) + str(rng.randint(1, 999))
    if r < 0.15:
        return None
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def main():
    job = json.load(sys.stdin)
    t_start = time.time()
    rng = random.Random(job.get("seed", 20261123))
    con = sqlite3.connect(job["db"], isolation_level=None)
    # workerd keeps the file in WAL mode; stay in it, and checkpoint at the end.
    con.execute("PRAGMA synchronous=OFF")
    cur = con.cursor()
    user_id = job["user_id"]
    now = job["now_ms"]
    n_rows = job["rows"]
    n_acts = job["activities"]

    cur.execute("BEGIN")
    # Explicit times everywhere: the schema's defaults use unixepoch('subsec') (SQLite ≥ 3.42),
    # which this python's SQLite may not have.
    # Accounts of the operator (authorized, verified service accounts).
    accounts = []
    for i in range(job["accounts"]):
        appid = f"wxbench{job['tag']}{i:02d}"
        cur.execute(
            "INSERT INTO public_numbers (user_id, authorizer_appid, nick_name, user_name, service_type, verify_type, refresh_token, authorized_at, updated_at)"
            " VALUES (?,?,?,?,2,0,?,?,?)",
            (user_id, appid, f"压测服务号{i + 1}", f"gh_bench{i:02d}", f"refresh-{appid}", now - 60 * DAY, now - 60 * DAY),
        )
        accounts.append((cur.lastrowid, appid))
    promos = []
    for i in range(10):
        acc = accounts[i % len(accounts)][0]
        cur.execute("INSERT INTO promo (name, public_id, mtb_user_id, created_at) VALUES (?,?,?,?)", (f"渠道{i + 1}", acc, user_id, now - 40 * DAY))
        promos.append(cur.lastrowid)

    # Activities: sizes by Zipf weight, shuffled so the big one is not simply the first id.
    weights = [1 / (k ** 0.8) for k in range(1, n_acts + 1)]
    rng.shuffle(weights)
    total_w = sum(weights)
    acts = []
    for i in range(n_acts):
        start = now - rng.randint(20, 40) * DAY
        end = now + rng.choice([-5, 3, 10, 30]) * DAY
        acc = accounts[i % len(accounts)][0]
        cur.execute(
            "INSERT INTO activity (mtb_user_id, name, start_time, end_time, protect_switch, unsubscribe_deduct, created_at, updated_at) VALUES (?,?,?,?,1,1,?,?)",
            (user_id, f"压测活动{i + 1:03d}", start, end, start - DAY, start - DAY),
        )
        aid = cur.lastrowid
        cur.execute("INSERT INTO public_join_activity (activity_id, public_id) VALUES (?,?)", (aid, acc))
        for level, number in enumerate(TIERS, 1):
            cur.execute("INSERT INTO award (activity_id, level, number, good, stock) VALUES (?,?,?,?,?)", (aid, level, number, f"奖品{level}", 1000))
        cur.execute(
            "INSERT INTO poster_setting (activity_id, background_img, key_word, rule, layout) VALUES (?,?,?,?,NULL)",
            (aid, f"bg/{user_id}/bench.jpg", f"压测{i + 1:03d}", "邀请好友扫码关注即可领奖"),
        )
        acts.append({"id": aid, "account": acc, "weight": weights[i] / total_w, "participants": []})

    # take_part_in rows, in time order (ids grow with ctime as they do in production).
    first_id = (cur.execute("SELECT coalesce(max(id), 0) FROM take_part_in").fetchone()[0]) + 1
    cum = []
    acc_w = 0.0
    for a in acts:
        acc_w += a["weight"]
        cum.append(acc_w)
    rows = []
    counted_by_owner = {}
    t0 = now - 30 * DAY
    step = (30 * DAY - 60_000) / n_rows
    for k in range(n_rows):
        row_id = first_id + k
        a = acts[min(bisect.bisect_left(cum, rng.random()), n_acts - 1)]
        ctime = int(t0 + k * step + rng.random() * step)
        open_id = f"o{row_id:012d}{rng.getrandbits(40):010x}"
        unfollowed = rng.random() < 0.15
        black = 1 if rng.random() < 0.005 else 0
        unsub = ctime + rng.randint(60_000, 5 * DAY) if unfollowed else None
        if unsub is not None and unsub > now:
            unsub = now - 1000
        if not a["participants"] or rng.random() < 0.22:
            r = rng.random()
            if r < 0.25:
                origin, origin_open = 1, str(rng.choice(promos))
            else:
                origin, origin_open = 2, None
            level = 1
            a["participants"].append((row_id, open_id, level))
            part_in, counted = 0, 0
        else:
            # Quadratic skew: early participants bring most helpers.
            owner = a["participants"][int(len(a["participants"]) * rng.random() ** 2)]
            origin, origin_open = 0, owner[1]
            level = min(owner[2] + 1, 9)
            part_in = 1
            counted = 0 if unfollowed else 1
            if counted:
                counted_by_owner[owner[0]] = counted_by_owner.get(owner[0], 0) + 1
        rows.append([
            row_id, a["id"], a["account"], open_id, nickname(rng), f"https://thirdwx.qlogo.cn/mmopen/{open_id}/132",
            origin, 1 if unfollowed else 0, part_in, None, black, level, origin_open, 0, 0, counted,
            ctime, ctime, unsub,
        ])
    for r in rows:
        n = counted_by_owner.get(r[0])
        if n:
            r[13] = n
            r[14] = sum(1 for t in TIERS if n >= t)

    # The schema moves (columns get added): insert the columns this seed knows that the table
    # has, and refuse loudly if the table requires one it does not know.
    table = {r[1]: r for r in cur.execute("PRAGMA table_info(take_part_in)")}
    unknown = [c for c, r in table.items() if c not in ROW_COLUMNS and c not in EXTRA_COLUMNS and r[3] and r[4] is None and not r[5]]
    if unknown:
        raise SystemExit(f"seed_fans.py does not know the required take_part_in column(s) {unknown}: teach it their values")
    cols = [c for c in ROW_COLUMNS if c in table]
    extra = [c for c in EXTRA_COLUMNS if c in table]
    picks = [ROW_COLUMNS.index(c) for c in cols]
    values = [EXTRA_COLUMNS[c](user_id) for c in extra]

    # Bulk load without take_part_in's secondary indexes, then rebuild them from the schema; except
    # tpi_promo_fan, which the promo-fan trigger probes on every insert (a scan of the table without it).
    idx = cur.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'take_part_in' AND sql IS NOT NULL AND name != 'tpi_promo_fan'"
    ).fetchall()
    for name, _ in idx:
        cur.execute(f'DROP INDEX "{name}"')
    cur.executemany(
        f"INSERT INTO take_part_in ({', '.join(cols + extra)}) VALUES ({', '.join('?' * (len(cols) + len(extra)))})",
        ([r[i] for i in picks] + values for r in rows),
    )
    for _, sql in idx:
        cur.execute(sql)
    cur.execute("COMMIT")
    cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    sizes = {a["id"]: 0 for a in acts}
    for r in rows:
        sizes[r[1]] += 1
    big = max(sizes, key=sizes.get)
    promo0 = str(promos[0])
    # Rows each admin filter matches (the bench picks its "deep page" from these).
    totals = {
        "all": len(rows),
        "activity": sizes[big],
        "account": sum(1 for r in rows if r[2] == accounts[0][0]),
        "promo": sum(1 for r in rows if r[6] == 1 and r[12] == promo0),
        "origin_poster": sum(1 for r in rows if r[6] == 0),
        "unfollowed": sum(1 for r in rows if r[7] == 1),
        "black": sum(1 for r in rows if r[10] == 1),
        "progress3": sum(1 for r in rows if r[14] == 3),
        "nick_xiao": sum(1 for r in rows if r[4] and "小" in r[4]),
    }
    print(json.dumps({
        "activities": [a["id"] for a in acts],
        "biggest_activity": big,
        "biggest_rows": sizes[big],
        "accounts": [appid for _, appid in accounts],
        "totals": totals,
        "promos": promos,
        "rows": len(rows),
        "seconds": round(time.time() - t_start, 1),
        "indexes_rebuilt": [name for name, _ in idx],
    }))


if __name__ == "__main__":
    main()
